/**
 * State transitions of the member list, driven directly without any network
 * (memberlist's state_test.go style): one claim in, the resulting state,
 * broadcasts and events checked. Time is a VirtualScheduler.
 */
import t from 'tap';
import { MembershipMessageKind as K, type Member, type MemberUpdate, VirtualScheduler } from '../../src/index.js';
import { MemberList, type MembershipEventMap } from '../../src/membership/member-list.js';
import { Suspicion, suspicionTimeoutMs } from '../../src/membership/suspicion.js';
import { TimerGroup } from '../../src/membership/timers.js';

interface Harness {
  list: MemberList;
  time: VirtualScheduler;
  broadcasts: MemberUpdate[];
  events: Array<[string, string]>;
  refuted: () => number;
}

/** A member list for node `self` whose suspicions last `minMs`..`maxMs` with k confirmations. */
function harness(opts: { k?: number; minMs?: number; maxMs?: number } = {}): Harness {
  const time = new VirtualScheduler();
  const timers = new TimerGroup(time, time, 25);
  const broadcasts: MemberUpdate[] = [];
  const events: Array<[string, string]> = [];
  let refutations = 0;
  const list: MemberList = new MemberList('self', 'self:1', undefined, {
    broadcast: (u) => broadcasts.push(u),
    startSuspicion: (member: Member, from: string) =>
      new Suspicion({
        from,
        k: opts.k ?? 0,
        minMs: opts.minMs ?? 1000,
        maxMs: opts.maxMs ?? 1000,
        clock: time,
        schedule: (ms, fn) => timers.deadline(ms, () => fn()),
        onTimeout: () => {
          list.applyDead({ kind: K.Dead, id: member.id, incarnation: member.incarnation, from: 'self' });
        },
      }),
    refuted: () => {
      refutations++;
    },
    added: () => {},
    emit: <E extends keyof MembershipEventMap>(event: E, ...args: MembershipEventMap[E]) => {
      events.push([event, args[0].id]);
    },
    now: () => time.now(),
  });
  return { list, time, broadcasts, events, refuted: () => refutations };
}

const alive = (id: string, incarnation: number, meta?: Record<string, unknown>): MemberUpdate =>
  meta === undefined
    ? { kind: K.Alive, id, address: `${id}:1`, incarnation }
    : { kind: K.Alive, id, address: `${id}:1`, incarnation, meta };
const suspect = (id: string, incarnation: number, from = 'other'): MemberUpdate => ({
  kind: K.Suspect,
  id,
  incarnation,
  from,
});
const dead = (id: string, incarnation: number, from = 'other'): MemberUpdate => ({
  kind: K.Dead,
  id,
  incarnation,
  from,
});
const left = (id: string, incarnation: number): MemberUpdate => ({ kind: K.Left, id, incarnation });

t.test('Membership alive about an unknown member adds it, broadcasts it and reports a join', async (t) => {
  const h = harness();
  t.equal(h.list.apply(alive('a', 3, { p: 1 })), true);
  t.match(h.list.get('a'), { state: 'alive', incarnation: 3, address: 'a:1', meta: { p: 1 } });
  t.same(h.events, [['member-join', 'a']]);
  t.equal(h.broadcasts.length, 1);
});

t.test('Membership alive with an older or equal incarnation is ignored', async (t) => {
  const h = harness();
  h.list.apply(alive('a', 5));
  h.broadcasts.length = 0;
  t.equal(h.list.apply(alive('a', 4, { changed: true })), false);
  t.equal(h.list.apply(alive('a', 5, { changed: true })), false);
  t.match(h.list.get('a'), { incarnation: 5 });
  t.equal(h.list.get('a')?.meta, undefined);
  t.same(h.broadcasts, [], 'stale claims are not re-broadcast');
});

t.test('Membership alive with a newer incarnation updates meta and reports member-update', async (t) => {
  const h = harness();
  h.list.apply(alive('a', 1, { syncing: true }));
  t.equal(h.list.apply(alive('a', 2, { syncing: false })), true);
  t.same(h.list.get('a')?.meta, { syncing: false });
  t.same(h.events.at(-1), ['member-update', 'a']);
});

t.test('Membership suspect, dead and left about unknown members are ignored', async (t) => {
  const h = harness();
  t.equal(h.list.apply(suspect('ghost', 1)), false);
  t.equal(h.list.apply(dead('ghost', 1)), false);
  t.equal(h.list.apply(left('ghost', 1)), false);
  t.equal(h.list.get('ghost'), undefined);
  t.same(h.broadcasts, []);
});

