/**
 * Report of the `cache` scenario: comparisons (Shoal next to BentoCache or
 * lru-cache measured in the same invocation, and next to the product targets,
 * named as anchors "target 5 ms" / "ideal 1 per key" the way the cluster
 * scenario does), and one detail table per part. Medians over runs, min-max.
 */
import { type Comparison, compare } from '../../lib/compare.js';
import { type Summary, summarize } from '../../lib/stats.js';
import { formatRatio, formatSi, formatSummary } from '../../report/format.js';
import type { TableSpec } from '../../report/table.js';
import { one, right, type Section } from '../cluster/section.js';
import type { InvalidationPhase, InvalidationRun } from './invalidation.js';
import type { CacheParams } from './params.js';
import type { ReadRun } from './reads.js';
import type { StampedeRun } from './stampede.js';

/** Every run of every contender; null where a contender could not run (the reason is in the notes). */
export interface CacheData {
  readonly invalidation: { readonly shoal: InvalidationRun[]; readonly bento: InvalidationRun[] | null };
  readonly reads: { readonly near: ReadRun[]; readonly noNear: ReadRun[]; readonly lru: ReadRun[] };
  readonly stampede: { readonly shoal: StampedeRun[]; readonly bento: StampedeRun[] | null };
}

const SHOAL_NEAR = 'shoal near cache';
const BENTO = 'bentocache (memory L1 + Redis L2 + Redis bus)';

/** Median (min-max) of the finite values; null when there are none. */
function over(values: readonly number[]): Summary | null {
  const present = values.filter((v) => Number.isFinite(v));
  return present.length === 0 ? null : summarize(present);
}

const show = (unit: 'ms' | 'ops/s' | 'count' | 'factor', s: Summary | null) =>
  s === null ? 'n/a' : formatSummary(unit, s);
const perKey = (r: StampedeRun) => r.loaderCalls / r.keys;

/** Comparisons of one rate phase; the product target applies at the first (the issue's 10k writes/s). */
function invalidationComparisons(
  shoal: readonly InvalidationPhase[],
  bento: readonly InvalidationPhase[] | null,
  rate: string,
  targeted: boolean,
): Comparison[] {
  const comparisons: Comparison[] = [];
  for (const pct of ['p50', 'p99'] as const) {
    const subject = over(shoal.map((r) => r.latency[pct]));
    if (subject === null) continue;
    const metric = `${pct} write on A -> drop on B at ${rate}`;
    const anchor = bento === null ? null : over(bento.map((r) => r.latency[pct]));
    const base = {
      group: 'invalidation latency',
      metric,
      unit: 'ms' as const,
      subject: SHOAL_NEAR,
      subjectValue: subject,
    };
    if (anchor !== null) comparisons.push(compare({ ...base, anchor: BENTO, anchorValue: anchor }));
    if (pct === 'p99' && targeted) {
      comparisons.push(
        compare({ ...base, anchor: 'target 5 ms', anchorValue: one(5), target: { on: 'ratio', op: '<=', value: 1 } }),
      );
    }
  }
  return comparisons;
}

function invalidationPart(data: CacheData, p: CacheParams, comparisons: Comparison[]): TableSpec {
  const { shoal, bento } = data.invalidation;
  const rateOf = (r: number) => `${formatSi(r)} writes/s`;
  const phaseOf = (runs: readonly InvalidationRun[], i: number) =>
    runs.map((r) => r[i]).filter((x): x is InvalidationPhase => x !== undefined);
  for (const [i, phase] of p.invalidation.phases.entries()) {
    const b = bento === null ? null : phaseOf(bento, i);
    comparisons.push(...invalidationComparisons(phaseOf(shoal, i), b, rateOf(phase.ratePerSec), i === 0));
  }
  const row = (label: string, runs: readonly InvalidationPhase[], rate: number) => [
    label,
    rateOf(rate),
    show('ms', over(runs.map((r) => r.latency.p50))),
    show('ms', over(runs.map((r) => r.latency.p99))),
    show('ms', over(runs.map((r) => r.latency.max))),
    formatSi(over(runs.map((r) => r.writes.issued / (r.writes.issueMs / 1000)))?.median ?? 0),
    String(Math.max(0, ...runs.map((r) => r.writes.maxInFlight))),
    String(runs.reduce((sum, r) => sum + r.latency.missing, 0)),
    String(runs.reduce((sum, r) => sum + r.writes.errors, 0)),
    `${Math.max(0, ...runs.map((r) => Math.abs(r.skew.skewMs))).toFixed(3)} ± ${Math.max(0, ...runs.map((r) => r.skew.errorMs)).toFixed(3)}`,
  ];
  const rows: string[][] = [];
  for (const [i, phase] of p.invalidation.phases.entries()) {
    rows.push(row(SHOAL_NEAR, phaseOf(shoal, i), phase.ratePerSec));
    if (bento !== null) rows.push(row(BENTO, phaseOf(bento, i), phase.ratePerSec));
  }
  const phases = p.invalidation.phases
    .map((ph) => `${formatSi(ph.writes)} at ${rateOf(ph.ratePerSec)} after ${formatSi(ph.warmupWrites)} not sampled`)
    .join('; ');
  return {
    title: `Invalidation latency: distinct keys written once each on process A, open loop (${phases}), drop seen on process B; wall clocks of one machine with the measured skew removed (ms, median of runs with min-max)`,
    columns: [
      { header: 'contender' },
      right('rate'),
      right('p50'),
      right('p99'),
      right('max'),
      right('writes/s achieved'),
      right('most in flight'),
      right('drops missing'),
      right('write errors'),
      right('clock skew removed (ms)'),
    ],
    rows,
  };
}

