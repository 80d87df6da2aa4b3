/**
 * GroupPartitionState, one transition at a time on a ManualClock: take order,
 * commit across gaps, nack, lease expiry with backoff, extend, dead letters,
 * flow control, typed errors for unknown and stale deliveries, member removal,
 * seek, snapshot and restore.
 */

import { isShoalError } from '@shoal/protocol';
import { pack, unpack } from 'msgpackr';
import t from 'tap';
import { GroupPartitionState } from '../../../src/log/groups/group-partition-state.js';
import { caught, codeOf, makeState } from './helpers.js';

const T0 = 1_000_000;

t.test('GroupPartitionState take hands out new offsets in order, up to the end offset', async (t) => {
  const { state } = makeState();
  t.same(state.take(5, 'a'), [], 'nothing before the end offset is set');
  state.setEndOffset(5);
  const first = state.take(3, 'a');
  t.same(
    first.map((d) => [d.offset, d.deliveries, d.memberId, d.leaseExpiresAt]),
    [
      [0, 1, 'a', T0 + 1000],
      [1, 1, 'a', T0 + 1000],
      [2, 1, 'a', T0 + 1000],
    ],
  );
  t.equal(new Set(first.map((d) => d.deliveryId)).size, 3, 'ids are unique');
  t.same(
    state.take(10, 'b').map((d) => d.offset),
    [3, 4],
  );
  t.same(state.take(10, 'b'), []);
  t.equal(state.readCursor, 5);
  t.same(state.take(0, 'a'), []);
});

t.test('GroupPartitionState take serves due redeliveries before new offsets', async (t) => {
  const { state } = makeState();
  state.setEndOffset(3);
  const [d0, d1] = state.take(2, 'a');
  state.nack(d1!.deliveryId, 0);
  state.nack(d0!.deliveryId, 0);
  t.same(
    state.take(3, 'b').map((d) => [d.offset, d.deliveries]),
    [
      [0, 2],
      [1, 2],
      [2, 1],
    ],
    'due redeliveries first (by due time, then offset), then the cursor',
  );
  t.equal(state.stats().redeliveries, 2);
});

t.test('GroupPartitionState ack advances the committed offset across gaps', async (t) => {
  const { state } = makeState();
  state.setEndOffset(5);
  const d = state.take(5, 'a');
  state.ack(d[1]!.deliveryId);
  state.ack(d[3]!.deliveryId);
  t.equal(state.committedOffset, 0, 'a gap at 0 holds the commit');
  state.ack(d[0]!.deliveryId);
  t.equal(state.committedOffset, 2, 'filling the gap passes the acks above it');
  state.ack(d[2]!.deliveryId);
  t.equal(state.committedOffset, 4);
  state.ack(d[4]!.deliveryId);
  t.equal(state.committedOffset, 5);
  t.match(state.stats(), { committedOffset: 5, readCursor: 5, endOffset: 5, lag: 0, unacked: 0, acked: 5 });
});

t.test('GroupPartitionState nack with a delay redelivers once the delay has passed', async (t) => {
  const { state, clock } = makeState();
  state.setEndOffset(1);
  const [d] = state.take(1, 'a');
  state.nack(d!.deliveryId, 500, 'busy');
  t.equal(state.nextDueAt(), T0 + 500);
  t.match(state.stats(), { inFlight: 0, waiting: 1, unacked: 1 });
  clock.advance(499);
  t.same(state.take(1, 'a'), []);
  clock.advance(1);
  const [again] = state.take(1, 'b');
  t.match(again, { offset: 0, deliveries: 2, memberId: 'b' });
  t.not(again!.deliveryId, d!.deliveryId, 'a redelivery has a new id');
  state.nack(again!.deliveryId);
  t.equal(state.nextDueAt(), T0 + 500 + 200, 'without a delay: backoff for the 2nd failure (100 × 2)');
});

t.test('GroupPartitionState lease expiry redelivers with exponential backoff up to the cap', async (t) => {
  const { state, clock } = makeState({ maxDeliveries: 10 });
  state.setEndOffset(1);
  const delays: number[] = [];
  for (let i = 1; i <= 6; i++) {
    const [d] = state.take(1, 'a');
    t.equal(d!.deliveries, i);
    clock.advance(999);
    t.same(state.tick(), []);
    t.equal(state.stats().inFlight, 1, 'still leased 1 ms before expiry');
    clock.advance(1);
    t.same(state.tick(), [], 'expired, not dead');
    const due = state.nextDueAt()!;
    delays.push(due - clock.now());
    clock.set(due - 1);
    t.same(state.take(1, 'a'), [], 'not before the backoff has passed');
    clock.set(due);
  }
  t.same(delays, [100, 200, 400, 800, 1000, 1000], 'base × factor^(n−1), capped at maxMs');
  t.equal(state.stats().redeliveries, 5);
});

