import t from 'tap';
import { createXxHash32, PartitionTable, type PartitionTableWire } from '../../src/index.js';
import { memberIds } from './ring-helpers.js';

const hash = await createXxHash32();

/** A small hand-written table: 4 partitions, 2 replicas, members a b c. */
function handTable(version = 3): PartitionTable {
  return new PartitionTable({
    version,
    partitionCount: 4,
    replicas: 2,
    members: ['c', 'a', 'b'],
    owners: [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'a'],
      ['a', 'c'],
    ],
  });
}

t.test('PartitionTable primaryOf and ownersOf read the ordered owners', async (t) => {
  const table = handTable();
  t.equal(table.version, 3);
  t.same(table.members, ['a', 'b', 'c'], 'members are sorted');
  t.equal(table.primaryOf(0), 'a');
  t.equal(table.primaryOf(2), 'c');
  t.same(table.ownersOf(1), ['b', 'c']);
  t.equal(table.primaryOf(4), undefined, 'out of range');
  t.throws(() => table.ownersOf(4), { code: 'SHOAL_ARGUMENT_INVALID' });
  t.ok(Object.isFrozen(table.owners) && Object.isFrozen(table.owners[0]), 'immutable');
});

t.test('PartitionTable partitionsOwnedBy lists partitions with the member role', async (t) => {
  const table = handTable();
  t.same(table.partitionsOwnedBy('a'), [
    { partition: 0, role: 'primary', rank: 0 },
    { partition: 2, role: 'replica', rank: 1 },
    { partition: 3, role: 'primary', rank: 0 },
  ]);
  t.same(table.partitionsOwnedBy('b'), [
    { partition: 0, role: 'replica', rank: 1 },
    { partition: 1, role: 'primary', rank: 0 },
  ]);
  t.same(table.partitionsOwnedBy('stranger'), []);
});

t.test('PartitionTable compute gives the computeOwners table with the given version', async (t) => {
  const ids = memberIds(20);
  const table = PartitionTable.compute({ version: 9, members: ids, partitionCount: 271, replicas: 2, hash });
  t.equal(table.version, 9);
  t.equal(table.owners.length, 271);
  const held = ids.reduce((sum, id) => sum + table.partitionsOwnedBy(id).length, 0);
  t.equal(held, 271 * 2, 'partitionsOwnedBy covers every copy once');
  const primaries = ids.reduce(
    (sum, id) => sum + table.partitionsOwnedBy(id).filter((o) => o.role === 'primary').length,
    0,
  );
  t.equal(primaries, 271);
});

t.test('PartitionTable wire form round-trips and stays compact', async (t) => {
  const table = PartitionTable.compute({ version: 5, members: memberIds(10), partitionCount: 271, replicas: 3, hash });
  const wire = table.toWire();
  t.equal(wire.length, 5);
  t.equal(wire[4].length, 271 * 3, 'owners as member indexes');
  t.ok(wire[4].every((i) => Number.isInteger(i) && i >= 0 && i < 10));
  const back = PartitionTable.fromWire(JSON.parse(JSON.stringify(wire)), { partitionCount: 271 });
  t.same(back.owners, table.owners);
  t.equal(back.version, 5);
  t.equal(back.replicas, 3);
  t.same(handTable().toWire(), [3, 4, 2, ['a', 'b', 'c'], [0, 1, 1, 2, 2, 0, 0, 2]]);
});

t.test('PartitionTable fromWire accepts a table without members', async (t) => {
  const empty = PartitionTable.fromWire([1, 3, 2, [], []]);
  t.same(empty.owners, [[], [], []]);
  t.equal(empty.primaryOf(0), undefined);
});

t.test('PartitionTable fromWire rejects malformed tables with SHOAL_PROTOCOL_INVALID', async (t) => {
  const good = (): PartitionTableWire => [3, 4, 2, ['a', 'b', 'c'], [0, 1, 1, 2, 2, 0, 0, 2]];
  const cases: Array<[string, unknown]> = [
    ['not an array', { version: 1 }],
    ['wrong arity', good().slice(0, 4)],
    ['negative version', Object.assign(good(), { 0: -1 })],
    ['fractional version', Object.assign(good(), { 0: 1.5 })],
    ['zero partitions', Object.assign(good(), { 1: 0 })],
    ['zero replicas', Object.assign(good(), { 2: 0 })],
    ['members not an array', Object.assign(good(), { 3: 'abc' })],
    ['duplicate member', Object.assign(good(), { 3: ['a', 'a', 'c'] })],
    ['empty member id', Object.assign(good(), { 3: ['a', '', 'c'] })],
    ['owner rows too short', Object.assign(good(), { 4: [0, 1, 1, 2, 2, 0, 0] })],
    ['owner rows too long', Object.assign(good(), { 4: [0, 1, 1, 2, 2, 0, 0, 2, 1] })],
    ['owner index out of range', Object.assign(good(), { 4: [0, 1, 1, 2, 2, 0, 0, 3] })],
    ['owner index not an integer', Object.assign(good(), { 4: [0, 1, 1, 2, 2, 0, 0, 'c'] })],
    ['owner listed twice', Object.assign(good(), { 4: [0, 1, 1, 1, 2, 0, 0, 2] })],
    ['partition count disagrees with rows', Object.assign(good(), { 1: 3 })],
  ];
  for (const [name, wire] of cases)
    t.throws(() => PartitionTable.fromWire(wire), { code: 'SHOAL_PROTOCOL_INVALID' }, name);
});

t.test('PartitionTable fromWire refuses another partition count as an incompatible cluster', async (t) => {
  const wire = handTable().toWire();
  t.throws(() => PartitionTable.fromWire(wire, { partitionCount: 271 }), { code: 'SHOAL_CLUSTER_INCOMPATIBLE' });
  t.doesNotThrow(() => PartitionTable.fromWire(wire, { partitionCount: 4 }));
});

t.test('PartitionTable constructor rejects rows of the wrong length or with strangers', async (t) => {
  const init = {
    version: 1,
    partitionCount: 2,
    replicas: 2,
    members: ['a', 'b', 'c'],
    owners: [['a', 'b'], ['c']],
  };
  t.throws(() => new PartitionTable(init), { code: 'SHOAL_ARGUMENT_INVALID' }, 'short row');
  t.throws(
    () =>
      new PartitionTable({
        ...init,
        owners: [
          ['a', 'b'],
          ['c', 'z'],
        ],
      }),
    { code: 'SHOAL_ARGUMENT_INVALID' },
  );
  t.throws(() => new PartitionTable({ ...init, owners: [['a', 'b']] }), { code: 'SHOAL_ARGUMENT_INVALID' }, 'count');
  // Fewer members than replicas: rows hold every member.
  t.doesNotThrow(
    () =>
      new PartitionTable({
        ...init,
        replicas: 5,
        owners: [
          ['a', 'b', 'c'],
          ['c', 'b', 'a'],
        ],
      }),
  );
});