function readsPart(data: CacheData, p: CacheParams, comparisons: Comparison[]): TableSpec {
  const { near, noNear, lru } = data.reads;
  const metric = `awaited get, Zipf ${p.reads.zipfS} over ${formatSi(p.reads.keys)} keys owned by the other node`;
  const anchor = over(lru.map((r) => r.opsPerSec));
  const nearOps = over(near.map((r) => r.opsPerSec));
  const noNearOps = over(noNear.map((r) => r.opsPerSec));
  if (anchor !== null && nearOps !== null) {
    comparisons.push(
      compare({
        group: 'near-cache reads',
        metric,
        unit: 'ops/s',
        subject: SHOAL_NEAR,
        anchor: 'lru-cache via async function',
        subjectValue: nearOps,
        anchorValue: anchor,
        target: { on: 'ratio', op: '>=', value: 0.8 },
      }),
    );
  }
  if (nearOps !== null && noNearOps !== null) {
    comparisons.push(
      compare({
        group: 'near-cache reads',
        metric,
        unit: 'ops/s',
        subject: SHOAL_NEAR,
        anchor: 'shoal without near cache',
        subjectValue: nearOps,
        anchorValue: noNearOps,
      }),
    );
  }
  const row = (label: string, runs: readonly ReadRun[]) => {
    const ops = over(runs.map((r) => r.opsPerSec));
    const hit = over(runs.map((r) => r.nearHitRatio ?? Number.NaN));
    return [
      label,
      show('ops/s', ops),
      ops === null || anchor === null ? 'n/a' : formatRatio(ops.median / anchor.median),
      hit === null ? '-' : `${(hit.median * 100).toFixed(2)}%`,
      String(runs.reduce((sum, r) => sum + r.misses, 0)),
    ];
  };
  return {
    title: `Read throughput of one embedded node: ${formatSi(p.reads.traceOps)}-read Zipf trace, each read awaited, ${p.reads.valueBytes}-byte values (ops/s, median of runs with min-max; x = ratio to lru-cache)`,
    columns: [{ header: 'contender' }, right('reads/s'), right('x'), right('near hit ratio'), right('misses')],
    rows: [
      row('lru-cache via async function', lru),
      row(SHOAL_NEAR, near),
      row(
        `shoal past its near cache (round trip to the primary; first ${formatSi(p.reads.bypassTraceOps)} reads of the trace)`,
        noNear,
      ),
    ],
  };
}

function stampedePart(data: CacheData, p: CacheParams, comparisons: Comparison[]): TableSpec {
  const { shoal, bento } = data.stampede;
  const { calls, keys, processes, loaderMs } = p.stampede;
  const metric = `loader calls per key, ${calls} concurrent misses on ${keys} keys over ${processes} processes`;
  const subject = over(shoal.map(perKey));
  const shoalLabel = `shoal (${processes} nodes)`;
  if (subject !== null) {
    // the target is every stampede, so the worst run is what it checks
    comparisons.push(
      compare({
        group: 'stampede',
        metric: `${metric}, worst run`,
        unit: 'count',
        subject: shoalLabel,
        anchor: 'ideal 1 per key',
        subjectValue: one(subject.max),
        anchorValue: one(1),
        target: { on: 'ratio', op: '<=', value: 1 },
      }),
    );
    const anchor = bento === null ? null : over(bento.map(perKey));
    if (anchor !== null) {
      comparisons.push(
        compare({
          group: 'stampede',
          metric,
          unit: 'count',
          subject: shoalLabel,
          anchor: `bentocache (${processes} instances, shared Redis)`,
          subjectValue: subject,
          anchorValue: anchor,
        }),
      );
    }
  }
  const row = (label: string, runs: readonly StampedeRun[]) => [
    label,
    show('factor', over(runs.map(perKey))),
    runs.length === 0 ? 'n/a' : Math.max(...runs.map(perKey)).toFixed(2),
    String(runs.reduce((sum, r) => sum + r.errors, 0)),
    show('ms', over(runs.map((r) => r.ms))),
  ];
  return {
    title: `Stampede: ${calls} concurrent getOrSet misses on ${keys} cold keys, split over ${processes} processes started together; loader = ${loaderMs} ms query (median of runs with min-max)`,
    columns: [
      { header: 'contender' },
      right('loader calls per key'),
      right('worst run'),
      right('errors'),
      right('time to last reply'),
    ],
    rows: [
      row(shoalLabel, shoal),
      ...(bento === null ? [] : [row(`bentocache (${processes} instances, shared Redis)`, bento)]),
    ],
  };
}

/** Comparisons and tables of the whole scenario. */
export function cacheReport(data: CacheData, p: CacheParams): Pick<Section, 'comparisons' | 'tables'> {
  const comparisons: Comparison[] = [];
  const tables = [
    invalidationPart(data, p, comparisons),
    readsPart(data, p, comparisons),
    stampedePart(data, p, comparisons),
  ];
  return { comparisons, tables };
}