t.test('GroupPartitionState backoff jitter stays within (delay × (1 − jitter), delay]', async (t) => {
  const { state, clock } = makeState({ backoff: { baseMs: 1000, maxMs: 1000, jitter: 0.5 }, maxUnacked: 500 });
  state.setEndOffset(200);
  state.take(200, 'a');
  clock.advance(1000);
  state.tick();
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const due = state.nextDueAt()!;
    const delay = due - clock.now();
    t.ok(delay > 500 && delay <= 1000, `delay ${delay}`);
    seen.add(delay);
    clock.set(due);
    for (const d of state.take(1, 'a')) state.ack(d.deliveryId);
    clock.set(T0 + 1000);
  }
  t.ok(seen.size > 50, 'delays are spread');
});

t.test('GroupPartitionState extend moves the lease end, within maxLeaseMs', async (t) => {
  const { state, clock } = makeState({ maxLeaseMs: 3000 });
  state.setEndOffset(1);
  const [d] = state.take(1, 'a');
  clock.advance(900);
  t.equal(state.extend(d!.deliveryId, 500), T0 + 1500, 'added to the current lease end');
  clock.set(T0 + 1200);
  t.same(state.tick(), []);
  t.equal(state.stats().inFlight, 1, 'not expired at the old end');
  t.equal(state.nextDueAt(), T0 + 1500);
  t.equal(state.extend(d!.deliveryId, 1500), T0 + 3000, 'up to the limit is fine');
  const err = caught(() => state.extend(d!.deliveryId, 1));
  t.ok(isShoalError(err), 'typed error past the limit');
  t.match((err as { code: string; details: unknown }).code, 'SHOAL_LOG_LEASE_LIMIT');
  t.match((err as { details: unknown }).details, { maxLeaseExpiresAt: T0 + 3000, offset: 0, topic: 'orders' });
  t.equal(
    codeOf(() => state.extend(d!.deliveryId, 0)),
    'SHOAL_ARGUMENT_INVALID',
  );
});

t.test('GroupPartitionState a late ack, nack or extend works while nobody else has the message', async (t) => {
  const { state, clock } = makeState();
  state.setEndOffset(3);
  const [d0, d1, d2] = state.take(3, 'a');
  clock.advance(1000);
  state.tick();
  t.match(state.stats(), { inFlight: 0, waiting: 3 });
  state.ack(d0!.deliveryId);
  t.equal(state.committedOffset, 1, 'late ack of an expired, not redelivered delivery is kept');
  t.equal(state.extend(d1!.deliveryId, 500), T0 + 1500, 'extend re-arms the lease from now');
  t.match(state.stats(), { inFlight: 1, waiting: 1 });
  clock.advance(100);
  t.same(
    state.take(5, 'b').map((d) => d.offset),
    [2],
    're-leased offset 1 is not handed out',
  );
  state.ack(d1!.deliveryId);
  t.equal(
    codeOf(() => state.ack(d2!.deliveryId)),
    'SHOAL_LOG_STALE_DELIVERY:redelivered',
  );
});

t.test('GroupPartitionState dead-letters after maxDeliveries and commits past it once confirmed', async (t) => {
  const { state, clock } = makeState({ maxDeliveries: 2 });
  state.setEndOffset(2);
  const [d0, d1] = state.take(2, 'a');
  state.nack(d0!.deliveryId, 0, 'boom 1');
  const [again] = state.take(1, 'a');
  t.equal(again!.deliveries, 2);
  state.nack(again!.deliveryId, 0, 'boom 2');
  t.equal(state.nextDueAt(), clock.now(), 'a dead letter waits to be returned by tick');
  t.same(state.tick(), [{ offset: 0, deliveries: 2, reason: 'max-deliveries', lastError: 'boom 2' }]);
  t.same(state.tick(), [], 'returned once');
  t.match(state.stats(), { deadLetters: 1, pendingDeadLetters: 1, unacked: 1, committedOffset: 0 });
  state.ack(d1!.deliveryId);
  t.equal(state.committedOffset, 0, 'held until the dead letter is appended');
  t.equal(
    codeOf(() => state.ack(again!.deliveryId)),
    'SHOAL_LOG_STALE_DELIVERY:done',
  );
  t.equal(state.confirmDeadLetter(0), true);
  t.equal(state.committedOffset, 2, 'commit passes the dead letter and the ack above it');
  t.equal(state.confirmDeadLetter(0), false, 'confirming twice is harmless');
  t.equal(state.confirmDeadLetter(7), false);
});

