/**
 * The small parts of membership, each alone: config resolution and formulas,
 * message validation, the broadcast queue, local health, stall-aware
 * deadlines and virtual time.
 */
import { pack, unpack } from 'msgpackr';
import t from 'tap';
import {
  defaultConfig,
  isShoalError,
  MembershipMessageKind as K,
  localConfig,
  pushPullInterval,
  resolveMembershipConfig,
  retransmitLimit,
  suspicionTimeouts,
  VirtualScheduler,
  validateMembershipMessage,
  wanConfig,
} from '../../src/index.js';
import { Awareness } from '../../src/membership/awareness.js';
import { BroadcastQueue } from '../../src/membership/broadcast-queue.js';
import { TimerGroup } from '../../src/membership/timers.js';

/** The error `fn` throws, or undefined. */
function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

t.test('Membership config presets are frozen, valid and keep probe timeout below the interval', async (t) => {
  for (const preset of [defaultConfig(), wanConfig(), localConfig()]) {
    t.ok(Object.isFrozen(preset));
    t.same(resolveMembershipConfig(preset), preset, 'a preset resolves to itself');
    t.ok(preset.probeTimeoutMs < preset.probeIntervalMs);
  }
  t.match(defaultConfig(), { probeIntervalMs: 1000, probeTimeoutMs: 500, suspicionMult: 2 });
});

t.test('Membership config rejects bad options naming them', async (t) => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ probeIntervalMs: 0 }, 'membership.probeIntervalMs'],
    [{ probeTimeoutMs: 1000 }, 'membership.probeTimeoutMs'],
    [{ indirectChecks: -1 }, 'membership.indirectChecks'],
    [{ suspicionMult: 1.5 }, 'membership.suspicionMult'],
    [{ gossipNodes: '3' }, 'membership.gossipNodes'],
    [{ reconnectMaxIntervalMs: 10 }, 'membership.reconnectMaxIntervalMs'],
    [{ probeInterval: 100 }, 'membership.probeInterval'],
  ];
  for (const [options, option] of bad) {
    const err = caught(() => resolveMembershipConfig(options));
    t.ok(isShoalError(err, 'SHOAL_CONFIG_INVALID') && err.details?.option === option, option);
  }
  t.equal(resolveMembershipConfig({ probeIntervalMs: 2000 }).probeTimeoutMs, 500, 'over the LAN preset');
});

t.test('Membership formulas scale with log(N) and the push-pull interval with N beyond the threshold', async (t) => {
  const cfg = defaultConfig();
  t.same(suspicionTimeouts(cfg, 3), { minMs: 2000, maxMs: 12_000, confirmations: 1 });
  t.same(suspicionTimeouts(cfg, 100), { minMs: 4000, maxMs: 24_000, confirmations: 3 });
  t.same(suspicionTimeouts(cfg, 1), { minMs: 2000, maxMs: 12_000, confirmations: 0 });
  t.equal(retransmitLimit(cfg, 3), 4);
  t.equal(retransmitLimit(cfg, 10), 8);
  t.equal(retransmitLimit(cfg, 100), 12);
  t.equal(pushPullInterval(cfg, 8), 30_000);
  t.equal(pushPullInterval(cfg, 100), 375_000);
});

t.test('Membership messages survive msgpack and validation', async (t) => {
  const messages = [
    { kind: K.Ping, from: 'a', target: 'b', updates: [{ kind: K.Alive, id: 'c', address: 'c:1', incarnation: 2 }] },
    { kind: K.Ack },
    { kind: K.PingReq, target: 'b', address: 'b:1', timeoutMs: 400 },
    { kind: K.Nack, updates: [{ kind: K.Left, id: 'c', incarnation: 3 }] },
    { kind: K.PushPull, from: 'a', members: [{ id: 'a', address: 'a:1', state: 'alive', incarnation: 0, meta: {} }] },
    { kind: K.PushPullReply, from: 'b', members: [] },
    { kind: K.Gossip, updates: [{ kind: K.Suspect, id: 'c', incarnation: 1, from: 'a' }] },
  ];
  for (const m of messages) t.same(validateMembershipMessage(unpack(pack(m))), m);
});

t.test('Membership message validation rejects malformed input with SHOAL_PROTOCOL_INVALID', async (t) => {
  const bad: unknown[] = [
    null,
    [],
    { kind: 99 },
    { kind: K.Ping, from: '', target: 'b' },
    { kind: K.Ping, from: 'a' },
    { kind: K.PingReq, target: 'b', address: 'b:1', timeoutMs: -1 },
    { kind: K.Gossip },
    { kind: K.Gossip, updates: [{ kind: K.Alive, id: 'c', incarnation: 1 }] },
    { kind: K.Gossip, updates: [{ kind: K.Dead, id: 'c', incarnation: 1.5, from: 'a' }] },
    { kind: K.Gossip, updates: [{ kind: K.Ping, id: 'c', incarnation: 1 }] },
    { kind: K.PushPull, from: 'a', members: [{ id: 'a', address: 'a:1', state: 'zombie', incarnation: 0 }] },
    { kind: K.PushPull, from: 'a', members: [{ id: 'a', address: 'a:1', state: 'alive', incarnation: 0, meta: [1] }] },
    { kind: K.Ack, updates: 'x' },
  ];
  for (const value of bad) {
    t.ok(
      isShoalError(
        caught(() => validateMembershipMessage(value)),
        'SHOAL_PROTOCOL_INVALID',
      ),
      JSON.stringify(value),
    );
  }
});