t.test('Membership suspect with an older incarnation is ignored', async (t) => {
  const h = harness();
  h.list.apply(alive('a', 4));
  t.equal(h.list.apply(suspect('a', 3)), false);
  t.equal(h.list.get('a')?.state, 'alive');
});

t.test('Membership suspect is refuted by a newer incarnation', async (t) => {
  const h = harness({ minMs: 1000, maxMs: 1000 });
  h.list.apply(alive('a', 1));
  t.equal(h.list.apply(suspect('a', 1)), true);
  t.equal(h.list.get('a')?.state, 'suspect');
  t.equal(h.list.apply(alive('a', 1)), false, 'the same incarnation does not refute');
  t.equal(h.list.get('a')?.state, 'suspect');
  t.equal(h.list.apply(alive('a', 2)), true);
  t.match(h.list.get('a'), { state: 'alive', incarnation: 2 });
  t.same(
    h.events.map((e) => e[0]),
    ['member-join', 'suspect', 'member-update', 'alive', 'member-update'],
  );
  h.time.advance(5000);
  t.equal(h.list.get('a')?.state, 'alive', 'the cancelled suspicion never fires');
});

t.test('Membership suspect turns dead when its timeout expires', async (t) => {
  const h = harness({ minMs: 1000, maxMs: 1000 });
  h.list.apply(alive('a', 1));
  h.list.apply(suspect('a', 1));
  h.time.advance(999);
  t.equal(h.list.get('a')?.state, 'suspect');
  h.time.advance(1);
  t.match(h.list.get('a'), { state: 'dead', incarnation: 1 });
  t.same(h.events.at(-1), ['member-dead', 'a']);
  t.match(h.broadcasts.at(-1), { kind: K.Dead, id: 'a', incarnation: 1, from: 'self' });
});

t.test('Membership confirmations from other members shorten a suspicion', async (t) => {
  // k = 2: lone suspicion 6000 ms; one confirmation: 6000 - 5000 * log(2)/log(3) = 2845; two: 1000.
  t.equal(suspicionTimeoutMs(0, 2, 1000, 6000), 6000);
  t.equal(suspicionTimeoutMs(1, 2, 1000, 6000), 2845);
  t.equal(suspicionTimeoutMs(2, 2, 1000, 6000), 1000);
  t.equal(suspicionTimeoutMs(0, 0, 1000, 6000), 1000, 'k = 0: the minimum at once');

  const h = harness({ k: 2, minMs: 1000, maxMs: 6000 });
  h.list.apply(alive('a', 1));
  h.list.apply(suspect('a', 1, 'b'));
  h.time.advance(500);
  h.broadcasts.length = 0;
  h.list.apply(suspect('a', 1, 'b'));
  t.same(h.broadcasts, [], 'the originator is not a confirmation');
  h.list.apply(suspect('a', 1, 'c'));
  t.equal(h.broadcasts.length, 1, 'a new confirmation is re-broadcast');
  h.list.apply(suspect('a', 1, 'c'));
  t.equal(h.broadcasts.length, 1, 'a duplicate confirmation is not');
  h.time.advance(2844 - 500);
  t.equal(h.list.get('a')?.state, 'suspect');
  h.list.apply(suspect('a', 1, 'd'));
  t.equal(h.list.get('a')?.state, 'dead', 'k confirmations past the minimum: dead at once');
});

t.test('Membership dead member that comes back with a higher incarnation rejoins', async (t) => {
  const h = harness();
  h.list.apply(alive('a', 1));
  t.equal(h.list.apply(dead('a', 1)), true);
  t.equal(h.list.get('a')?.state, 'dead');
  t.equal(h.list.apply(alive('a', 1)), false, 'the same incarnation stays dead');
  t.equal(h.list.apply(suspect('a', 1)), false, 'a dead member is not suspected again');
  t.equal(h.list.apply(alive('a', 2)), true);
  t.match(h.list.get('a'), { state: 'alive', incarnation: 2 });
  t.same(
    h.events.map((e) => e[0]),
    ['member-join', 'member-dead', 'member-join'],
  );
});