t.test('GroupPartitionState dead-letters on lease expiry at the limit and on reject', async (t) => {
  const { state, clock } = makeState({ maxDeliveries: 1 });
  state.setEndOffset(2);
  const [, d1] = state.take(2, 'a');
  state.reject(d1!.deliveryId, 'bad schema');
  clock.advance(1000);
  t.same(state.tick(), [
    { offset: 1, deliveries: 1, reason: 'rejected', lastError: 'bad schema' },
    { offset: 0, deliveries: 1, reason: 'max-deliveries', lastError: 'lease expired' },
  ]);
  t.ok(state.confirmDeadLetter(0) && state.confirmDeadLetter(1));
  t.equal(state.committedOffset, 2);
  t.equal(state.stats().deadLetters, 2);
});

t.test('GroupPartitionState pauses at maxUnacked, says so, and resumes on ack', async (t) => {
  const { state, clock } = makeState({ maxUnacked: 3 });
  state.setEndOffset(10);
  const d = state.take(10, 'a');
  t.equal(d.length, 3);
  t.equal(state.pausedReason(), 'max-unacked');
  t.match(state.stats(), { paused: true, pausedReason: 'max-unacked', unacked: 3, lag: 10 });
  state.nack(d[0]!.deliveryId, 0);
  t.equal(state.pausedReason(), 'max-unacked', 'a message waiting for redelivery is still unacked');
  t.same(
    state.take(10, 'a').map((x) => x.offset),
    [0],
    'redeliveries are still served while paused',
  );
  clock.advance(10);
  state.ack(d[1]!.deliveryId);
  t.equal(state.pausedReason(), undefined);
  t.same(
    state.take(10, 'a').map((x) => x.offset),
    [3],
  );
});

t.test('GroupPartitionState pauses at maxUncommitted behind a stuck head message', async (t) => {
  const { state } = makeState({ maxUnacked: 2, maxUncommitted: 4 });
  state.setEndOffset(10);
  const [head] = state.take(1, 'a');
  for (let i = 0; i < 3; i++) for (const d of state.take(1, 'a')) state.ack(d.deliveryId);
  t.match(state.stats(), { committedOffset: 0, readCursor: 4, unacked: 1, pausedReason: 'max-uncommitted' });
  t.same(state.take(5, 'a'), []);
  state.ack(head!.deliveryId);
  t.equal(state.committedOffset, 4);
  t.equal(state.pausedReason(), undefined);
  t.equal(state.take(5, 'a').length, 2);
});

t.test('GroupPartitionState is not paused when nothing is left to deliver', async (t) => {
  const { state } = makeState({ maxUnacked: 2 });
  state.setEndOffset(2);
  state.take(5, 'a');
  t.equal(state.pausedReason(), undefined);
  state.setEndOffset(3);
  t.equal(state.pausedReason(), 'max-unacked');
});

