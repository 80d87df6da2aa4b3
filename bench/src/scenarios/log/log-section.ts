/**
 * Report of the `log` scenario: Shoal's log and pub/sub beside Redis Streams
 * and Redis pub/sub (when the anchor ran). Medians over runs with min-max;
 * the throughput comparisons carry the product targets (>= 1.0x), latency is
 * shown without one.
 */
import { type Comparison, compare } from '../../lib/compare.js';
import { type Summary, summarize } from '../../lib/stats.js';
import { formatRatio, formatSi, formatSummary } from '../../report/format.js';
import { barChart, type ChartFile } from '../../report/svg-chart.js';
import type { TableSpec } from '../../report/table.js';
import { right, type Section } from '../cluster/section.js';
import type { LatencySummary } from './log-load.js';
import type { LogRun } from './log-runs.js';
import type { LogParams } from './params.js';

export interface LogData {
  readonly shoal: readonly LogRun[];
  /** null: the anchor did not run (the reason is in the notes). */
  readonly redis: readonly LogRun[] | null;
  readonly redisVersion: string | null;
}

interface Contender {
  readonly label: string;
  readonly runs: readonly LogRun[];
}

type Rate = 'append' | 'consume' | 'fanout';
const RATES: readonly Rate[] = ['append', 'consume', 'fanout'];
const RATE_LABEL: Record<Rate, string> = { append: 'append', consume: 'consume+ack', fanout: 'fan-out' };
type Percentile = 'p50' | 'p90' | 'p99' | 'p999';
const PERCENTILES: readonly Percentile[] = ['p50', 'p90', 'p99', 'p999'];
const PERCENTILE_LABEL: Record<Percentile, string> = { p50: 'p50', p90: 'p90', p99: 'p99', p999: 'p99.9' };

/** A run's figure for one throughput measurement, msgs/s. */
export function rateOf(run: LogRun, rate: Rate): number {
  if (rate === 'append') return run.append.perSec;
  if (rate === 'consume') return run.consume.perSec;
  return run.fanout.perSec;
}

/** Median (min-max) over runs; null when no run has the figure. */
function over(values: readonly (number | null | undefined)[]): Summary | null {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return present.length === 0 ? null : summarize(present);
}

const rates = (c: Contender, rate: Rate) => over(c.runs.map((r) => rateOf(r, rate)));
const latencies = (c: Contender) => c.runs.map((r) => r.latency.consume.latency);
const latencyOf = (c: Contender, p: Percentile | 'max') =>
  over(latencies(c).map((l: LatencySummary | null) => (l === null ? null : l[p])));
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const show = (unit: 'ops/s' | 'ms', s: Summary | null) => (s === null ? 'n/a' : formatSummary(unit, s));

function ratio(subject: Summary | null, anchor: Summary | null): string {
  return subject === null || anchor === null ? 'n/a' : formatRatio(subject.median / anchor.median);
}

/** What went missing or failed, over every run of a contender. */
function losses(c: Contender) {
  return {
    appendErrors: sum(c.runs.map((r) => r.append.errors)),
    notConsumed: sum(c.runs.map((r) => Math.max(0, r.consume.expected - r.consume.arrival.count))),
    unacked: sum(c.runs.map((r) => r.consume.unackedAfter ?? 0)),
    notDelivered: sum(c.runs.map((r) => Math.max(0, r.fanout.publish.sent - r.fanout.subscribe.count))),
    latencyErrors: sum(c.runs.map((r) => r.latency.produce.errors)),
    latencyLost: sum(c.runs.map((r) => Math.max(0, r.latency.produce.sent - r.latency.consume.count))),
  };
}

