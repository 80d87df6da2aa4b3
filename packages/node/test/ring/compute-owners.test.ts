import t from 'tap';
import { capacityPerMember, computeOwners, createXxHash32, type HashFunction } from '../../src/index.js';
import { maxOverMean, memberIds, movedFraction, primaryMaxOverMean } from './ring-helpers.js';

const parseHash: HashFunction = (key) => Number.parseInt(key, 10) >>> 0;
const xxhash = await createXxHash32();

t.test('computeOwners follows the rendezvous ranks when no cap binds (hand-checked)', async (t) => {
  // partitionCount 7, parse hash: member 1 has step 2 offset 0, member 7 step 2 offset 1, so
  // ranks are 2p mod 7 and (2p + 1) mod 7: member 7 ranks higher everywhere but at p = 3 (6 > 0).
  // Caps are 6 or 7 (3.5 + 0.6 * sqrt(3.5) + 2 = 6.6), above member 7's six partitions.
  const owners = computeOwners({ members: ['1', '7'], partitionCount: 7, replicas: 1, hash: parseHash });
  t.same(owners, [['7'], ['7'], ['7'], ['1'], ['7'], ['7'], ['7']]);
});

t.test('computeOwners moves a full member weakest partitions to their next choice (hand-checked)', async (t) => {
  // Same ranks; capacity 4 (an integer cap is exact: floor(4 + share) = 4). Member 7 ranks its six
  // partitions p6 (6), p2 (5), p5 (4), p1 (3), p4 (2), p0 (1): it keeps the best four.
  const owners = computeOwners({ members: ['1', '7'], partitionCount: 7, replicas: 1, hash: parseHash, capacity: 4 });
  t.same(owners, [['1'], ['7'], ['7'], ['1'], ['1'], ['7'], ['7']]);
});

t.test('computeOwners lists every member, best rank first, when there are fewer members than replicas', async (t) => {
  const owners = computeOwners({ members: ['7', '1'], partitionCount: 7, replicas: 3, hash: parseHash });
  const expected = [0, 1, 2, 3, 4, 5, 6].map((p) => (p === 3 ? ['1', '7'] : ['7', '1']));
  t.same(owners, expected);
  const one = computeOwners({ members: ['a'], partitionCount: 5, replicas: 2, hash: xxhash });
  t.same(one, [['a'], ['a'], ['a'], ['a'], ['a']]);
});

t.test('computeOwners gives empty rows without members', async (t) => {
  t.same(computeOwners({ members: [], partitionCount: 3, replicas: 2, hash: xxhash }), [[], [], []]);
});

t.test('computeOwners returns the same table for the same members in any order, with duplicates', async (t) => {
  const ids = memberIds(37);
  const base = computeOwners({ members: ids, partitionCount: 271, replicas: 2, hash: xxhash });
  const shuffled = [...ids].reverse();
  shuffled.splice(5, 0, ids[3]!, ids[9]!);
  t.same(computeOwners({ members: shuffled, partitionCount: 271, replicas: 2, hash: xxhash }), base);
  const rotated = [...ids.slice(20), ...ids.slice(0, 20)];
  t.same(computeOwners({ members: rotated, partitionCount: 271, replicas: 2, hash: xxhash }), base);
});

t.test('computeOwners gives each partition min(replicas, members) distinct members', async (t) => {
  for (const [members, partitionCount, replicas] of [
    [3, 271, 2],
    [3, 271, 3],
    [4, 271, 5],
    [10, 4096, 3],
    [100, 271, 2],
    [300, 271, 3],
    [1000, 271, 1],
  ] as const) {
    const ids = memberIds(members);
    const owners = computeOwners({ members: ids, partitionCount, replicas, hash: xxhash });
    const width = Math.min(replicas, members);
    const known = new Set(ids);
    const bad = owners.filter(
      (row) => row.length !== width || new Set(row).size !== width || !row.every((id) => known.has(id)),
    );
    t.equal(owners.length, partitionCount);
    t.equal(bad.length, 0, `${members} members, ${partitionCount} partitions, ${replicas} replicas`);
  }
});

t.test(
  'computeOwners keeps max/mean copies per member at or below 1.10 at 100 members and 4096 partitions',
  async (t) => {
    for (const set of [0, 1, 2]) {
      const owners = computeOwners({ members: memberIds(100, set), partitionCount: 4096, replicas: 2, hash: xxhash });
      const ratio = maxOverMean(owners, 100);
      t.ok(ratio <= 1.1, `cluster ${set}: max/mean ${ratio.toFixed(3)}`);
      t.ok(primaryMaxOverMean(owners, 100) <= 1.2, 'primaries are balanced too');
    }
  },
);