t.test('Membership dead cancels a running suspicion', async (t) => {
  const h = harness({ minMs: 1000, maxMs: 1000 });
  h.list.apply(alive('a', 1));
  h.list.apply(suspect('a', 1));
  h.list.apply(dead('a', 1, 'b'));
  const deadEvents = h.events.filter((e) => e[0] === 'member-dead').length;
  h.time.advance(5000);
  t.equal(h.events.filter((e) => e[0] === 'member-dead').length, deadEvents, 'no second death from the timer');
});

t.test('Membership left is final for that incarnation', async (t) => {
  const h = harness();
  h.list.apply(alive('a', 1));
  t.equal(h.list.apply(left('a', 2)), true);
  t.same(h.events.at(-1), ['member-leave', 'a']);
  t.equal(h.list.apply(suspect('a', 2)), false);
  t.equal(h.list.apply(dead('a', 2)), false);
  t.equal(h.list.apply(alive('a', 2)), false);
  t.equal(h.list.apply(left('a', 2)), false);
  t.equal(h.list.get('a')?.state, 'left');
  t.equal(h.list.apply(alive('a', 3)), true, 'a newer life rejoins');
  t.equal(h.list.get('a')?.state, 'alive');
});

t.test('Membership left after dead records left without a second departure event', async (t) => {
  const h = harness();
  h.list.apply(alive('a', 1));
  h.list.apply(dead('a', 1));
  t.equal(h.list.apply(left('a', 2)), true);
  t.equal(h.list.get('a')?.state, 'left');
  t.equal(h.events.filter((e) => e[0] === 'member-leave').length, 0);
});

t.test('Membership self-suspicion triggers a refutation with a higher incarnation', async (t) => {
  const h = harness();
  t.equal(h.list.local().incarnation, 0);
  t.equal(h.list.apply(suspect('self', 4)), false);
  t.equal(h.list.local().incarnation, 5, 'above the claimed incarnation');
  t.equal(h.list.local().state, 'alive');
  t.match(h.broadcasts.at(-1), { kind: K.Alive, id: 'self', incarnation: 5 });
  t.equal(h.refuted(), 1, 'counted as a local-health signal');
  t.equal(h.list.apply(suspect('self', 3)), false);
  t.equal(h.list.local().incarnation, 5, 'an older claim needs no refutation');
  h.list.apply(dead('self', 5));
  t.equal(h.list.local().incarnation, 6, 'dead about us is refuted too');
  t.same(h.events, [], 'no events about ourselves');
});

t.test('Membership claims from a previous life of this id are refuted', async (t) => {
  const h = harness();
  h.list.apply(alive('self', 7));
  t.equal(h.list.local().incarnation, 8, 'an alive claim newer than ours (restart) is out-voted');
  h.list.apply(left('self', 9));
  t.equal(h.list.local().incarnation, 10);
  t.equal(h.list.local().state, 'alive');
  h.list.apply(alive('self', 10));
  t.equal(h.list.local().incarnation, 10, 'our own claim coming back is not refuted');
});

t.test('Membership a leaving node does not refute', async (t) => {
  const h = harness();
  const update = h.list.markSelfLeft();
  t.same(update, { kind: K.Left, id: 'self', incarnation: 1 });
  h.list.apply(dead('self', 1));
  h.list.apply(suspect('self', 1));
  t.match(h.list.local(), { state: 'left', incarnation: 1 });
});

t.test('Membership merge takes a remote dead as a suspicion and refutes claims about us', async (t) => {
  const h = harness();
  h.list.apply(alive('a', 1));
  h.list.merge(
    [
      { id: 'a', address: 'a:1', state: 'dead', incarnation: 1 },
      { id: 'b', address: 'b:1', state: 'alive', incarnation: 0 },
      { id: 'self', address: 'self:1', state: 'dead', incarnation: 2 },
    ],
    'remote',
  );
  t.equal(h.list.get('a')?.state, 'suspect');
  t.equal(h.list.get('b')?.state, 'alive');
  t.equal(h.list.local().incarnation, 3);
});

t.test('Membership reap forgets dead and left members after the retention', async (t) => {
  const h = harness();
  h.list.apply(alive('a', 1));
  h.list.apply(alive('b', 1));
  h.list.apply(dead('a', 1));
  h.time.advance(100);
  t.same(h.list.reap(1000), []);
  h.time.advance(1000);
  t.same(
    h.list.reap(1000).map((m) => m.id),
    ['a'],
  );
  t.equal(h.list.get('a'), undefined);
  t.equal(h.list.liveCount(), 2);
});
