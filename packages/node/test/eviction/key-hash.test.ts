import t from 'tap';
import { hashKey } from '../../src/eviction/key-hash.js';

const popcount = (x: number) => {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
};

t.test('hashKey returns a deterministic unsigned 32-bit integer', async (t) => {
  for (const key of ['', 'a', 'ab', 'abc', 'user:42', 'é€😀', 'x'.repeat(1000)]) {
    const h = hashKey(key);
    t.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, `${JSON.stringify(key.slice(0, 8))} -> ${h}`);
    t.equal(hashKey(key), h, 'same key, same hash');
  }
  // One code unit below 256 goes through murmur3's tail exactly like one byte would.
  t.equal(hashKey(''), 0, 'murmur3_32 of the empty input, seed 0');
  t.equal(hashKey('a'), 0x3c2569b2, "murmur3_32('a'), seed 0");
  t.not(hashKey('a'), hashKey('b'));
  t.not(hashKey('ab'), hashKey('ba'), 'order matters');
  t.not(hashKey('a'), hashKey('a\0'), 'length matters');
});

t.test('hashKey spreads sequential keys evenly over the low bits', async (t) => {
  const buckets = new Array<number>(256).fill(0);
  const n = 256 * 200;
  for (let i = 0; i < n; i++) buckets[hashKey(`key:${i}`) & 255]++;
  const expected = n / 256;
  const chiSquare = buckets.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
  // 255 degrees of freedom: the 99.9th percentile is about 330.
  t.ok(chiSquare < 330, `chi-square ${chiSquare.toFixed(1)}`);
});

t.test('hashKey flips about half the output bits when one input character changes', async (t) => {
  let total = 0;
  let samples = 0;
  for (let i = 0; i < 2000; i++) {
    const key = `session:${i}:token`;
    const changed = `session:${i}:tokeo`;
    total += popcount(hashKey(key) ^ hashKey(changed));
    samples++;
  }
  const mean = total / samples;
  t.ok(mean > 15 && mean < 17, `mean flipped bits ${mean.toFixed(2)}`);
});