t.test('GroupPartitionState unknown, duplicate and stale deliveries get typed errors', async (t) => {
  const { state, clock } = makeState();
  state.setEndOffset(2);
  const [d0, d1] = state.take(2, 'a');
  t.equal(
    codeOf(() => state.ack('nonsense')),
    'SHOAL_LOG_UNKNOWN_DELIVERY:malformed',
  );
  t.equal(
    codeOf(() => state.ack(42 as unknown as string)),
    'SHOAL_LOG_UNKNOWN_DELIVERY:malformed',
  );
  t.equal(
    codeOf(() => state.ack('zz.0.0')),
    'SHOAL_LOG_UNKNOWN_DELIVERY:other-instance',
  );
  t.equal(
    codeOf(() => state.ack('i1.0.99')),
    'SHOAL_LOG_UNKNOWN_DELIVERY:never-issued',
  );
  t.equal(
    codeOf(() => state.ack('i1.0.1')),
    'SHOAL_LOG_UNKNOWN_DELIVERY:never-issued',
    'seq of another offset',
  );
  state.ack(d0!.deliveryId);
  t.equal(
    codeOf(() => state.ack(d0!.deliveryId)),
    'SHOAL_LOG_STALE_DELIVERY:done',
    'acked twice',
  );
  t.equal(
    codeOf(() => state.nack(d0!.deliveryId)),
    'SHOAL_LOG_STALE_DELIVERY:done',
  );
  clock.advance(1000 + 100);
  const [d1b] = state.take(1, 'b');
  t.equal(d1b!.offset, 1);
  for (const op of [
    () => state.ack(d1!.deliveryId),
    () => state.nack(d1!.deliveryId),
    () => state.extend(d1!.deliveryId, 10),
    () => state.reject(d1!.deliveryId),
  ]) {
    t.equal(codeOf(op), 'SHOAL_LOG_STALE_DELIVERY:redelivered', 'the late delivery never touches the new one');
  }
  t.equal(state.stats().inFlight, 1);
  const err = caught(() => state.ack(d1!.deliveryId));
  t.match((err as { details: unknown }).details, {
    topic: 'orders',
    partition: 0,
    group: 'billing',
    deliveryId: d1!.deliveryId,
    offset: 1,
  });
  state.ack(d1b!.deliveryId);
  t.equal(state.committedOffset, 2);
});

t.test('GroupPartitionState removeMember returns its leases to the pool at once', async (t) => {
  const { state } = makeState({ maxDeliveries: 2 });
  state.setEndOffset(3);
  const a = state.take(2, 'a');
  state.take(1, 'b');
  t.equal(state.removeMember('a'), 2);
  t.equal(state.removeMember('a'), 0, 'twice is harmless');
  t.equal(state.removeMember('nobody'), 0);
  const again = state.take(5, 'b');
  t.same(
    again.map((d) => [d.offset, d.deliveries]),
    [
      [0, 2],
      [1, 2],
    ],
    'no backoff, but the handout counted',
  );
  t.equal(
    codeOf(() => state.ack(a[0]!.deliveryId)),
    'SHOAL_LOG_STALE_DELIVERY:redelivered',
  );
  t.equal(state.removeMember('b'), 3);
  t.same(
    state.tick().map((l) => [l.offset, l.reason, l.lastError]),
    [
      [0, 'max-deliveries', 'member removed'],
      [1, 'max-deliveries', 'member removed'],
    ],
    'at the limit, removal dead-letters (a message that kills its consumers ends up in the DLQ)',
  );
  t.same(
    state.take(5, 'c').map((d) => [d.offset, d.deliveries]),
    [[2, 2]],
  );
});

t.test('GroupPartitionState seek replays from an offset and makes older deliveries stale', async (t) => {
  const { state } = makeState();
  state.setEndOffset(10);
  const d = state.take(5, 'a');
  state.ack(d[0]!.deliveryId);
  state.ack(d[1]!.deliveryId);
  state.reject(d[2]!.deliveryId);
  state.seek(0);
  t.match(state.stats(), { committedOffset: 0, readCursor: 0, unacked: 0, lag: 10, pendingDeadLetters: 0 });
  t.same(state.tick(), [], 'unreturned dead letters are dropped: the replay delivers them again');
  t.equal(
    codeOf(() => state.ack(d[3]!.deliveryId)),
    'SHOAL_LOG_STALE_DELIVERY:seek',
  );
  t.same(
    state.take(3, 'a').map((x) => [x.offset, x.deliveries]),
    [
      [0, 1],
      [1, 1],
      [2, 1],
    ],
  );
  state.seek(8);
  t.match(state.stats(), { committedOffset: 8, readCursor: 8, lag: 2 });
  t.same(
    state.take(5, 'a').map((x) => x.offset),
    [8, 9],
  );
  t.equal(
    codeOf(() => state.seek(-1)),
    'SHOAL_ARGUMENT_INVALID',
  );
});

