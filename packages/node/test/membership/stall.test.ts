/**
 * Lifeguard against our own event loop: stalled nodes (timers and handlers
 * wait behind the stall, the lag monitor reports it) must not get healthy
 * peers suspected, and must not be suspected themselves while their stalls
 * stay below the probe timeout. Long runs use virtual time.
 */
import t from 'tap';
import { defaultConfig, seededRandom, VirtualScheduler } from '../../src/index.js';
import { SimCluster } from './sim-network.js';

/** Stalls node `i` for `stallMs` every `gapMs`..2×`gapMs` (random) until `untilMs` of scheduler time. */
function injectStalls(c: SimCluster, i: number, stallMs: number, gapMs: number, untilMs: number, seed: number): void {
  const random = seededRandom(seed);
  const next = (): void => {
    c.scheduler.setTimeout(
      () => {
        if (c.scheduler.now() >= untilMs) return;
        c.sims[i]!.stall(stallMs);
        c.scheduler.setTimeout(next, stallMs);
      },
      gapMs * (1 + random.next()),
    );
  };
  next();
}

for (const driftCheck of [true, false]) {
  const name = driftCheck
    ? 'Membership a probe whose deadline fired while our own loop stalled does not count against the peer'
    : 'Membership without the drift check, the same stall turns a healthy peer into a suspect (control)';
  t.test(name, async (t) => {
    const scheduler = new VirtualScheduler();
    const config = driftCheck ? defaultConfig() : { ...defaultConfig(), timerDriftToleranceMs: 1_000_000 };
    const c = new SimCluster({ size: 2, scheduler, config });
    t.teardown(() => c.shutdown());
    await c.joinAllThrough(0);
    await c.waitFor(() => c.sees([0, 1], [0, 1], 'alive'), 5000, 'convergence');
    c.members[0]!.onPeerDisconnected('n1:7000'); // a probe of n1 starts now, its ping is in flight...
    c.sims[0]!.stall(2500); // ...and our loop blocks past the whole probe window and the request timeout
    await c.pass(6000);
    const suspectedByN0 = c.seen('suspect').filter((e) => e.node === 'n0' && e.member === 'n1');
    if (driftCheck) {
      t.same(suspectedByN0, [], 'n0 did not suspect n1');
      t.equal(c.stateOf(0, 1), 'alive');
    } else t.ok(suspectedByN0.length > 0, 'n0 suspected n1');
  });
}

t.test(
  'Membership 200 ms stalls on every node for 60 s cause no suspicion (default config, virtual time)',
  async (t) => {
    const scheduler = new VirtualScheduler();
    const c = new SimCluster({ size: 5, scheduler, config: defaultConfig(), latencyMs: [1, 5] });
    t.teardown(() => c.shutdown());
    await c.joinAllThrough(0);
    await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 10_000, 'convergence');
    const end = scheduler.now() + 60_000;
    for (let i = 0; i < 5; i++) injectStalls(c, i, 200, 400, end, 100 + i);
    let maxScore = 0;
    await c.waitFor(
      () => {
        maxScore = Math.max(maxScore, ...c.members.map((m) => m.healthScore));
        return scheduler.now() >= end;
      },
      61_000,
      '60 s of stalls',
    );
    t.same(c.seen('suspect'), [], 'no member was ever suspected');
    t.same(c.seen('member-dead'), []);
    t.ok(maxScore > 0, `stalled nodes widened their own timeouts (max health score ${maxScore})`);
  },
);

t.test('Membership a node stalling 200 ms out of every 400 ms gets nobody suspected (real timers)', async (t) => {
  const c = new SimCluster({ size: 4, config: { probeIntervalMs: 500, probeTimeoutMs: 250 } });
  t.teardown(() => c.shutdown());
  await c.joinAllThrough(0);
  await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 3000, 'convergence');
  const end = Date.now() + 3000;
  let stalls = 0;
  await c.waitFor(
    () => {
      if (c.sims[1]!.state === 'running' && Date.now() % 400 < 200) {
        c.sims[1]!.stall(200);
        stalls++;
      }
      return Date.now() >= end;
    },
    4000,
    '3 s of stalls',
  );
  t.ok(stalls >= 5, `${stalls} stalls injected`);
  t.same(c.seen('suspect'), [], 'nobody suspected: neither the stalled node nor its peers');
  t.ok(c.sees(c.indexes(), c.indexes(), 'alive'));
});
