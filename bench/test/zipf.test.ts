import t from 'tap';
import { Prng } from '../src/lib/prng.js';
import { generateTrace } from '../src/lib/traces.js';
import { ZipfGenerator } from '../src/lib/zipf.js';

const take = (n: number, next: () => number): number[] => Array.from({ length: n }, next);

t.test('Prng replays the same sequence for the same seed and a different one for another seed', async (t) => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const seqA = take(100, () => a.nextU32());
  t.same(
    seqA,
    take(100, () => b.nextU32()),
  );
  t.not(JSON.stringify(seqA), JSON.stringify(take(100, () => c.nextU32())));
  const floats = take(10_000, () => a.nextFloat());
  t.ok(
    floats.every((f) => f >= 0 && f < 1),
    'floats in [0, 1)',
  );
  const mean = floats.reduce((s, f) => s + f, 0) / floats.length;
  t.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean} near 0.5`);
});

t.test('Prng shuffle is a seeded permutation', async (t) => {
  const shuffled = new Prng(7).shuffle(Uint32Array.from({ length: 1000 }, (_, i) => i));
  t.same(
    [...shuffled].sort((x, y) => x - y),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  t.same(shuffled, new Prng(7).shuffle(Uint32Array.from({ length: 1000 }, (_, i) => i)));
});

t.test('ZipfGenerator is deterministic for a seed', async (t) => {
  const a = new ZipfGenerator(1000, 0.99, new Prng(1));
  const b = new ZipfGenerator(1000, 0.99, new Prng(1));
  t.same(
    take(1000, () => a.next()),
    take(1000, () => b.next()),
  );
});

t.test('ZipfGenerator draws ranks with probability proportional to 1/(r+1)^s', async (t) => {
  const n = 1000;
  const s = 0.99;
  const zipf = new ZipfGenerator(n, s, new Prng(3));
  // Exact probabilities: p(0)/p(1) = 2^s and they sum to 1.
  t.ok(Math.abs(zipf.probability(0) / zipf.probability(1) - 2 ** s) < 1e-9);
  let total = 0;
  for (let r = 0; r < n; r++) total += zipf.probability(r);
  t.ok(Math.abs(total - 1) < 1e-9);
  // Empirical frequencies match within a few standard errors.
  const samples = 200_000;
  const counts = new Uint32Array(n);
  for (let i = 0; i < samples; i++) counts[zipf.next()]++;
  for (const r of [0, 1, 2, 9, 99]) {
    const p = zipf.probability(r);
    const sd = Math.sqrt(samples * p * (1 - p));
    t.ok(
      Math.abs((counts[r] as number) - samples * p) < 5 * sd,
      `rank ${r}: ${counts[r]} ~ ${Math.round(samples * p)}`,
    );
  }
  t.ok((counts[0] as number) > (counts[1] as number) && (counts[1] as number) > (counts[3] as number), 'decreasing');
});

t.test('ZipfGenerator with s = 0 is uniform and rejects bad parameters', async (t) => {
  const zipf = new ZipfGenerator(4, 0, new Prng(5));
  for (let r = 0; r < 4; r++) t.ok(Math.abs(zipf.probability(r) - 0.25) < 1e-12);
  t.throws(() => new ZipfGenerator(0, 1, new Prng(1)), RangeError);
  t.throws(() => new ZipfGenerator(10, -1, new Prng(1)), RangeError);
});

t.test('generateTrace is a pure function of its spec and stays inside the key space', async (t) => {
  const specs = [
    { kind: 'zipf', keySpace: 500, length: 5000, seed: 9, s: 0.8 },
    {
      kind: 'loop-scan',
      keySpace: 500,
      length: 5000,
      seed: 9,
      hotFraction: 0.05,
      hotS: 0.9,
      scanFraction: 0.3,
      hotRun: 350,
    },
    {
      kind: 'shifting',
      keySpace: 500,
      length: 5000,
      seed: 9,
      hotFraction: 0.05,
      hotS: 0.9,
      shiftEvery: 500,
      noise: 0.1,
    },
  ] as const;
  for (const spec of specs) {
    const trace = generateTrace(spec);
    t.equal(trace.length, 5000, spec.kind);
    t.same(trace, generateTrace(spec), `${spec.kind} deterministic`);
    t.ok(
      trace.every((k) => k < 500),
      `${spec.kind} keys in range`,
    );
  }
});

t.test('generateTrace loop-scan repeats the same full scan after each hot run', async (t) => {
  const trace = generateTrace({
    kind: 'loop-scan',
    keySpace: 100,
    length: 2 * (20 + 30),
    seed: 1,
    hotFraction: 0.05,
    hotS: 0.9,
    scanFraction: 0.3,
    hotRun: 20,
  });
  const scan1 = [...trace.subarray(20, 50)];
  const scan2 = [...trace.subarray(70, 100)];
  t.same(scan1, scan2);
  t.equal(new Set(scan1).size, 30, 'a scan visits 30 distinct keys');
  const hot = new Set([...trace.subarray(0, 20), ...trace.subarray(50, 70)]);
  t.ok(hot.size <= 5, 'hot accesses stay within the 5-key hot set');
  t.notOk(
    scan1.some((k) => hot.has(k)),
    'scan range is disjoint from the hot set',
  );
});

t.test('generateTrace shifting moves its hot set between phases', async (t) => {
  const trace = generateTrace({
    kind: 'shifting',
    keySpace: 10_000,
    length: 4000,
    seed: 2,
    hotFraction: 0.01,
    hotS: 0.5,
    shiftEvery: 2000,
    noise: 0,
  });
  const first = new Set(trace.subarray(0, 2000));
  const second = new Set(trace.subarray(2000));
  t.ok(first.size <= 100 && second.size <= 100, 'each phase stays within a 100-key hot set');
  const shared = [...second].filter((k) => first.has(k)).length;
  t.ok(shared < second.size, 'the hot set moved');
});
