/**
 * Scenario `store`: Shoal's LocalCache (eviction lru, lfu, tinylfu) against
 * lru-cache on throughput (Zipf 0.99, 1M keys, 500k capacity), hit ratio
 * (four traces, with Belady's optimal as the ceiling) and heap bytes per
 * entry. Every measured run is a fresh child process; see params.ts for sizes.
 */
import { type Comparison, compare } from '../lib/compare.js';
import { summarize } from '../lib/stats.js';
import { formatDifference, formatRatio, formatSi, formatSummary, formatValue } from '../report/format.js';
import { barChart, type ChartFile, lineChart } from '../report/svg-chart.js';
import type { TableSpec } from '../report/table.js';
import { runTask, WorkerTaskError } from '../runner/child-runner.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { ANCHOR, CONTENDERS, type ContenderName } from './store/contenders.js';
import type { HitRatioInput, HitRatioOutput } from './store/hit-ratio-task.js';
import type { MemoryInput, MemoryOutput } from './store/memory-task.js';
import { FULL, QUICK, type StoreParams } from './store/params.js';
import type { ThroughputInput, ThroughputOutput } from './store/throughput-task.js';

type Unavailable = Map<ContenderName, string>;
interface Section {
  comparisons: Comparison[];
  tables: TableSpec[];
  charts: ChartFile[];
}

const task = (file: string): URL => new URL(`./store/${file}`, import.meta.url);
const MEMORY_CONTENDERS: readonly ContenderName[] = ['lru-cache', 'shoal-lru'];

/** Runs `fn` unless the contender is known unavailable; learns unavailability from the worker's error code. */
async function guarded<T>(contender: ContenderName, unavailable: Unavailable, fn: () => Promise<T>): Promise<T | null> {
  if (unavailable.has(contender)) return null;
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkerTaskError && err.code === 'BENCH_CONTENDER_UNAVAILABLE') {
      unavailable.set(contender, err.message);
      return null;
    }
    throw err;
  }
}

/** The contenders in a different order each run, so none is always first on a warming machine. */
function rotated<T>(items: readonly T[], run: number): T[] {
  return items.map((_, i) => items[(i + run) % items.length] as T);
}

async function runThroughput(ctx: ScenarioContext, p: StoreParams, unavailable: Unavailable) {
  const outputs = new Map<ContenderName, ThroughputOutput[]>();
  for (let run = 0; run < ctx.runs; run++) {
    for (const contender of rotated(CONTENDERS, run)) {
      const output = await ctx.progress.step(`throughput ${contender} run ${run + 1}/${ctx.runs}`, () =>
        guarded(contender, unavailable, () =>
          runTask<ThroughputInput, ThroughputOutput>({
            module: task('throughput-task.js'),
            exportName: 'measureThroughput',
            input: { ...p.throughput, contender },
            timeoutMs: p.throughputTimeoutMs,
          }),
        ),
      );
      if (output !== null) outputs.set(contender, [...(outputs.get(contender) ?? []), output]);
    }
  }
  return outputs;
}

async function runHitRatio(ctx: ScenarioContext, p: StoreParams, unavailable: Unavailable) {
  const outputs: HitRatioOutput[] = [];
  for (const trace of p.hitRatio.traces) {
    const output = await ctx.progress.step(`hit ratio ${trace.label}`, () =>
      runTask<HitRatioInput, HitRatioOutput>({
        module: task('hit-ratio-task.js'),
        exportName: 'measureHitRatio',
        input: {
          label: trace.label,
          trace: trace.spec,
          capacities: p.hitRatio.sizes.map((s) => Math.round(s * p.hitRatio.keySpace)),
          contenders: CONTENDERS.filter((c) => !unavailable.has(c)),
        },
        timeoutMs: p.hitRatio.timeoutMs,
      }),
    );
    for (const u of output.unavailable) unavailable.set(u.contender, u.reason);
    outputs.push(output);
  }
  return outputs;
}

async function runMemory(ctx: ScenarioContext, p: StoreParams, unavailable: Unavailable) {
  const outputs = new Map<ContenderName, MemoryOutput[]>();
  for (let run = 0; run < ctx.runs; run++) {
    for (const contender of rotated(MEMORY_CONTENDERS, run)) {
      const output = await ctx.progress.step(`memory ${contender} run ${run + 1}/${ctx.runs}`, () =>
        guarded(contender, unavailable, () =>
          runTask<MemoryInput, MemoryOutput>({
            module: task('memory-task.js'),
            exportName: 'measureMemory',
            input: { contender, entries: p.memory.entries, valueBytes: p.memory.valueBytes },
            timeoutMs: p.memory.timeoutMs,
          }),
        ),
      );
      if (output !== null) outputs.set(contender, [...(outputs.get(contender) ?? []), output]);
    }
  }
  return outputs;
}