t.test('computeOwners never gives a member more copies than its capacity ceiling', async (t) => {
  for (const [members, partitionCount, replicas] of [
    [10, 271, 2],
    [30, 271, 2],
    [100, 271, 3],
    [1000, 4096, 2],
  ] as const) {
    const owners = computeOwners({ members: memberIds(members), partitionCount, replicas, hash: xxhash });
    const mean = (partitionCount * replicas) / members;
    const ceiling = Math.ceil(capacityPerMember(partitionCount, replicas, members));
    t.ok(maxOverMean(owners, members) * mean <= ceiling, `${members} x ${partitionCount} x ${replicas}: <= ${ceiling}`);
  }
});

t.test('computeOwners balances even with a hash that clusters member ids', async (t) => {
  // Member hashes 0..99: steps and offsets crowd together. The cap still bounds every member.
  const ids = Array.from({ length: 100 }, (_, i) => String(i));
  const owners = computeOwners({ members: ids, partitionCount: 4096, replicas: 2, hash: parseHash });
  t.ok(maxOverMean(owners, 100) <= 1.1);
});

/** Mean moved fraction over `trials` independent clusters of `n` members, as a multiple of the ideal. */
function movement(n: number, change: 'join' | 'leave', trials: number, replicas = 2, partitionCount = 4096): number {
  let sum = 0;
  for (let set = 0; set < trials; set++) {
    const ids = memberIds(n, set);
    const input = { partitionCount, replicas, hash: xxhash };
    const before = computeOwners({ ...input, members: ids });
    if (change === 'join') {
      const after = computeOwners({ ...input, members: [...ids, `joiner-${set}`] });
      sum += movedFraction(before, after) * (n + 1); // ideal: the joiner's share, 1 / (n + 1)
    } else {
      const after = computeOwners({ ...input, members: ids.filter((_, i) => i !== (set * 7 + 1) % n) });
      sum += movedFraction(before, after) * n; // ideal: the leaver's share, 1 / n
    }
  }
  return sum / trials;
}

t.test('computeOwners moves at most 1.2/N of copies when a node joins', async (t) => {
  for (const [n, trials] of [
    [3, 6],
    [10, 6],
    [100, 6],
    [1000, 8],
  ] as const) {
    const ratio = movement(n, 'join', trials);
    t.ok(ratio <= 1.2, `${n} -> ${n + 1} members: ${ratio.toFixed(3)} x ideal`);
  }
});

t.test('computeOwners moves at most 1.2/N of copies when a node leaves', async (t) => {
  for (const [n, trials] of [
    [3, 6],
    [10, 6],
    [100, 6],
    [1000, 8],
  ] as const) {
    const ratio = movement(n, 'leave', trials);
    t.ok(ratio <= 1.2, `${n} -> ${n - 1} members: ${ratio.toFixed(3)} x ideal`);
  }
});

t.test('computeOwners moves only copies that must move when the cap does not bind', async (t) => {
  // Three members, two replicas: each member holds 2/3 of the partitions and no cap binds,
  // so a joiner takes exactly the copies it now ranks among the top two.
  const ids = memberIds(3);
  const input = { partitionCount: 271, replicas: 2, hash: xxhash };
  const before = computeOwners({ ...input, members: ids });
  const after = computeOwners({ ...input, members: [...ids, 'joiner'] });
  const strays = after.flatMap((row, p) => row.filter((id) => id !== 'joiner' && !before[p]!.includes(id)));
  t.same(strays, [], 'only the joiner gains copies');
  t.ok(after.some((row) => row.includes('joiner')));
});

t.test('computeOwners computes 1000 members x 4096 partitions well under a second', async (t) => {
  const ids = memberIds(1000);
  computeOwners({ members: ids, partitionCount: 4096, replicas: 2, hash: xxhash }); // warm up
  const start = performance.now();
  computeOwners({ members: ids, partitionCount: 4096, replicas: 3, hash: xxhash });
  const ms = performance.now() - start;
  t.ok(ms < 1000, `${ms.toFixed(0)} ms`);
});

t.test('computeOwners rejects bad input naming the field', async (t) => {
  const base = { members: ['a', 'b'], partitionCount: 7, replicas: 2, hash: xxhash };
  const invalid = { code: 'SHOAL_ARGUMENT_INVALID' };
  t.throws(() => computeOwners({ ...base, replicas: 0 }), invalid);
  t.throws(() => computeOwners({ ...base, replicas: 17 }), invalid);
  t.throws(() => computeOwners({ ...base, partitionCount: 0 }), invalid);
  t.throws(() => computeOwners({ ...base, members: ['a', ''] }), invalid);
  t.throws(() => computeOwners({ ...base, capacity: 0 }), invalid);
  t.throws(() => computeOwners({ ...base, capacity: Number.POSITIVE_INFINITY }), invalid);
});