function throughputTable(present: readonly Contender[], anchor: Contender | null, p: LogParams): TableSpec {
  return {
    title: `Log throughput: ${formatSi(p.append.messages)} messages of ${p.valueBytes} bytes, window ${p.append.window} in flight, after ${(p.append.warmupMs ?? 0) / 1000} s of the same untimed to a side topic; consume with ${p.consume.batch} at once; fan-out to 1 subscriber in another process (msgs/s, median of runs with min-max; x = ratio to Redis)`,
    columns: [
      { header: 'contender' },
      ...RATES.flatMap((r) => [right(RATE_LABEL[r]), right('x')]),
      right('append errors'),
      right('not consumed'),
      right('unacked after'),
      right('fan-out lost'),
    ],
    rows: present.map((c) => {
      const l = losses(c);
      return [
        c.label,
        ...RATES.flatMap((r) => [
          show('ops/s', rates(c, r)),
          anchor === null ? 'n/a' : ratio(rates(c, r), rates(anchor, r)),
        ]),
        String(l.appendErrors),
        String(l.notConsumed),
        String(l.unacked),
        String(l.notDelivered),
      ];
    }),
  };
}

function latencyTable(present: readonly Contender[], p: LogParams): TableSpec {
  return {
    title: `End-to-end latency at ${formatSi(p.latency.ratePerSec)} msgs/s for ${p.latency.durationMs / 1000} s (after ${p.latency.warmupMs / 1000} s of warm-up): producer and consumer in different processes, from the intended send time to the consumer's handler (ms, median of runs with min-max)`,
    columns: [
      { header: 'contender' },
      ...PERCENTILES.map((q) => right(PERCENTILE_LABEL[q])),
      right('max'),
      right('samples'),
      right('errors'),
      right('lost'),
    ],
    rows: present.map((c) => {
      const l = losses(c);
      return [
        c.label,
        ...PERCENTILES.map((q) => show('ms', latencyOf(c, q))),
        show('ms', latencyOf(c, 'max')),
        String(sum(latencies(c).map((x) => x?.count ?? 0))),
        String(l.latencyErrors),
        String(l.latencyLost),
      ];
    }),
  };
}

function charts(present: readonly Contender[], p: LogParams): ChartFile[] {
  if (present.length === 0) return [];
  const throughputTitle = `Log throughput, window ${p.append.window}, ${p.valueBytes}-byte messages (median msgs/s)`;
  const latencyTitle = `End-to-end latency at ${formatSi(p.latency.ratePerSec)} msgs/s (median ms)`;
  return [
    {
      name: 'throughput',
      title: throughputTitle,
      svg: barChart({
        title: throughputTitle,
        yLabel: 'msgs/s',
        categories: RATES.map((r) => RATE_LABEL[r]),
        series: present.map((c) => ({ name: c.label, values: RATES.map((r) => rates(c, r)?.median ?? Number.NaN) })),
        formatY: formatSi,
      }),
    },
    {
      name: 'latency',
      title: latencyTitle,
      svg: barChart({
        title: latencyTitle,
        yLabel: 'ms',
        categories: PERCENTILES.map((q) => PERCENTILE_LABEL[q]),
        series: present.map((c) => ({
          name: c.label,
          values: PERCENTILES.map((q) => latencyOf(c, q)?.median ?? Number.NaN),
        })),
        formatY: (y) => y.toFixed(y >= 10 ? 0 : 1),
      }),
    },
  ];
}