const OPS = [
  { key: 'get', label: 'get' },
  { key: 'set', label: 'set' },
  { key: 'mixed', label: 'mixed 90/10' },
] as const;
const THROUGHPUT_TARGETS: Partial<Record<ContenderName, Partial<Record<'get' | 'set' | 'mixed', number>>>> = {
  'shoal-lru': { get: 1.0, set: 0.8 },
  'shoal-tinylfu': { get: 0.8 },
};

function throughputSection(outputs: Map<ContenderName, ThroughputOutput[]>): Section {
  const comparisons: Comparison[] = [];
  // Per worker run: the median of its timed rounds; across runs: median, min, max.
  const perRun = (c: ContenderName, op: 'get' | 'set' | 'mixed') => {
    const runs = outputs.get(c);
    return runs === undefined ? null : summarize(runs.map((r) => summarize(r[op]).median));
  };
  const present = CONTENDERS.filter((c) => outputs.has(c));
  const rows = present.map((c) => [
    c,
    ...OPS.flatMap(({ key }) => {
      const s = perRun(c, key)!; // present: it has runs
      const a = perRun(ANCHOR, key);
      return [formatSummary('ops/s', s), a === null ? 'n/a' : formatRatio(s.median / a.median)];
    }),
  ]);
  const anchor = (op: 'get' | 'set' | 'mixed') => perRun(ANCHOR, op);
  for (const c of present) {
    if (c === ANCHOR) continue;
    for (const { key, label } of OPS) {
      const a = anchor(key);
      const s = perRun(c, key);
      if (a === null || s === null) continue;
      const ratio = THROUGHPUT_TARGETS[c]?.[key];
      comparisons.push(
        compare({
          group: 'throughput',
          metric: `${label} ops/s`,
          unit: 'ops/s',
          subject: c,
          anchor: ANCHOR,
          subjectValue: s,
          anchorValue: a,
          ...(ratio === undefined ? {} : { target: { on: 'ratio', op: '>=', value: ratio } }),
        }),
      );
    }
  }
  const table: TableSpec = {
    title: 'Throughput (ops/s, median of runs with min-max; x = ratio to lru-cache)',
    columns: [
      { header: 'contender' },
      ...OPS.flatMap(({ label }) => [
        { header: label, align: 'right' as const },
        { header: 'x', align: 'right' as const },
      ]),
    ],
    rows,
  };
  const charts: ChartFile[] =
    present.length === 0
      ? []
      : [
          {
            name: 'throughput',
            title: 'Throughput, Zipf 0.99 (median ops/s)',
            svg: barChart({
              title: 'Throughput, Zipf 0.99 (median ops/s)',
              yLabel: 'ops/s',
              categories: OPS.map((o) => o.label),
              series: present.map((c) => ({
                name: c,
                values: OPS.map(({ key }) => perRun(c, key)?.median ?? Number.NaN),
              })),
              formatY: formatSi,
            }),
          },
        ];
  return { comparisons, tables: [table], charts };
}

const HIT_CONTENDERS = ['belady', ...CONTENDERS] as const;

/** tinylfu targets: never more than 1 point under lru-cache; on Zipf 0.99 at 1%, at least 5 points over. */
function tinylfuTarget(trace: string, size: number, p: StoreParams): number | null {
  if (!p.hitRatio.targetSizes.includes(size)) return null;
  return trace === 'zipf-0.99' && size === 0.01 ? 0.05 : -0.01;
}

const percentOf = (size: number): string => `${Number((size * 100).toPrecision(3))}%`;

function hitRatioSection(outputs: readonly HitRatioOutput[], p: StoreParams): Section {
  const comparisons: Comparison[] = [];
  const charts: ChartFile[] = [];
  const rows: string[][] = [];
  for (const out of outputs) {
    const ratio = (c: string, capacity: number) =>
      out.cells.find((cell) => cell.contender === c && cell.capacity === capacity)?.hitRatio;
    const present = HIT_CONTENDERS.filter((c) => out.cells.some((cell) => cell.contender === c));
    for (const size of p.hitRatio.sizes) {
      const capacity = Math.round(size * p.hitRatio.keySpace);
      const anchor = ratio(ANCHOR, capacity);
      const cellText = (c: string): string => {
        const r = ratio(c, capacity);
        if (r === undefined) return 'n/a';
        if (c === ANCHOR || c === 'belady' || anchor === undefined) return formatValue('fraction', r);
        return `${formatValue('fraction', r)} (${formatDifference('fraction', r - anchor)})`;
      };
      rows.push([out.label, percentOf(size), ...HIT_CONTENDERS.map(cellText)]);
      const target = tinylfuTarget(out.label, size, p);
      const subject = ratio('shoal-tinylfu', capacity);
      if (target === null || subject === undefined || anchor === undefined) continue;
      comparisons.push(
        compare({
          group: 'hit ratio',
          metric: `${out.label} @ ${percentOf(size)}`,
          unit: 'fraction',
          subject: 'shoal-tinylfu',
          anchor: ANCHOR,
          subjectValue: summarize([subject]),
          anchorValue: summarize([anchor]),
          target: { on: 'difference', op: '>=', value: target },
        }),
      );
    }
    const title = `Hit ratio vs cache size: ${out.label}`;
    charts.push({
      name: `hit-ratio-${out.label}`,
      title,
      svg: lineChart({
        title,
        xLabel: `cache size (% of ${p.hitRatio.keySpace} keys, log scale)`,
        yLabel: 'hit ratio',
        xScale: 'log',
        series: present.map((c) => ({
          name: c,
          style: c === ANCHOR ? 'wide' : c === 'belady' ? 'dashed' : 'solid',
          points: p.hitRatio.sizes.flatMap((size) => {
            const r = ratio(c, Math.round(size * p.hitRatio.keySpace));
            return r === undefined ? [] : [[size * 100, r] as const];
          }),
        })),
        formatX: (x) => `${x}%`,
        formatY: (y) => `${Math.round(y * 100)}%`,
      }),
    });
  }
  const table: TableSpec = {
    title: 'Hit ratio (read-through; points vs lru-cache in parentheses; belady = optimal ceiling)',
    columns: [
      { header: 'trace' },
      { header: 'size', align: 'right' },
      ...HIT_CONTENDERS.map((c) => ({ header: c, align: 'right' as const })),
    ],
    rows,
  };
  return { comparisons, tables: [table], charts };
}

