/**
 * Clusters of 3-10 Memberships on the simulated network with real but fast
 * timers (localConfig): join, failure detection, pause and refutation,
 * partition healing, graceful leave. Every wait is a deadline poll.
 */
import t from 'tap';
import { defaultConfig, localConfig, suspicionTimeouts } from '../../src/index.js';
import { SimCluster } from './sim-network.js';

const cfg = localConfig();

t.test('Membership join through one seed converges with everyone alive and their meta', async (t) => {
  const c = new SimCluster({ size: 6 });
  t.teardown(() => c.shutdown());
  await c.joinAllThrough(0);
  const ms = await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 3000, 'all alive everywhere');
  t.ok(ms < 3000);
  t.same(c.members[5]!.member('n2')?.meta, { index: 2 });
  t.equal(c.members[3]!.members().length, 6);
  t.same(c.seen('suspect'), [], 'nobody was suspected');
});

t.test('Membership a killed node is declared dead by every other node within the configured bound', async (t) => {
  const c = new SimCluster({ size: 5 });
  t.teardown(() => c.shutdown());
  await c.joinAllThrough(0);
  await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 3000, 'convergence');
  c.sims[4]!.kill(false); // silent death: found by probing alone
  // Worst case: a whole probe round, one probe window, then a lone suspicion's maximum.
  const bound = 4 * cfg.probeIntervalMs + cfg.probeIntervalMs + suspicionTimeouts(cfg, 5).maxMs;
  const ms = await c.waitFor(() => c.sees(c.indexes(4), [4], 'dead'), bound, 'n4 dead everywhere');
  t.ok(ms <= bound, `detected in ${ms} ms (bound ${bound} ms)`);
  t.ok(c.sees(c.indexes(4), c.indexes(4), 'alive'), 'survivors still alive to each other');
  t.same(
    c.seen('member-dead').filter((e) => e.member !== 'n4'),
    [],
  );
});

t.test('Membership a disconnect hint gets a killed node declared dead near the suspicion minimum', async (t) => {
  const c = new SimCluster({ size: 3, config: defaultConfig() });
  t.teardown(() => c.shutdown());
  await c.joinAllThrough(0);
  await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 3000, 'convergence');
  c.sims[2]!.kill(true); // connections close at once, as after SIGKILL
  const { minMs } = suspicionTimeouts(c.members[0]!.config, 3);
  const ms = await c.waitFor(() => c.sees([0, 1], [2], 'dead'), minMs + 1500, 'n2 dead at n0 and n1');
  t.ok(ms < minMs + 500, `detected in ${ms} ms with the default config (suspicion minimum ${minMs} ms)`);
});

t.test('Membership a node paused past the failure timeout refutes and rejoins when it resumes', async (t) => {
  const c = new SimCluster({ size: 4 });
  t.teardown(() => c.shutdown());
  await c.joinAllThrough(0);
  await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 3000, 'convergence');
  const before = c.members[3]!.localMember().incarnation;
  c.sims[3]!.pause();
  await c.waitFor(() => c.sees([0, 1, 2], [3], 'dead'), 5000, 'n3 dead while paused');
  c.sims[3]!.resume();
  await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 5000, 'n3 back alive everywhere');
  t.ok(c.members[3]!.localMember().incarnation > before, 'it refuted with a higher incarnation');
  t.ok(
    c.seen('member-join').some((e) => e.member === 'n3' && e.node !== 'n3'),
    'others saw it join again',
  );
  t.same(
    c.seen('member-dead').filter((e) => e.member !== 'n3'),
    [],
    'nobody else died',
  );
});

t.test('Membership a network split heals by itself once the links are back', async (t) => {
  const c = new SimCluster({ size: 6 });
  t.teardown(() => c.shutdown());
  await c.joinAllThrough(0);
  await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 3000, 'convergence');
  const left = [0, 1, 2];
  const right = [3, 4, 5];
  c.network.partition(left.map(SimCluster.address), right.map(SimCluster.address));
  await c.waitFor(() => c.sees(left, right, 'dead') && c.sees(right, left, 'dead'), 8000, 'each side buried the other');
  await c.waitFor(() => c.sees(left, left, 'alive') && c.sees(right, right, 'alive'), 3000, 'each side whole');
  c.network.heal();
  const ms = await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 8000, 'healed: all alive everywhere');
  t.ok(ms < 8000, `healed in ${ms} ms`);
});

t.test('Membership leave: others see left, not dead', async (t) => {
  const c = new SimCluster({ size: 4 });
  t.teardown(() => c.shutdown());
  await c.joinAllThrough(0);
  await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 3000, 'convergence');
  const leaving = c.members[3]!.leave();
  t.equal(c.members[3]!.leave(), leaving, 'leave twice: the same promise');
  await leaving;
  await c.waitFor(() => c.sees([0, 1, 2], [3], 'left'), 2000, 'n3 left everywhere');
  await c.pass(4 * cfg.probeIntervalMs);
  t.ok(c.sees([0, 1, 2], [3], 'left'), 'still left, never dead');
  t.same(c.seen('member-dead'), []);
  t.equal(c.seen('member-leave').length, 3);
  t.equal(await c.members[3]!.handleMessage('n0:7000', { kind: 7, updates: [] }), undefined, 'stopped');
});

t.test('Membership 10 nodes with 2% message loss converge and declare nobody dead', async (t) => {
  const c = new SimCluster({ size: 10, lossRate: 0.02, seed: 11 });
  t.teardown(() => c.shutdown());
  await c.joinAllThrough(0).catch(() => {}); // a lost join reply is retried by the reconnection loop
  await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 5000, 'convergence under loss');
  await c.pass(2000);
  t.same(c.seen('member-dead'), [], 'suspicions (if any) were refuted in time');
  t.ok(c.sees(c.indexes(), c.indexes(), 'alive'));
});

t.test('Membership setMeta reaches every member under a new incarnation', async (t) => {
  const c = new SimCluster({ size: 4 });
  t.teardown(() => c.shutdown());
  await c.joinAllThrough(0);
  await c.waitFor(() => c.sees(c.indexes(), c.indexes(), 'alive'), 3000, 'convergence');
  c.members[2]!.setMeta({ index: 2, syncing: true });
  await c.waitFor(
    () => [0, 1, 3].every((i) => c.members[i]!.member('n2')?.meta?.syncing === true),
    2000,
    'meta gossiped',
  );
  t.equal(c.members[0]!.member('n2')?.incarnation, c.members[2]!.localMember().incarnation);
});
