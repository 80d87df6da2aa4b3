/**
 * The small parts behind GroupPartitionState, each alone: option resolution,
 * backoff, the deadline heap, the done-bitmap window, delivery ids and
 * snapshot validation.
 */

import { isShoalError } from '@shoal/protocol';
import t from 'tap';
import { backoffDelay } from '../../../src/log/groups/backoff.js';
import { DeadlineHeap, type DeadlineItem } from '../../../src/log/groups/deadline-heap.js';
import { formatDeliveryId, parseDeliveryId } from '../../../src/log/groups/delivery-id.js';
import { DoneWindow } from '../../../src/log/groups/done-window.js';
import {
  type GroupPartitionOptions,
  resolveGroupPartitionOptions,
} from '../../../src/log/groups/group-partition-options.js';
import { validateGroupPartitionSnapshot } from '../../../src/log/groups/group-partition-snapshot.js';
import { seededRandom } from '../../../src/membership/random.js';
import { caught, codeOf } from './helpers.js';

const BASE: GroupPartitionOptions = { topic: 't', partition: 0, group: 'g', startOffset: 0 };

t.test('Group options resolve defaults and freeze', async (t) => {
  const o = resolveGroupPartitionOptions({ ...BASE, random: seededRandom(1) });
  t.ok(Object.isFrozen(o) && Object.isFrozen(o.backoff));
  t.match(o, {
    ackTimeoutMs: 30_000,
    maxLeaseMs: 1_800_000,
    maxDeliveries: 5,
    maxUnacked: 1000,
    maxUncommitted: 10_000,
    backoff: { baseMs: 100, maxMs: 30_000, factor: 2, jitter: 0.2 },
  });
  t.match(o.instanceId, /^[0-9a-z]{8}$/);
  t.equal(resolveGroupPartitionOptions({ ...BASE, random: seededRandom(1) }).instanceId, o.instanceId, 'seeded');
});

t.test('Group options reject bad values naming the option', async (t) => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ topic: '' }, 'topic'],
    [{ partition: -1 }, 'partition'],
    [{ startOffset: 1.5 }, 'startOffset'],
    [{ ackTimeoutMs: 0 }, 'ackTimeoutMs'],
    [{ ackTimeoutMs: 5000, maxLeaseMs: 1000 }, 'maxLeaseMs'],
    [{ maxDeliveries: 0 }, 'maxDeliveries'],
    [{ maxUnacked: 10, maxUncommitted: 5 }, 'maxUncommitted'],
    [{ maxUncommitted: 2 ** 25 }, 'maxUncommitted'],
    [{ backoff: { jitter: 2 } }, 'backoff.jitter'],
    [{ backoff: { baseMs: 10, maxMs: 5 } }, 'backoff.maxMs'],
    [{ backoff: { factor: 0.5 } }, 'backoff.factor'],
    [{ backoff: { base: 1 } }, 'backoff.base'],
    [{ instanceId: 'a.b' }, 'instanceId'],
    [{ clock: {} }, 'clock'],
    [{ ackTimeout: 5 }, 'ackTimeout'],
  ];
  for (const [options, option] of bad) {
    const err = caught(() => resolveGroupPartitionOptions({ ...BASE, ...options } as GroupPartitionOptions));
    t.ok(isShoalError(err, 'SHOAL_CONFIG_INVALID') && err.details?.option === option, option);
  }
});

t.test('Group backoff grows by factor up to the cap, jitter within bounds', async (t) => {
  const backoff = { baseMs: 100, maxMs: 1000, factor: 3, jitter: 0 };
  const random = seededRandom(3);
  t.same(
    [1, 2, 3, 4, 50].map((n) => backoffDelay(n, backoff, random)),
    [100, 300, 900, 1000, 1000],
  );
  const jittered = { ...backoff, jitter: 1 };
  for (let i = 0; i < 500; i++) {
    const delay = backoffDelay(2, jittered, random);
    if (!(delay >= 0 && delay <= 300)) t.fail(`full jitter out of [0, 300]: ${delay}`);
  }
  t.pass('full jitter in bounds');
});

t.test('Group deadline heap pops by deadline then offset, removes and re-keys', async (t) => {
  const heap = new DeadlineHeap<DeadlineItem>();
  const random = seededRandom(9);
  const items: DeadlineItem[] = [];
  for (let i = 0; i < 300; i++) {
    const item = { at: Math.floor(random.next() * 50), offset: i, heapIndex: -1 };
    items.push(item);
    heap.push(item);
  }
  for (let i = 0; i < 100; i++) heap.remove(items[i * 3]!);
  for (let i = 1; i < 300; i += 3) {
    items[i]!.at = Math.floor(random.next() * 50);
    heap.update(items[i]!);
  }
  const expected = items
    .filter((_, i) => i % 3 !== 0)
    .map((x) => [x.at, x.offset])
    .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  const popped: number[][] = [];
  for (let x = heap.pop(); x !== undefined; x = heap.pop()) popped.push([x.at, x.offset]);
  t.same(popped, expected);
  t.ok(items.every((x) => x.heapIndex === -1));
  heap.remove(items[0]!);
  t.equal(heap.size, 0);
});

t.test('Group done window marks offsets modulo its capacity', async (t) => {
  const w = new DoneWindow(100);
  t.equal(w.capacity, 128);
  w.mark(5);
  w.mark(5);
  w.mark(2 ** 40 + 7);
  t.ok(w.has(5) && w.has(2 ** 40 + 7) && !w.has(6));
  t.equal(w.size, 2);
  w.unmark(5);
  w.unmark(5);
  t.equal(w.size, 1);
  w.clear();
  t.notOk(w.has(2 ** 40 + 7));
});

t.test('Group delivery ids round-trip and reject anything else', async (t) => {
  t.same(parseDeliveryId(formatDeliveryId('ab-1', 42, 7)), { instanceId: 'ab-1', offset: 42, seq: 7 });
  for (const bad of ['', 'x', 'x.1', '.1.2', 'x.01.2', 'x.1.-2', 'x.1.2.', 'x.1.1e3', 7, null]) {
    t.equal(parseDeliveryId(bad), undefined, JSON.stringify(bad));
  }
});

t.test('Group snapshot validation names the bad field', async (t) => {
  const good = {
    v: 1,
    committedOffset: 3,
    readCursor: 6,
    done: [4, 5],
    pending: [[3, 1]],
    deadLetters: [[5, 2, 'rejected', null]],
  };
  t.equal(validateGroupPartitionSnapshot(good), good);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ committedOffset: -1 }, 'committedOffset'],
    [{ readCursor: 2 }, 'readCursor'],
    [{ done: [4] }, 'done'],
    [{ done: [2, 3] }, 'done'],
    [{ pending: [[3]] }, 'pending'],
    [{ pending: [['3', 1]] }, 'pending'],
    [{ deadLetters: [[5, 2, 'lost', null]] }, 'deadLetters'],
    [{ deadLetters: [[5, 2, 'rejected', 3]] }, 'deadLetters'],
  ];
  for (const [change, field] of cases) {
    const err = caught(() => validateGroupPartitionSnapshot({ ...good, ...change }));
    t.ok(isShoalError(err, 'SHOAL_PROTOCOL_INVALID') && err.details?.field === field, field);
  }
  t.equal(
    codeOf(() => validateGroupPartitionSnapshot('x')),
    'SHOAL_PROTOCOL_INVALID',
  );
});