function comparisons(shoal: Contender, redis: Contender, redisLabel: string, p: LogParams): Comparison[] {
  const subject = 'shoal 3 nodes (2 copies, quorum acks)';
  const out: Comparison[] = [];
  const rows: [Rate, string, string, string][] = [
    ['append', 'log', `append, window ${p.append.window}`, `${redisLabel} XADD pipelined`],
    [
      'consume',
      'log',
      `consume+ack, ${p.consume.batch} at once`,
      `${redisLabel} XREADGROUP COUNT ${p.consume.batch} + XACK`,
    ],
    ['fanout', 'pubsub', 'fan-out to 1 subscriber', `${redisLabel} PUBLISH/SUBSCRIBE`],
  ];
  for (const [rate, group, metric, anchor] of rows) {
    const s = rates(shoal, rate);
    const a = rates(redis, rate);
    if (s === null || a === null) continue;
    out.push(
      compare({
        group,
        metric,
        unit: 'ops/s',
        subject: rate === 'fanout' ? 'shoal 3 nodes' : subject,
        anchor,
        subjectValue: s,
        anchorValue: a,
        target: { on: 'ratio', op: '>=', value: 1 },
      }),
    );
  }
  for (const q of ['p50', 'p99'] as const) {
    const s = latencyOf(shoal, q);
    const a = latencyOf(redis, q);
    if (s === null || a === null) continue;
    out.push(
      compare({
        group: 'latency',
        metric: `end-to-end ${q} at ${formatSi(p.latency.ratePerSec)} msgs/s`,
        unit: 'ms',
        subject,
        anchor: `${redisLabel} XADD -> XREADGROUP BLOCK`,
        subjectValue: s,
        anchorValue: a,
      }),
    );
  }
  return out;
}

function lossNotes(c: Contender): string[] {
  const notes: string[] = [];
  const l = losses(c);
  const firstError = c.runs
    .flatMap((r) => [r.append.firstError, r.consume.error, r.fanout.publish.firstError, r.latency.produce.firstError])
    .find((e) => e !== null && e !== undefined);
  if (l.appendErrors + l.latencyErrors > 0 || firstError !== undefined) {
    notes.push(`${c.label}: ${l.appendErrors + l.latencyErrors} failed sends; first error: ${firstError ?? 'n/a'}`);
  }
  if (l.notConsumed > 0)
    notes.push(`${c.label}: ${l.notConsumed} appended messages were not consumed before the consumer stopped`);
  if (l.notDelivered > 0)
    notes.push(
      `${c.label}: ${l.notDelivered} published messages never reached the subscriber (pub/sub is at-most-once)`,
    );
  if (c.runs.some((r) => r.append.capped || r.fanout.publish.capped)) {
    notes.push(`${c.label}: a burst hit its time cap before its message count; its rate covers what it sent`);
  }
  return notes;
}

/** Tables, charts, notes and (when Redis ran) the comparisons. */
export function logSection(data: LogData, p: LogParams): Section {
  const shoal: Contender | null = data.shoal.length > 0 ? { label: 'shoal 3 nodes', runs: data.shoal } : null;
  const redisLabel = `redis-server${data.redisVersion === null ? '' : ` ${data.redisVersion}`}`;
  const redis: Contender | null =
    data.redis !== null && data.redis.length > 0 ? { label: redisLabel, runs: data.redis } : null;
  const present = [shoal, redis].filter((c): c is Contender => c !== null);
  const notes = present.flatMap(lossNotes);
  if (shoal !== null) {
    const placements = shoal.runs.map((r) => r.placement).filter((x) => x !== null);
    if (placements.length > 0) {
      notes.push(
        `shoal: partitions (of ${p.partitions}) led by the producer's node, per run: ${placements.map((x) => x.producerLeads).join(', ')}; by the consumer's node: ${placements.map((x) => x.consumerLeads).join(', ')} (placement follows the ring hash of topic and partition, so it changes from run to run; the rest cross the network)`,
      );
    }
  }
  if (shoal !== null && redis !== null) {
    notes.push(
      `log: Redis keeps one copy in one stream on one unreplicated server; Shoal keeps 2 copies of ${p.partitions} partitions over 3 node processes and answers an append once 2 hold it (acks 'quorum', the default)`,
      'fan-out: deliveries/s from the first publish to the last delivery at the subscriber, both stamped on the machine-wide monotonic clock',
    );
  }
  return {
    comparisons: shoal !== null && redis !== null ? comparisons(shoal, redis, redisLabel, p) : [],
    tables: [throughputTable(present, redis, p), latencyTable(present, p)],
    charts: charts(present, p),
    notes,
  };
}