t.test('GroupPartitionState snapshot and restore: pending redelivered, nothing below the commit', async (t) => {
  const { state, clock } = makeState({ maxDeliveries: 3 });
  state.setEndOffset(8);
  const d = state.take(6, 'a');
  state.ack(d[0]!.deliveryId);
  state.ack(d[2]!.deliveryId);
  state.ack(d[4]!.deliveryId);
  state.nack(d[1]!.deliveryId, 5000);
  state.reject(d[5]!.deliveryId, 'poison');
  state.tick();
  const snapshot = state.snapshot();
  t.same(snapshot, {
    v: 1,
    committedOffset: 1,
    readCursor: 6,
    done: [2, 3, 4, 5],
    pending: [
      [1, 1],
      [3, 1],
    ],
    deadLetters: [[5, 1, 'rejected', 'poison']],
  });
  const wire = unpack(pack(snapshot));
  clock.advance(10);
  const restored = GroupPartitionState.restore(wire, {
    topic: 'orders',
    partition: 0,
    group: 'billing',
    clock,
    instanceId: 'i2',
    maxDeliveries: 3,
  });
  restored.setEndOffset(8);
  t.match(restored.stats(), { committedOffset: 1, readCursor: 6, unacked: 2, inFlight: 0, pendingDeadLetters: 1 });
  t.same(restored.tick(), [{ offset: 5, deliveries: 1, reason: 'rejected', lastError: 'poison' }], 're-emitted');
  const again = restored.take(10, 'b');
  t.same(
    again.map((x) => [x.offset, x.deliveries]),
    [
      [1, 2],
      [3, 2],
      [6, 1],
      [7, 1],
    ],
    'pending offsets at once with their counts, then new ones; 0, 2, 4 never again',
  );
  t.equal(
    codeOf(() => restored.ack(d[3]!.deliveryId)),
    'SHOAL_LOG_UNKNOWN_DELIVERY:other-instance',
  );
  for (const x of again) restored.ack(x.deliveryId);
  t.equal(restored.committedOffset, 5);
  t.ok(restored.confirmDeadLetter(5));
  t.equal(restored.committedOffset, 8);
});

t.test(
  'GroupPartitionState restore dead-letters offsets already at maxDeliveries and cuts a wide window',
  async (t) => {
    const { clock } = makeState();
    const base = { topic: 'orders', partition: 0, group: 'billing', clock, instanceId: 'i3' };
    const snapshot = { v: 1, committedOffset: 10, readCursor: 30, done: [11, 25], pending: [[10, 5]], deadLetters: [] };
    const restored = GroupPartitionState.restore(snapshot, { ...base, maxUnacked: 2, maxUncommitted: 8 });
    t.match(restored.stats(), { committedOffset: 10, readCursor: 18 });
    t.match(restored.tick(), [{ offset: 10, deliveries: 5, reason: 'max-deliveries' }]);
    restored.confirmDeadLetter(10);
    t.equal(restored.committedOffset, 18, 'done offsets inside the cut are kept');
    t.equal(
      codeOf(() => GroupPartitionState.restore({ ...snapshot, done: [25, 11] }, base)),
      'SHOAL_PROTOCOL_INVALID',
    );
    t.equal(
      codeOf(() => GroupPartitionState.restore({ ...snapshot, v: 2 }, base)),
      'SHOAL_PROTOCOL_INVALID',
    );
    t.equal(
      codeOf(() => GroupPartitionState.restore(null, base)),
      'SHOAL_PROTOCOL_INVALID',
    );
  },
);

t.test('GroupPartitionState stats report the age of the oldest unacked message', async (t) => {
  const { state, clock } = makeState();
  state.setEndOffset(3);
  t.equal(state.stats().oldestUnackedAgeMs, 0);
  const [d0] = state.take(1, 'a');
  clock.advance(300);
  state.take(2, 'a');
  clock.advance(200);
  t.equal(state.stats().oldestUnackedAgeMs, 500);
  state.ack(d0!.deliveryId);
  t.equal(state.stats().oldestUnackedAgeMs, 200);
});

t.test('GroupPartitionState rejects bad arguments with typed errors', async (t) => {
  const { state } = makeState();
  state.setEndOffset(5);
  t.equal(
    codeOf(() => state.setEndOffset(4)),
    'SHOAL_ARGUMENT_INVALID',
    'the end never moves back',
  );
  t.equal(
    codeOf(() => state.setEndOffset(1.5)),
    'SHOAL_ARGUMENT_INVALID',
  );
  t.equal(
    codeOf(() => state.take(-1, 'a')),
    'SHOAL_ARGUMENT_INVALID',
  );
  t.equal(
    codeOf(() => state.take(1, '')),
    'SHOAL_ARGUMENT_INVALID',
  );
  const [d] = state.take(1, 'a');
  t.equal(
    codeOf(() => state.nack(d!.deliveryId, -1)),
    'SHOAL_ARGUMENT_INVALID',
  );
  t.equal(state.stats().inFlight, 1, 'a bad nack changes nothing');
});
