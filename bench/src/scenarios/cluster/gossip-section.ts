/**
 * Report of the gossip cost: the simulated per-node cost at each size checked
 * against the O(log N) allowance from the smallest size, and the real 3-node
 * cluster's traffic beside the simulated figure for the same size.
 */
import { type Comparison, compare } from '../../lib/compare.js';
import { formatRatio, formatValue } from '../../report/format.js';
import { type ChartFile, lineChart } from '../../report/svg-chart.js';
import type { TableSpec } from '../../report/table.js';
import type { GossipCostRow } from './gossip-cost.js';
import type { GossipTraffic } from './gossip-traffic.js';
import { logBound, one, right, type Section, SUBJECT } from './section.js';

const METRICS = [
  { key: 'messagesPerNodePerSec', label: 'messages', unit: 'msg/s' },
  { key: 'bytesPerNodePerSec', label: 'bytes', unit: 'B/s' },
] as const;

function gossipComparisons(sim: readonly GossipCostRow[], real: GossipTraffic | null): Comparison[] {
  const comparisons: Comparison[] = [];
  const base = sim[0];
  const largest = sim[sim.length - 1];
  if (base !== undefined && largest !== undefined && largest.nodes > base.nodes) {
    for (const m of METRICS) {
      comparisons.push(
        compare({
          group: 'gossip',
          metric: `${m.label}/node/s @ ${largest.nodes} nodes (simulated)`,
          unit: m.unit,
          subject: SUBJECT,
          anchor: `O(log N) from ${base.nodes} nodes`,
          subjectValue: one(largest[m.key]),
          anchorValue: one(logBound(base.nodes, base[m.key], largest.nodes)),
          target: { on: 'ratio', op: '<=', value: 1 },
        }),
      );
    }
  }
  const simSame = real === null ? undefined : sim.find((r) => r.nodes === real.nodes);
  if (real === null || simSame === undefined) return comparisons;
  for (const m of METRICS) {
    comparisons.push(
      compare({
        group: 'gossip',
        metric: `${m.label}/node/s @ ${real.nodes} nodes, real cluster`,
        unit: m.unit,
        subject: `${SUBJECT} (real)`,
        anchor: 'same size simulated',
        subjectValue: one(real[m.key]),
        anchorValue: one(simSame[m.key]),
      }),
    );
  }
  return comparisons;
}

function gossipTable(sim: readonly GossipCostRow[], real: GossipTraffic | null): TableSpec {
  const base = sim[0];
  const growth = (r: GossipCostRow, key: (typeof METRICS)[number]['key']): string =>
    base === undefined ? 'n/a' : formatRatio(r[key] / logBound(base.nodes, base[key], r.nodes));
  const rows = sim.map((r) => [
    String(r.nodes),
    `simulated ${(r.periodMs / 1000).toFixed(0)} s`,
    formatValue('msg/s', r.messagesPerNodePerSec),
    formatValue('B/s', r.bytesPerNodePerSec),
    growth(r, 'messagesPerNodePerSec'),
    growth(r, 'bytesPerNodePerSec'),
  ]);
  if (real !== null) {
    rows.push([
      String(real.nodes),
      `real (${(real.windowMs / 1000).toFixed(0)} s)`,
      formatValue('msg/s', real.messagesPerNodePerSec),
      formatValue('B/s', real.bytesPerNodePerSec),
      '',
      '',
    ]);
  }
  return {
    title: `Gossip cost per node, default (LAN) settings, steady state (x log = over the O(log N) allowance ln(N+1)/ln(${base?.nodes ?? 3}+1) from the smallest size; <= 1.00x is no faster than log N)`,
    columns: [
      right('nodes'),
      { header: 'measured' },
      right('messages/node/s'),
      right('bytes/node/s'),
      right('msgs x log'),
      right('bytes x log'),
    ],
    rows,
  };
}

function gossipCharts(sim: readonly GossipCostRow[], real: GossipTraffic | null): ChartFile[] {
  const base = sim[0];
  if (base === undefined) return [];
  return METRICS.map((m) => {
    const title = `Gossip ${m.label} per node per second vs cluster size (default LAN settings)`;
    return {
      name: `gossip-${m.label}`,
      title,
      svg: lineChart({
        title,
        xLabel: 'nodes (log scale)',
        yLabel: `${m.label}/node/s`,
        xScale: 'log',
        series: [
          { name: 'simulated', style: 'wide', points: sim.map((r) => [r.nodes, r[m.key]] as const) },
          {
            name: 'O(log N) allowance',
            style: 'dashed',
            points: sim.map((r) => [r.nodes, logBound(base.nodes, base[m.key], r.nodes)] as const),
          },
          ...(real === null ? [] : [{ name: 'real cluster', points: [[real.nodes, real[m.key]] as const] }]),
        ],
        formatY: (y) => (m.unit === 'B/s' ? `${Math.round(y)}` : y.toFixed(1)),
      }),
    };
  });
}

/** Growth check, real-vs-simulated comparison, one table, a chart each for messages and bytes. */
export function gossipSection(sim: readonly GossipCostRow[], real: GossipTraffic | null): Section {
  const note =
    real === null
      ? 'gossip (real): the node transport counters could not be read; only the simulation is reported'
      : 'gossip (real): an idle cluster with anti-entropy off, so only membership is on the wire; bytes are msgpack frames (before WebSocket/TCP headers), messages include replies; read from the transport counters, which are internal';
  return {
    comparisons: gossipComparisons(sim, real),
    tables: [gossipTable(sim, real)],
    charts: gossipCharts(sim, real),
    notes: [note],
  };
}