function memorySection(outputs: Map<ContenderName, MemoryOutput[]>): Section {
  const heap = (c: ContenderName) => {
    const runs = outputs.get(c);
    return runs === undefined ? null : summarize(runs.map((r) => r.bytesPerEntry));
  };
  const total = (c: ContenderName) => {
    const runs = outputs.get(c);
    return runs === undefined ? null : summarize(runs.map((r) => r.bytesPerEntry + r.externalPerEntry));
  };
  const comparisons: Comparison[] = [];
  const rows: string[][] = [];
  const anchorHeap = heap(ANCHOR);
  const anchorTotal = total(ANCHOR);
  for (const c of MEMORY_CONTENDERS) {
    const h = heap(c);
    const t = total(c);
    if (h === null || t === null) continue;
    rows.push([
      c,
      formatSummary('bytes', h),
      anchorHeap === null ? 'n/a' : formatRatio(h.median / anchorHeap.median),
      formatSummary('bytes', t),
      anchorTotal === null ? 'n/a' : formatRatio(t.median / anchorTotal.median),
    ]);
    if (c === ANCHOR || anchorHeap === null || anchorTotal === null) continue;
    const base = { group: 'memory', unit: 'bytes', subject: c, anchor: ANCHOR } as const;
    comparisons.push(
      compare({
        ...base,
        metric: 'heap B/entry',
        subjectValue: h,
        anchorValue: anchorHeap,
        target: { on: 'ratio', op: '<=', value: 1.1 },
      }),
      compare({ ...base, metric: 'heap+external B/entry', subjectValue: t, anchorValue: anchorTotal }),
    );
  }
  const table: TableSpec = {
    title: 'Memory per entry (100-byte distinct string values; heap = heapUsed delta after gc)',
    columns: [
      { header: 'contender' },
      { header: 'heap B/entry', align: 'right' },
      { header: 'x', align: 'right' },
      { header: 'heap+external B/entry', align: 'right' },
      { header: 'x', align: 'right' },
    ],
    rows,
  };
  return { comparisons, tables: [table], charts: [] };
}

export const store: Scenario = {
  name: 'store',
  description:
    "LocalCache (lru, lfu, tinylfu) vs lru-cache: get/set/mixed throughput on Zipf 0.99, hit ratio on four traces with Belady's optimal, heap bytes per entry.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const unavailable: Unavailable = new Map();
    ctx.progress.start(CONTENDERS.length * ctx.runs + p.hitRatio.traces.length + MEMORY_CONTENDERS.length * ctx.runs);
    const throughput = await runThroughput(ctx, p, unavailable);
    const hitRatio = await runHitRatio(ctx, p, unavailable);
    const memory = await runMemory(ctx, p, unavailable);
    const sections = [throughputSection(throughput), hitRatioSection(hitRatio, p), memorySection(memory)];
    const notes = [...unavailable].map(([c, reason]) => `${c} did not run: ${reason}`);
    const expected = p.memory.entries;
    for (const [c, runs] of memory) {
      if (runs.some((r) => r.size !== expected))
        notes.push(`${c} held fewer than ${expected} entries in the memory run`);
    }
    return {
      params: { runs: ctx.runs, quick: ctx.quick, ...p },
      comparisons: sections.flatMap((s) => s.comparisons),
      tables: sections.flatMap((s) => s.tables),
      charts: sections.flatMap((s) => s.charts),
      notes,
      data: {
        throughput: Object.fromEntries(throughput),
        hitRatio,
        memory: Object.fromEntries(memory),
      },
    };
  },
};
