import t from 'tap';
import {
  checkSamePartitionCount,
  createXxHash32,
  DEFAULT_PARTITION_COUNT,
  MAX_PARTITION_COUNT,
  Partitioner,
} from '../../src/index.js';

// groupcache-style hand-checkable hash: the decimal number the key spells.
const parseHash = (key: string): number => Number.parseInt(key, 10) >>> 0;

t.test('Partitioner partitionOf is the hash modulo the partition count (hand-checked)', async (t) => {
  const partitioner = new Partitioner(7, parseHash);
  t.equal(partitioner.partitionCount, 7);
  t.equal(partitioner.partitionOf('0'), 0);
  t.equal(partitioner.partitionOf('6'), 6);
  t.equal(partitioner.partitionOf('7'), 0);
  t.equal(partitioner.partitionOf('23'), 2);
});

t.test('Partitioner partitionOf stays non-negative when a hash returns a signed int32', async (t) => {
  const partitioner = new Partitioner(10, () => -1); // -1 is 0xffffffff = 4294967295 unsigned
  t.equal(partitioner.partitionOf('any'), 5);
});

t.test(
  'Partitioner partitionOf is pinned for known keys with xxhash32 (a library change would remap keys)',
  async (t) => {
    const hash = await createXxHash32();
    const small = new Partitioner(DEFAULT_PARTITION_COUNT, hash);
    const large = new Partitioner(4096, hash);
    t.equal(DEFAULT_PARTITION_COUNT, 271);
    const pinned: Array<[string, number, number]> = [
      ['', 91, 3333],
      ['abc', 48, 1023],
      ['user:42', 41, 3991],
      ['session:9f1c', 191, 1375],
      ['ключ', 56, 347],
    ];
    for (const [key, p271, p4096] of pinned) {
      t.equal(small.partitionOf(key), p271, `${key} of 271`);
      t.equal(large.partitionOf(key), p4096, `${key} of 4096`);
    }
  },
);

t.test('Partitioner spreads many keys evenly over the partitions', async (t) => {
  const partitioner = new Partitioner(DEFAULT_PARTITION_COUNT, await createXxHash32());
  const counts = new Array<number>(DEFAULT_PARTITION_COUNT).fill(0);
  const keys = 271_000;
  for (let i = 0; i < keys; i++) counts[partitioner.partitionOf(`key:${i}`)]!++;
  // 1000 expected per partition, standard deviation ~32: +-20% is > 6 deviations.
  t.ok(
    Math.min(...counts) > 800 && Math.max(...counts) < 1200,
    `min ${Math.min(...counts)} max ${Math.max(...counts)}`,
  );
});

t.test('Partitioner rejects a partition count that is not an integer in range', async (t) => {
  for (const bad of [0, -1, 1.5, Number.NaN, MAX_PARTITION_COUNT + 1]) {
    t.throws(() => new Partitioner(bad, parseHash), { code: 'SHOAL_ARGUMENT_INVALID' }, String(bad));
  }
  t.doesNotThrow(() => new Partitioner(1, parseHash));
  t.doesNotThrow(() => new Partitioner(MAX_PARTITION_COUNT, parseHash));
});

t.test('checkSamePartitionCount refuses a peer with another partition count at join', async (t) => {
  t.doesNotThrow(() => checkSamePartitionCount(271, 271));
  t.throws(() => checkSamePartitionCount(271, 4096), { code: 'SHOAL_CLUSTER_INCOMPATIBLE' });
  t.throws(() => checkSamePartitionCount(271, '271'), { code: 'SHOAL_CLUSTER_INCOMPATIBLE' });
});

t.test('Partitioner partitionOf hashes a key asked twice in a row once, and every other key afresh', async (t) => {
  let calls = 0;
  const partitioner = new Partitioner(7, (key) => {
    calls++;
    return parseHash(key);
  });
  t.equal(partitioner.partitionOf('23'), 2);
  t.equal(partitioner.partitionOf('23'), 2);
  t.equal(calls, 1, 'the repeated key is not hashed again');
  t.equal(partitioner.partitionOf('8'), 1);
  t.equal(partitioner.partitionOf('23'), 2);
  t.equal(calls, 3, 'a different key, then the first again, are hashed');
});
