import t from 'tap';
import type { LoadResult } from '../src/scenarios/cluster/load.js';
import type { RebalanceSnapshot } from '../src/scenarios/cluster/worker-protocol.js';
import { nodesSection, type SizeResult } from '../src/scenarios/scaling/nodes-section.js';
import type { SizeRun } from '../src/scenarios/scaling/nodes-throughput.js';
import { dipOf, type JoinRun, moved, settled, sumBuckets } from '../src/scenarios/scaling/rebalance.js';
import { rebalanceSection } from '../src/scenarios/scaling/rebalance-section.js';

const snap = (over: Partial<RebalanceSnapshot> = {}): RebalanceSnapshot => ({
  syncing: 0,
  handingOff: 0,
  tableVersion: 1,
  tableHash: 77,
  owners: 4,
  alive: 4,
  ...over,
});

t.test('scaling join is settled only when all see all, route alike and move nothing', async (t) => {
  t.equal(settled([snap(), snap({ tableVersion: 5 }), snap(), snap()]), true, 'local table versions may differ');
  t.equal(settled([snap(), snap({ tableHash: 78 }), snap(), snap()]), false);
  t.equal(settled([snap(), snap({ syncing: 1 }), snap(), snap()]), false);
  t.equal(settled([snap(), snap(), snap({ handingOff: 2 }), snap()]), false);
  t.equal(settled([snap(), snap(), snap(), snap({ alive: 3 })]), false);
  t.equal(settled([snap({ owners: 3 }), snap(), snap(), snap()]), false, 'a table without the newcomer');
});

t.test('scaling join counts gained entries as moved and lost ones as dropped; a new node starts at zero', async (t) => {
  const s = (entries: number, bytes: number, bytesOut: number) => ({ entries, bytes, bytesOut, bytesIn: 0 });
  const m = moved(
    [s(700, 7000, 100), s(650, 6500, 100), s(650, 6500, 100)],
    [s(520, 5200, 300), s(480, 4800, 250), s(500, 5000, 150), s(500, 5000, 400)],
  );
  t.same(m, { keys: 500, bytes: 5000, dropped: 500, wire: 800 });
});

t.test('scaling join sums bucket lists of different lengths', async (t) => {
  t.same(sumBuckets([[1, 2, 3], [10, 20], []]), [11, 22, 3]);
  t.same(sumBuckets([]), []);
});

t.test('scaling join dip reads before, during and after from the timeline', async (t) => {
  // 100 ms buckets: warm-up 0-200, steady 10/bucket until 1000, dip from 1000 to 1500, then 8
  const buckets = [3, 5, 10, 10, 10, 10, 10, 10, 10, 10, 2, 1, 4, 6, 9, 8, 8, 8, 8, 8, 4];
  const d = dipOf(buckets, 100, { warmupMs: 200, beforeEndMs: 1000, joinAtMs: 1000, settledAtMs: 1500, endMs: 2100 });
  t.equal(d.beforeOpsPerSec, 100);
  t.equal(d.minOpsPerSec, 10);
  t.equal(d.duringOpsPerSec, ((2 + 1 + 4 + 6 + 9) / 5) * 10);
  t.equal(d.afterOpsPerSec, 80, 'the partial last bucket is left out');
  const late = dipOf(buckets, 100, {
    warmupMs: 200,
    beforeEndMs: 1000,
    joinAtMs: 1000,
    settledAtMs: 2050,
    endMs: 2100,
  });
  t.equal(late.afterOpsPerSec, null, 'settled too late to see the after');
  const missed = dipOf(buckets, 100, {
    warmupMs: 200,
    beforeEndMs: 1000,
    joinAtMs: 2600,
    settledAtMs: 3000,
    endMs: 2100,
  });
  t.equal(missed.minOpsPerSec, null, 'joined after the load ended');
  t.equal(missed.duringOpsPerSec, null);
});

const load = (ops: number, cpuUs: number, errors = 0): LoadResult => ({
  gets: ops * 0.9,
  sets: ops * 0.1,
  errors,
  windowMs: 1000,
  opsPerSec: ops,
  lateStartMs: 0,
  firstError: errors > 0 ? 'SHOAL_REPLICATION_QUORUM' : null,
  cpuUs,
  buckets: [],
});
const sizeRun = (nodes: number, opsEach: number, serverCpuUs: number | null, clientCpuEach: number): SizeRun => {
  const workers = Array.from({ length: nodes }, () => load(opsEach, clientCpuEach));
  return { nodes, workers, opsPerSec: nodes * opsEach, serverCpuUs, clientCpuUs: nodes * clientCpuEach };
};

