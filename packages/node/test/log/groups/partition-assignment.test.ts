/**
 * Partition assignment of a consumer group: every partition to exactly one
 * member, counts within one of each other, the same result whatever the input
 * order, and the fewest moves on join and leave.
 */
import t, { type Test } from 'tap';
import {
  assignPartitions,
  type PartitionAssignment,
  partitionOwners,
} from '../../../src/log/groups/partition-assignment.js';
import { seededRandom } from '../../../src/membership/random.js';
import { codeOf } from './helpers.js';

function checkBalanced(t: Test, assignment: PartitionAssignment, members: string[], partitionCount: number): void {
  const owners = partitionOwners(assignment, partitionCount);
  t.ok(
    owners.every((o) => o !== undefined),
    'every partition has an owner',
  );
  const total = [...assignment.values()].reduce((sum, list) => sum + list.length, 0);
  t.equal(total, partitionCount, 'no partition twice');
  const counts = [...assignment.values()].map((list) => list.length);
  t.ok(Math.max(...counts) - Math.min(...counts) <= 1, `balanced: ${counts.join(',')}`);
  t.same([...assignment.keys()], [...new Set(members)].sort(), 'every member, in id order');
}

/** Partitions whose owner differs between two assignments (a partition with no previous owner counts). */
function moved(previous: PartitionAssignment, next: PartitionAssignment, partitionCount: number): number {
  const a = partitionOwners(previous, partitionCount);
  const b = partitionOwners(next, partitionCount);
  return b.filter((owner, p) => owner !== a[p]).length;
}

t.test('Partition assignment is balanced and complete for any sizes', async (t) => {
  for (const [n, p] of [
    [1, 1],
    [1, 8],
    [3, 10],
    [4, 4],
    [5, 3],
    [7, 271],
  ] as const) {
    const members = Array.from({ length: n }, (_, i) => `m${i}`);
    checkBalanced(t, assignPartitions(members, p), members, p);
  }
  t.same(assignPartitions([], 5), new Map());
  t.same(
    assignPartitions(['a', 'b'], 0),
    new Map([
      ['a', []],
      ['b', []],
    ]),
  );
  t.same(
    assignPartitions(['a', 'b', 'c'], 7),
    new Map([
      ['a', [0, 3, 6]],
      ['b', [1, 4]],
      ['c', [2, 5]],
    ]),
    'from scratch: dealt round-robin in id order',
  );
});

t.test('Partition assignment is deterministic whatever the member order and duplicates', async (t) => {
  const previous = assignPartitions(['b', 'c'], 12);
  const one = assignPartitions(['c', 'a', 'b'], 12, previous);
  const two = assignPartitions(['b', 'b', 'a', 'c'], 12, previous);
  t.same(one, two);
});

t.test('Partition assignment on join moves only what the newcomer gets', async (t) => {
  const members = ['a', 'b', 'c', 'd', 'e'];
  const before = assignPartitions(members, 24);
  const after = assignPartitions([...members, 'f'], 24, before);
  checkBalanced(t, after, [...members, 'f'], 24);
  t.equal(after.get('f')!.length, 4);
  t.equal(moved(before, after, 24), 4, 'the ideal: only the newcomer’s share moves');
  for (const id of members)
    t.ok(
      after.get(id)!.every((p) => before.get(id)!.includes(p)),
      `${id} only lost`,
    );
});

t.test('Partition assignment on leave moves only the leaver’s partitions', async (t) => {
  const members = ['a', 'b', 'c', 'd', 'e'];
  const before = assignPartitions(members, 24);
  const after = assignPartitions(['a', 'b', 'd', 'e'], 24, before);
  checkBalanced(t, after, ['a', 'b', 'd', 'e'], 24);
  t.equal(moved(before, after, 24), before.get('c')!.length);
  for (const id of ['a', 'b', 'd', 'e']) {
    t.ok(
      before.get(id)!.every((p) => after.get(id)!.includes(p)),
      `${id} kept all`,
    );
  }
});

t.test('Partition assignment stays minimal over random joins and leaves', async (t) => {
  const random = seededRandom(11);
  const partitionCount = 37;
  let members = ['m0', 'm1', 'm2'];
  let current = assignPartitions(members, partitionCount);
  let next = 3;
  for (let step = 0; step < 200; step++) {
    const join = members.length < 2 || (members.length < 12 && random.next() < 0.5);
    let ideal: number;
    if (join) {
      members = [...members, `m${next++}`];
      ideal = Math.floor(partitionCount / members.length); // at least the newcomer's floor share
    } else {
      const leaver = members[Math.floor(random.next() * members.length)]!;
      ideal = current.get(leaver)!.length;
      members = members.filter((m) => m !== leaver);
    }
    const after = assignPartitions(members, partitionCount, current);
    const n = moved(current, after, partitionCount);
    if (join ? n > ideal + 1 : n !== ideal)
      t.fail(`step ${step}: moved ${n}, ideal ${ideal} (${join ? 'join' : 'leave'})`);
    const counts = [...after.values()].map((l) => l.length);
    if (Math.max(...counts) - Math.min(...counts) > 1) t.fail(`step ${step}: unbalanced`);
    current = after;
  }
  t.pass('200 membership changes');
});

t.test('Partition assignment ignores stale previous entries and rejects bad input', async (t) => {
  const previous = new Map([
    ['a', [0, 1, 99, -1]],
    ['b', [1, 2]],
    ['gone', [3]],
  ]);
  const result = assignPartitions(['a', 'b'], 4, previous);
  t.same(result.get('a'), [0, 1], 'a keeps 0 and 1 (first in id order wins 1)');
  t.same(result.get('b'), [2, 3]);
  t.equal(
    codeOf(() => assignPartitions(['a'], -1)),
    'SHOAL_ARGUMENT_INVALID',
  );
  t.equal(
    codeOf(() => assignPartitions([''], 3)),
    'SHOAL_ARGUMENT_INVALID',
  );
});
