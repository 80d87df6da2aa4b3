/**
 * Scenario `memory`: what an entry costs at 1M keys. A Shoal node in a child
 * process (one member, so one copy) filled with small string values, against
 * redis-server holding the same keys and values: heap (Shoal) vs
 * `used_memory` (Redis) per entry, and resident memory per entry for both.
 */
import { alternatingSteps, redisAnchor, runAlternating } from '../lib/alternating-runs.js';
import { type Comparison, compare } from '../lib/compare.js';
import { summarize } from '../lib/stats.js';
import { formatRatio, formatSummary } from '../report/format.js';
import { barChart, type ChartFile } from '../report/svg-chart.js';
import type { TableSpec } from '../report/table.js';
import { runTask } from '../runner/child-runner.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import type { MemoryInput, MemoryRun, RedisMemoryInput } from './memory/memory-tasks.js';

/** Sizes of the scenario, full and quick. */
export interface MemoryParams {
  readonly entries: number;
  readonly valueBytes: number;
  readonly batch: number;
  readonly timeoutMs: number;
}

export const FULL: MemoryParams = { entries: 1_000_000, valueBytes: 20, batch: 1000, timeoutMs: 240_000 };
export const QUICK: MemoryParams = { ...FULL, entries: 50_000, timeoutMs: 60_000 };

const task = new URL('./memory/memory-tasks.js', import.meta.url);
const input = (p: MemoryParams): MemoryInput => ({ entries: p.entries, valueBytes: p.valueBytes, batch: p.batch });

/** Everything the entries cost the process that holds them: V8 heap plus off-heap typed arrays (0 for Redis). */
const totalBytes = (r: MemoryRun): number => r.bytesPerEntry + r.externalBytesPerEntry;

const FIGURES = [
  { key: 'total', shoal: 'heap+external', redis: 'used_memory' },
  { key: 'rssBytesPerEntry', shoal: 'RSS', redis: 'used_memory_rss' },
] as const;

const figure = (runs: readonly MemoryRun[], key: keyof MemoryRun | 'total') =>
  summarize(runs.map((r) => (key === 'total' ? totalBytes(r) : r[key])));

/** Comparisons, table and chart of the measured runs (pure, so it is tested without processes). */
export function memorySection(
  shoal: readonly MemoryRun[],
  redis: readonly MemoryRun[] | null,
  redisVersion: string | null,
  p: MemoryParams,
): { comparisons: Comparison[]; tables: TableSpec[]; charts: ChartFile[] } {
  const redisLabel = `redis-server${redisVersion === null ? '' : ` ${redisVersion}`}`;
  const size = `${p.entries >= 1e6 ? `${p.entries / 1e6}M` : `${p.entries / 1e3}k`} keys, ${p.valueBytes}-byte values`;
  const comparisons: Comparison[] = [];
  if (shoal.length > 0 && redis !== null && redis.length > 0) {
    for (const f of FIGURES) {
      comparisons.push(
        compare({
          group: 'memory',
          metric: `${f.shoal} vs ${f.redis} B/entry @ ${size}`,
          unit: 'bytes',
          subject: 'shoal node',
          anchor: redisLabel,
          subjectValue: figure(shoal, f.key),
          anchorValue: figure(redis, f.key),
        }),
      );
    }
  }
  const anchorMedian = redis === null || redis.length === 0 ? null : figure(redis, 'total').median;
  const row = (label: string, runs: readonly MemoryRun[]) => [
    label,
    String(Math.min(...runs.map((r) => r.entries))),
    formatSummary('bytes', figure(runs, 'total')),
    anchorMedian === null ? 'n/a' : formatRatio(figure(runs, 'total').median / anchorMedian),
    formatSummary('bytes', figure(runs, 'bytesPerEntry')),
    formatSummary('bytes', figure(runs, 'externalBytesPerEntry')),
    formatSummary('bytes', figure(runs, 'rssBytesPerEntry')),
    formatSummary('ms', figure(runs, 'fillMs')),
  ];
  const rows = [...(shoal.length > 0 ? [row('shoal node', shoal)] : [])];
  if (redis !== null && redis.length > 0) rows.push(row(redisLabel, redis));
  const tables: TableSpec[] = [
    {
      title: `Memory per entry at ${size} (median of runs with min-max; B/entry = Shoal heap+external growth after gc(), Redis used_memory growth; x = ratio to Redis)`,
      columns: [
        { header: 'contender' },
        { header: 'entries held', align: 'right' },
        { header: 'B/entry', align: 'right' },
        { header: 'x', align: 'right' },
        { header: 'heap', align: 'right' },
        { header: 'external', align: 'right' },
        { header: 'RSS B/entry', align: 'right' },
        { header: 'fill time', align: 'right' },
      ],
      rows,
    },
  ];
  const series = [
    ...(shoal.length > 0 ? [{ name: 'shoal node', runs: shoal }] : []),
    ...(redis !== null && redis.length > 0 ? [{ name: redisLabel, runs: redis }] : []),
  ];
  const title = `Memory per entry at ${size} (median bytes)`;
  const charts: ChartFile[] =
    series.length === 0
      ? []
      : [
          {
            name: 'bytes-per-entry',
            title,
            svg: barChart({
              title,
              yLabel: 'bytes per entry',
              categories: ['heap+external / used_memory', 'RSS / used_memory_rss'],
              series: series.map((s) => ({
                name: s.name,
                values: FIGURES.map((f) => figure(s.runs, f.key).median),
              })),
              formatY: (y) => `${Math.round(y)}`,
            }),
          },
        ];
  return { comparisons, tables, charts };
}

export const memory: Scenario = {
  name: 'memory',
  description:
    'Memory per entry at 1M keys: a Shoal node in a child process (heap and RSS growth) vs redis-server used_memory and used_memory_rss, same keys and small string values.',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const anchor = redisAnchor(ctx, 'memory anchor');
    ctx.progress.start(alternatingSteps(ctx.runs, anchor));
    const runs = await runAlternating(ctx, anchor, 'memory anchor', ctx.runs, {
      label: 'memory',
      shoal: () =>
        runTask<MemoryInput, MemoryRun>({
          module: task,
          exportName: 'shoalMemory',
          input: input(p),
          timeoutMs: p.timeoutMs,
        }),
      anchor: (server) =>
        runTask<RedisMemoryInput, MemoryRun>({
          module: task,
          exportName: 'redisMemory',
          input: { ...input(p), port: server.port },
          timeoutMs: p.timeoutMs,
        }),
    });
    const section = memorySection(runs.shoal, runs.anchor, runs.anchorVersion, p);
    const notes = [
      'memory: Shoal counts what the node process holds for the entries in V8 heap (keys, values, index) plus off-heap typed arrays (per-entry records, eviction lists); Redis counts its allocator-reported used_memory; both hold one copy (a one-member Shoal cluster)',
      'memory: RSS figures include allocator slack and heap growth headroom, so they swing more between runs than heap/used_memory',
    ];
    const short = [...runs.shoal, ...(runs.anchor ?? [])].find((r) => r.entries !== p.entries);
    if (short !== undefined) notes.push(`memory: a run held ${short.entries} entries instead of ${p.entries}`);
    if (runs.note !== null) notes.push(runs.note);
    return {
      params: { runs: ctx.runs, quick: ctx.quick, ...p },
      ...section,
      notes,
      data: { shoal: runs.shoal, redis: runs.anchor, redisVersion: runs.anchorVersion },
    };
  },
};