t.test('scaling throughput section compares each size with the Redis line and charts both', async (t) => {
  const sizes: SizeResult[] = [
    { nodes: 1, shoal: [sizeRun(1, 1000, 100_000, 50_000)], redis: [sizeRun(1, 10_000, 20_000, 30_000)] },
    { nodes: 2, shoal: [sizeRun(2, 800, 320_000, 40_000)], redis: [sizeRun(2, 6000, 24_000, 30_000)] },
  ];
  const s = nodesSection(sizes, '7.0.15', 32);
  const throughput = s.comparisons.filter((c) => c.unit === 'ops/s');
  t.same(
    throughput.map((c) => [c.metric, c.ratio]),
    [
      ['get+set 90/10 @ 1 node', 0.1],
      ['get+set 90/10 @ 2 nodes', 1600 / 12_000],
    ],
  );
  const cpu = s.comparisons.filter((c) => c.unit === 'us');
  // 1 node: (100 ms + 50 ms) / 1000 ops = 150 µs; Redis (20 + 30) ms / 10k ops = 5 µs
  t.same(
    cpu.map((c) => [c.subjectValue.median, c.anchorValue.median]),
    [
      [150, 5],
      [(320_000 + 80_000) / 1600, (24_000 + 60_000) / 12_000],
    ],
  );
  const rows = s.tables[0]?.rows ?? [];
  t.equal(rows[1]?.[4], '0.80x', 'scaling: 1600 ops/s at 2 nodes is 0.8 of twice the 1-node figure');
  t.equal(s.charts[0]?.name, 'throughput-vs-nodes');
  t.match(s.charts[0]?.svg ?? '', /redis-server 7\.0\.15 \(1 server\)/);

  const alone = nodesSection([{ nodes: 1, shoal: [sizeRun(1, 1000, null, 1)], redis: null }], null, 32);
  t.equal(alone.comparisons.length, 0);
  t.equal(alone.tables[0]?.rows[0]?.[5], 'n/a', 'no CPU without a reading');
});

const join = (keysMoved: number, minOps: number, settleQuiet: number, settleLoaded: number): JoinRun => ({
  quiet: {
    copiesBefore: 20_000,
    keysMoved,
    idealKeys: 5000,
    storeBytesMoved: 1_000_000,
    keysDropped: keysMoved,
    wireBytes: 1_500_000,
    settleMs: settleQuiet,
  },
  loaded: {
    settleMs: settleLoaded,
    startMs: 400,
    timeline: [10, 10, 2, 10],
    dip: {
      beforeOpsPerSec: 1000,
      minOpsPerSec: minOps,
      duringOpsPerSec: 700,
      afterOpsPerSec: null,
      errors: 0,
      firstError: null,
    },
  },
});

t.test('scaling rebalance section targets keys moved against 1/N and reports the dip', async (t) => {
  const s = rebalanceSection([join(5500, 200, 300, 900), join(6500, 100, 500, 700), join(5000, 300, 400, 800)], 100);
  const keys = s.comparisons.find((c) => c.metric.startsWith('keys moved'));
  t.equal(keys?.ratio, 1.1);
  t.equal(keys?.pass, true);
  t.equal(s.comparisons.find((c) => c.metric.startsWith('lowest'))?.ratio, 0.2);
  t.equal(s.comparisons.find((c) => c.metric.startsWith('settle'))?.ratio, 2);
  t.equal(s.charts[0]?.name, 'join-timeline');
  t.ok(
    s.tables[0]?.rows.every((r) => r[0] !== 'ops/s after settling'),
    'no after figure when no run saw one',
  );
  const over = rebalanceSection([join(7000, 200, 300, 900)], 100);
  t.equal(over.comparisons[0]?.pass, false, '1.4x the ideal misses the 1.2x target');
  t.same(rebalanceSection([], 100).comparisons, []);

  const noDip = join(5000, 0, 300, 900);
  const late = {
    ...noDip,
    loaded: { ...noDip.loaded, dip: { ...noDip.loaded.dip, minOpsPerSec: null, duringOpsPerSec: null } },
  };
  const partly = rebalanceSection([join(5000, 200, 300, 900), late], 100);
  t.equal(
    partly.comparisons.find((c) => c.metric.startsWith('lowest'))?.subjectValue.n,
    1,
    'the dip from the run that saw one',
  );
  t.match(partly.notes.join('\n'), /in 1 of 2 loaded joins/);
  t.equal(rebalanceSection([late], 100).comparisons.filter((c) => c.metric.startsWith('lowest')).length, 0);
});
