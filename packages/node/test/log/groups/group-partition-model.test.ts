/**
 * GroupPartitionState against a model, from seeded random runs: consumers
 * that ack, nack, reject, extend, stall or vanish, with leader failovers
 * (snapshot through msgpack, restore on a new instance). Checked after every
 * step: nothing below the committed offset is unfinished, the bounds hold;
 * at the end: every offset below the end was acked or dead-lettered exactly
 * once.
 */

import { isShoalError } from '@shoal/protocol';
import { pack, unpack } from 'msgpackr';
import t, { type Test } from 'tap';
import { GroupPartitionState, type RestoreOptions } from '../../../src/log/groups/group-partition-state.js';
import type { Delivery } from '../../../src/log/groups/group-partition-types.js';
import { type Random, seededRandom } from '../../../src/membership/random.js';
import { ManualClock } from '../../../src/store/clock.js';
import './helpers.js';

const MEMBERS = ['a', 'b', 'c'];
const TOTAL = 600;

interface Run {
  finished: Map<number, 'acked' | 'dead'>;
  failovers: number;
  deadLetters: number;
  steps: number;
}

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random.next() * items.length)]!;
}

function simulate(seed: number, t: Test): Run {
  const random = seededRandom(seed);
  const clock = new ManualClock(0);
  const base: RestoreOptions = {
    topic: 't',
    partition: 3,
    group: 'g',
    clock,
    random: seededRandom(seed + 1),
    ackTimeoutMs: 250,
    maxDeliveries: 4,
    maxUnacked: 8,
    maxUncommitted: 32,
    backoff: { baseMs: 10, maxMs: 80, factor: 2, jitter: 0.5 },
  };
  let instance = 0;
  let state = new GroupPartitionState({ ...base, startOffset: 0, instanceId: `n${instance}` });
  const finished = new Map<number, 'acked' | 'dead'>();
  let held: Delivery[] = []; // deliveries consumers are working on
  let dropped: Delivery[] = []; // deliveries consumers went silent on (may ack late)
  let letters: number[] = []; // dead letters returned by tick, not yet confirmed
  let failovers = 0;
  let deadLetters = 0;
  let steps = 0;

  const finish = (offset: number, how: 'acked' | 'dead'): void => {
    if (finished.has(offset)) t.fail(`offset ${offset} finished twice (${finished.get(offset)}, then ${how})`);
    finished.set(offset, how);
  };
  // Runs an ack-like call; a refusal must be a typed, non-current-delivery error.
  const attempt = (op: () => void, d: Delivery): boolean => {
    try {
      op();
      return true;
    } catch (err) {
      const known = isShoalError(err) && (err.code as string).startsWith('SHOAL_LOG_');
      if (!known) t.fail(`unexpected error for offset ${d.offset}: ${String(err)}`);
      return false;
    }
  };
  const check = (): void => {
    const s = state.stats();
    for (let o = 0; o < s.committedOffset; o++) {
      if (!finished.has(o)) {
        t.fail(`commit ${s.committedOffset} passed unfinished offset ${o} (seed ${seed}, step ${steps})`);
        break;
      }
    }
    if (!(s.committedOffset <= s.readCursor && s.readCursor <= Math.max(s.endOffset, s.readCursor))) {
      t.fail('cursor order');
    }
    if (s.readCursor - s.committedOffset > 32) t.fail('window exceeds maxUncommitted');
    if (s.unacked > 8) t.fail('unacked exceeds maxUnacked');
  };
  const drainLetters = (): void => {
    for (const letter of state.tick()) letters.push(letter.offset);
  };
  const confirmSome = (all: boolean): void => {
    const keep: number[] = [];
    for (const offset of letters) {
      if (all || random.next() < 0.5) {
        if (state.confirmDeadLetter(offset)) {
          finish(offset, 'dead');
          deadLetters++;
        }
      } else keep.push(offset);
    }
    letters = keep;
  };

  for (; steps < 6000; steps++) {
    if (state.endOffset < TOTAL && random.next() < 0.2) {
      state.setEndOffset(Math.min(TOTAL, state.endOffset + 1 + Math.floor(random.next() * 6)));
    }
    clock.advance(Math.floor(random.next() * 25));
    const r = random.next();
    if (r < 0.3) {
      held.push(...state.take(1 + Math.floor(random.next() * 4), pick(MEMBERS, random)));
    } else if (r < 0.8 && held.length > 0) {
      const i = Math.floor(random.next() * held.length);
      const d = held[i]!;
      const action = random.next();
      if (action < 0.55) {
        if (attempt(() => state.ack(d.deliveryId), d)) finish(d.offset, 'acked');
        held.splice(i, 1);
      } else if (action < 0.7) {
        attempt(() => state.nack(d.deliveryId, random.next() < 0.5 ? undefined : 20, 'failed'), d);
        held.splice(i, 1);
      } else if (action < 0.73) {
        attempt(() => state.reject(d.deliveryId, 'poison'), d);
        held.splice(i, 1);
      } else if (action < 0.85) {
        dropped.push(d);
        held.splice(i, 1);
      } else {
        attempt(() => state.extend(d.deliveryId, 50), d);
      }
    } else if (r < 0.85 && dropped.length > 0) {
      const i = Math.floor(random.next() * dropped.length);
      const d = dropped[i]!;
      dropped.splice(i, 1);
      if (attempt(() => state.ack(d.deliveryId), d)) finish(d.offset, 'acked');
    } else if (r < 0.87) {
      const member = pick(MEMBERS, random);
      state.removeMember(member);
      dropped.push(...held.filter((d) => d.memberId === member));
      held = held.filter((d) => d.memberId !== member);
    } else if (r < 0.875) {
      // Failover: the new leader restores the snapshot taken now; in-flight work is lost.
      const snapshot = unpack(pack(state.snapshot()));
      const end = state.endOffset;
      instance++;
      failovers++;
      state = GroupPartitionState.restore(snapshot, { ...base, instanceId: `n${instance}` });
      state.setEndOffset(end);
      dropped = dropped.concat(held);
      held = [];
      letters = []; // unconfirmed ones are emitted again by the new instance
    }
    drainLetters();
    confirmSome(false);
    check();
  }

  // Drain: one well-behaved consumer acks everything until the commit reaches the end.
  state.setEndOffset(TOTAL);
  for (const d of dropped.concat(held)) if (attempt(() => state.ack(d.deliveryId), d)) finish(d.offset, 'acked');
  for (let round = 0; round < 10_000 && state.committedOffset < TOTAL; round++) {
    clock.advance(50);
    for (const d of state.take(8, 'z')) {
      state.ack(d.deliveryId);
      finish(d.offset, 'acked');
    }
    drainLetters();
    confirmSome(true);
    check();
  }
  return { finished, failovers, deadLetters, steps };
}

for (const seed of [1, 2, 3, 42, 1234]) {
  t.test(`GroupPartitionState model run (seed ${seed}) finishes every offset exactly once`, async (t) => {
    const run = simulate(seed, t);
    t.equal(run.finished.size, TOTAL, 'every offset below the end finished');
    for (let o = 0; o < TOTAL; o++) if (!run.finished.has(o)) t.fail(`offset ${o} never finished`);
    t.ok(run.deadLetters > 0, `some dead letters (${run.deadLetters})`);
    t.ok(run.failovers > 0, `some failovers (${run.failovers})`);
    t.comment(
      `acked ${[...run.finished.values()].filter((h) => h === 'acked').length}, dead ${run.deadLetters}, failovers ${run.failovers}`,
    );
  });
}
