import t from 'tap';
import { generateTrace } from '../src/lib/traces.js';
import { runTask } from '../src/runner/child-runner.js';
import { type HitRatioOutput, measureHitRatio } from '../src/scenarios/store/hit-ratio-task.js';
import type { MemoryInput, MemoryOutput } from '../src/scenarios/store/memory-task.js';
import type { ThroughputInput, ThroughputOutput } from '../src/scenarios/store/throughput-task.js';
import { buildValues, valueString } from '../src/scenarios/store/workload.js';

const task = (file: string) => new URL(`../src/scenarios/store/${file}`, import.meta.url);

t.test('store values are distinct strings of exactly the requested length', async (t) => {
  const values = buildValues(1000, 100);
  t.ok(values.every((v) => v.length === 100));
  t.equal(new Set(values).size, 1000);
  t.equal(valueString(123, 10), 'vvvvvvv123');
  t.throws(() => valueString(12345, 4), RangeError);
});

t.test('store hit ratio task matches a reference LRU for lru-cache and adds a Belady ceiling', async (t) => {
  const spec = { kind: 'zipf', keySpace: 2000, length: 20_000, seed: 4, s: 0.9 } as const;
  const out: HitRatioOutput = await measureHitRatio({
    label: 'z',
    trace: spec,
    capacities: [20, 200],
    contenders: ['lru-cache'],
  });
  const trace = generateTrace(spec);
  for (const capacity of [20, 200]) {
    const lru = new Map<number, true>();
    let hits = 0;
    for (const key of trace) {
      if (lru.delete(key)) hits++;
      else if (lru.size >= capacity) lru.delete(lru.keys().next().value as number);
      lru.set(key, true);
    }
    const cell = out.cells.find((c) => c.contender === 'lru-cache' && c.capacity === capacity);
    t.equal(cell?.hits, hits, `lru-cache at ${capacity}`);
    const opt = out.cells.find((c) => c.contender === 'belady' && c.capacity === capacity);
    t.ok((opt?.hits ?? 0) > hits, `belady beats LRU at ${capacity}`);
  }
});

t.test('store throughput and memory tasks run in a child with tiny sizes', async (t) => {
  const tp = await runTask<ThroughputInput, ThroughputOutput>({
    module: task('throughput-task.js'),
    exportName: 'measureThroughput',
    input: {
      contender: 'lru-cache',
      keyCount: 2000,
      capacity: 1000,
      traceLength: 5000,
      zipfS: 0.99,
      seed: 1,
      writeFraction: 0.1,
      valuePool: 16,
      valueBytes: 100,
      warmupRounds: 1,
      timedRounds: 3,
      phaseBudgetMs: 1000,
    },
    timeoutMs: 30_000,
  });
  for (const phase of [tp.get, tp.set, tp.mixed]) {
    t.equal(phase.length, 3);
    t.ok(phase.every((r) => r > 0 && Number.isFinite(r)));
  }
  t.equal(tp.entriesAfter, 1000, 'filled to capacity');
  t.ok(tp.getHitRatio > 0 && tp.getHitRatio < 1);

  const mem = await runTask<MemoryInput, MemoryOutput>({
    module: task('memory-task.js'),
    exportName: 'measureMemory',
    input: { contender: 'lru-cache', entries: 20_000, valueBytes: 100 },
    timeoutMs: 30_000,
  });
  t.equal(mem.size, 20_000);
  // A 100-char one-byte string alone takes ~116 bytes of heap.
  t.ok(mem.bytesPerEntry > 116 && mem.bytesPerEntry < 1000, `${mem.bytesPerEntry} B/entry`);
});
