import t from 'tap';
import { createXxHash32, diffTables, PartitionTable } from '../../src/index.js';
import { memberIds, movedFraction } from './ring-helpers.js';

const hash = await createXxHash32();

function table(version: number, members: string[], owners: string[][]): PartitionTable {
  return new PartitionTable({ version, partitionCount: owners.length, replicas: 2, members, owners });
}

t.test('diffTables lists gained and lost copies and primary handoffs per partition (hand-checked)', async (t) => {
  const old = table(
    1,
    ['a', 'b', 'c'],
    [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'a'],
      ['a', 'c'],
    ],
  );
  const next = table(
    2,
    ['a', 'b', 'c', 'd'],
    [
      ['a', 'b'], // unchanged
      ['d', 'c'], // d replaces b as primary
      ['a', 'c'], // primary handoff only
      ['a', 'd'], // d replaces c as replica
    ],
  );
  t.same(diffTables(old, next), [
    { partition: 1, before: ['b', 'c'], after: ['d', 'c'], gained: ['d'], lost: ['b'], primaryChanged: true },
    { partition: 2, before: ['c', 'a'], after: ['a', 'c'], gained: [], lost: [], primaryChanged: true },
    { partition: 3, before: ['a', 'c'], after: ['a', 'd'], gained: ['d'], lost: ['c'], primaryChanged: false },
  ]);
});

t.test('diffTables ignores a reordering of replicas behind the same primary', async (t) => {
  const old = new PartitionTable({
    version: 1,
    partitionCount: 1,
    replicas: 3,
    members: ['a', 'b', 'c'],
    owners: [['a', 'b', 'c']],
  });
  const next = new PartitionTable({
    version: 2,
    partitionCount: 1,
    replicas: 3,
    members: ['a', 'b', 'c'],
    owners: [['a', 'c', 'b']],
  });
  t.same(diffTables(old, next), []);
});

t.test('diffTables from no table gains every copy', async (t) => {
  const next = table(
    1,
    ['a', 'b'],
    [
      ['a', 'b'],
      ['b', 'a'],
    ],
  );
  t.same(
    diffTables(undefined, next).map((c) => [c.partition, c.gained, c.lost, c.primaryChanged]),
    [
      [0, ['a', 'b'], [], true],
      [1, ['b', 'a'], [], true],
    ],
  );
});

t.test('diffTables agrees with the copies that moved after a node joins', async (t) => {
  const ids = memberIds(30);
  const input = { partitionCount: 271, replicas: 2, hash };
  const old = PartitionTable.compute({ ...input, version: 1, members: ids });
  const next = PartitionTable.compute({ ...input, version: 2, members: [...ids, 'joiner'] });
  const changes = diffTables(old, next);
  const gained = changes.reduce((sum, c) => sum + c.gained.length, 0);
  const lost = changes.reduce((sum, c) => sum + c.lost.length, 0);
  t.equal(gained, Math.round(movedFraction(old.owners, next.owners) * 271 * 2));
  t.equal(lost, gained, 'every partition keeps its replica count');
  const joinerGains = changes.filter((c) => c.gained.includes('joiner')).length;
  t.equal(joinerGains, next.partitionsOwnedBy('joiner').length, 'the joiner receives all its partitions');
  for (const c of changes) {
    t.ok(
      c.gained.every((id) => c.after.includes(id) && !c.before.includes(id)),
      `partition ${c.partition}`,
    );
  }
});

t.test('diffTables refuses tables with different partition counts', async (t) => {
  const a = table(1, ['a', 'b'], [['a', 'b']]);
  const b = table(
    2,
    ['a', 'b'],
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
  );
  t.throws(() => diffTables(a, b), { code: 'SHOAL_ARGUMENT_INVALID' });
});