t.test('Membership broadcast queue sends each update a limited number of times, newest news first', async (t) => {
  const q = new BroadcastQueue(() => 2);
  q.enqueue({ kind: K.Alive, id: 'a', address: 'a:1', incarnation: 1 });
  q.enqueue({ kind: K.Alive, id: 'b', address: 'b:1', incarnation: 1 });
  t.same(
    q.take(1).map((u) => u.id),
    ['b'],
  );
  t.same(
    q.take(1).map((u) => u.id),
    ['a'],
    'least transmitted first',
  );
  q.enqueue({ kind: K.Dead, id: 'a', incarnation: 1, from: 'x' });
  t.equal(q.size, 2, 'a newer update about a member replaces the queued one');
  t.same(
    q.take(5).map((u) => u.kind),
    [K.Dead, K.Alive],
  );
  t.equal(q.size, 1, 'b reached its limit of 2 transmissions');
  t.equal(q.take(5).length, 1);
  t.equal(q.size, 0);
});

t.test(
  'Membership broadcast queue keeps suspicions from different members until a newer claim replaces them',
  async (t) => {
    const q = new BroadcastQueue(() => 10);
    q.enqueue({ kind: K.Alive, id: 'a', address: 'a:1', incarnation: 1 });
    q.enqueue({ kind: K.Suspect, id: 'a', incarnation: 1, from: 'x' });
    q.enqueue({ kind: K.Suspect, id: 'a', incarnation: 1, from: 'y' });
    q.enqueue({ kind: K.Suspect, id: 'a', incarnation: 1, from: 'y' });
    t.same(
      q.peek('a').map((u) => (u.kind === K.Suspect ? u.from : u.kind)),
      ['x', 'y'],
      'the alive is stale; both confirmations travel',
    );
    t.equal(q.size, 2);
    q.enqueue({ kind: K.Alive, id: 'a', address: 'a:1', incarnation: 2 });
    t.same(
      q.peek('a').map((u) => u.kind),
      [K.Alive],
      'the refutation replaces every suspicion',
    );
    t.equal(q.size, 1);
  },
);

t.test('Membership awareness scales timeouts, rises with lag and falls with successful probes', async (t) => {
  const a = new Awareness(8);
  t.equal(a.scale(500), 500);
  a.noteLag(30, 50, 500);
  t.equal(a.score, 0, 'lag below the threshold is ignored');
  a.noteLag(200, 50, 500);
  t.equal(a.score, 1);
  t.equal(a.scale(500), 1000);
  a.noteLag(1600, 50, 500);
  t.equal(a.score, 4);
  a.applyDelta(100);
  t.equal(a.score, 7, 'capped at max - 1');
  a.applyDelta(-100);
  t.equal(a.score, 0, 'floored at 0');
});

t.test('Membership deadline re-arms when it fired late (our loop stalled) and reports on-time firing', async (t) => {
  const time = new VirtualScheduler();
  let lateBy = 0;
  const skewed = {
    setTimeout: (fn: () => void, ms: number) =>
      time.setTimeout(() => {
        const extra = lateBy;
        lateBy = 0;
        if (extra > 0) time.setTimeout(fn, extra);
        else fn();
      }, ms),
    clearTimeout: (h: unknown) => time.clearTimeout(h),
  };
  const timers = new TimerGroup(skewed, time, 25);
  const results: boolean[] = [];
  const extensions: number[] = [];
  lateBy = 300;
  timers.deadline(
    1000,
    (onTime) => results.push(onTime),
    (ms) => extensions.push(ms),
  );
  time.advance(1300);
  t.same(results, [], 'fired 300 ms late: extended');
  t.same(extensions, [300]);
  time.advance(300);
  t.same(results, [true]);

  timers.deadline(100, (onTime) => results.push(onTime), undefined, 0);
  lateBy = 50;
  time.advance(200);
  t.same(results, [true, false], 'no extension left: not on time');
  timers.clearAll(new Error('stop'));
  t.equal(timers.size, 0);
  await t.rejects(timers.sleep(10));
});

t.test('Membership virtual time runs timers in order and lets promise chains settle in between', async (t) => {
  const time = new VirtualScheduler(0);
  const seen: string[] = [];
  time.setTimeout(() => {
    void Promise.resolve().then(() => seen.push('microtask after a'));
    seen.push('a');
  }, 10);
  time.setTimeout(() => seen.push('b'), 10);
  const c = time.setTimeout(() => seen.push('c'), 5);
  time.clearTimeout(c);
  await time.run(20);
  t.same(seen, ['a', 'b', 'microtask after a']);
  t.equal(time.now(), 20);
  t.equal(time.pending, 0);
});
