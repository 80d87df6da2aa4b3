import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { ThroughputRun } from '../src/scenarios/cluster/cluster-throughput.js';
import { detectionFigures, detectionSection } from '../src/scenarios/cluster/detection-section.js';
import type { DetectionRun } from '../src/scenarios/cluster/failure-detection.js';
import { gossipSection } from '../src/scenarios/cluster/gossip-section.js';
import { type KeyValueOps, makeValues, prefill, runLoad } from '../src/scenarios/cluster/load.js';
import { detectionSamples, falseSuspicions } from '../src/scenarios/cluster/observations.js';
import { findOnPath, freePort } from '../src/scenarios/cluster/redis-server.js';
import type { RingQualityRow } from '../src/scenarios/cluster/ring-quality.js';
import { ringSection } from '../src/scenarios/cluster/ring-section.js';
import { busyWait, stallSchedule } from '../src/scenarios/cluster/stalls.js';
import { throughputSection } from '../src/scenarios/cluster/throughput-section.js';
import type { Observation } from '../src/scenarios/cluster/worker-protocol.js';
import { SCENARIOS } from '../src/scenarios/index.js';

const obs = (at: number, observer: string, member: string, to: Observation['to']): Observation => ({
  at,
  observer,
  member,
  from: null,
  to,
  source: 'event',
});

t.test('cluster scenario is registered after store with a description', async (t) => {
  const names = SCENARIOS.map((s) => s.name);
  t.ok(names.includes('cluster'));
  t.ok(names.indexOf('store') < names.indexOf('cluster'));
  t.match(SCENARIOS.find((s) => s.name === 'cluster')?.description, /failure detection/);
});

t.test(
  'cluster detection samples take the first suspect and dead of the victim after the kill, per survivor',
  async (t) => {
    const o = [
      obs(900, 'a', 'v', 'suspect'), // before the kill: ignored
      obs(900, 'a', 'v', 'alive'),
      obs(1010, 'a', 'v', 'suspect'),
      obs(1030, 'a', 'x', 'suspect'), // another member
      obs(3010, 'a', 'v', 'dead'),
      obs(3200, 'b', 'v', 'dead'), // b learned it by gossip, never suspected
    ];
    t.same(detectionSamples(o, 'v', 1000, ['a', 'b', 'c']), [
      { observer: 'a', suspectMs: 10, deadMs: 2010 },
      { observer: 'b', suspectMs: null, deadMs: 2200 },
      { observer: 'c', suspectMs: null, deadMs: null },
    ]);
  },
);

t.test('cluster false suspicions count suspect and dead of live members since the start only', async (t) => {
  const o = [
    obs(5, 'a', 'b', 'suspect'), // before the window
    obs(20, 'a', 'b', 'alive'),
    obs(30, 'a', 'b', 'suspect'),
    obs(40, 'c', 'a', 'dead'),
    obs(50, 'c', 'z', 'dead'), // not one of the live members
  ];
  t.same(
    falseSuspicions(o, ['a', 'b', 'c'], 10).map((x) => x.at),
    [30, 40],
  );
});

t.test('cluster detection figures count an undecided survivor as the deadline', async (t) => {
  const runs: DetectionRun[] = [
    {
      run: 0,
      victim: 'v',
      killDelayMs: 500,
      suspectEvents: true,
      samples: [
        { observer: 'a', suspectMs: 10, deadMs: 2000 },
        { observer: 'b', suspectMs: null, deadMs: null },
      ],
    },
  ];
  t.same(detectionFigures(runs, 20_000), { dead: [2000, 20_000], suspect: [10], undetected: 1 });
  const section = detectionSection(
    runs,
    {
      durationMs: 5000,
      stalls: [{ node: 'a', stalls: 4, stalledMs: 800, longestMs: 210 }],
      falseSuspicions: [],
      suspectEvents: true,
    },
    20_000,
  );
  const median = section.comparisons.find((c) => c.metric.startsWith('SIGKILL to dead, median'));
  t.equal(median?.subjectValue.median, 11_000);
  t.equal(median?.pass, false);
  t.equal(section.comparisons.find((c) => c.unit === 'count')?.pass, true);
  t.match(section.notes.join('\n'), /had not declared the victim dead within 20000 ms/);
});

t.test('cluster stall schedule keeps intervals within the jitter and every stall inside the duration', async (t) => {
  const spec = { durationMs: 60_000, stallMs: 200, everyMs: 1000, jitterMs: 200, seed: 3 };
  const at = stallSchedule(spec);
  t.ok(at.length >= 49 && at.length <= 75, `${at.length} stalls`);
  let previous = 0;
  for (const x of at) {
    t.ok(x - previous >= 799 && x - previous <= 1201, `interval ${x - previous}`);
    previous = x;
  }
  t.ok((at[at.length - 1] as number) + spec.stallMs <= spec.durationMs);
  t.same(stallSchedule(spec), at, 'seeded');
  t.throws(() => stallSchedule({ ...spec, jitterMs: 900 }), RangeError);
  const started = performance.now();
  busyWait(30);
  t.ok(performance.now() - started >= 30);
});

/** A Map behind the load's interface, with a 1 ms delay so loops interleave. */
function mapOps(failEvery = 0): KeyValueOps & { map: Map<string, string>; calls: number } {
  const map = new Map<string, string>();
  const ops = {
    map,
    calls: 0,
    async get(key: string) {
      await new Promise((r) => setTimeout(r, 1));
      if (failEvery > 0 && ++ops.calls % failEvery === 0) throw new Error('boom');
      return map.get(key);
    },
    async set(key: string, value: string) {
      await new Promise((r) => setTimeout(r, 1));
      map.set(key, value);
    },
  };
  return ops;
}

t.test('cluster load prefills its shard and counts gets, sets and errors in the timed window', async (t) => {
  t.same(
    makeValues(100, 4).map((v) => v.length),
    [100, 100, 100, 100],
  );
  t.equal(new Set(makeValues(100)).size, 16);
  const ops = mapOps(10);
  t.equal(await prefill(ops, { keys: 100, valueBytes: 10, concurrency: 8 }, 1, 3), 33);
  t.ok([...ops.map.keys()].every((k) => Number(k.slice(4)) % 3 === 1));
  const r = await runLoad(ops, {
    startAt: Date.now() + 20,
    warmupMs: 50,
    durationMs: 300,
    concurrency: 8,
    keys: 100,
    readFraction: 0.9,
    valueBytes: 10,
    seed: 1,
  });
  t.ok(r.gets > r.sets * 4, `${r.gets} gets, ${r.sets} sets`);
  t.ok(r.sets > 0);
  t.ok(r.errors > 0);
  t.equal(r.firstError, 'boom');
  t.equal(r.windowMs, 300);
  t.equal(r.opsPerSec, ((r.gets + r.sets) * 1000) / 300);
  t.ok(r.lateStartMs < 50);
});

t.test('cluster throughput section compares with Redis only when it ran', async (t) => {
  const run = (opsPerSec: number, serverCpuUs: number | null = 10_000, clientCpuUs = 0): ThroughputRun => ({
    opsPerSec,
    serverCpuUs,
    clientCpuUs,
    workers: [
      {
        gets: 900,
        sets: 100,
        errors: 0,
        windowMs: 1000,
        opsPerSec,
        lateStartMs: 0,
        firstError: null,
        cpuUs: 0,
        buckets: [],
      },
    ],
  });
  // 1000 ops per run: shoal 10 ms of CPU = 10 µs/op; redis 2 ms server + 3 ms clients = 5 µs/op
  const both = throughputSection(
    { shoal: [run(50), run(60)], redis: [run(100, 2000, 3000)], redisVersion: '7.0.15' },
    64,
  );
  t.equal(both.comparisons.length, 2);
  t.equal(both.comparisons[0]?.ratio, 0.55);
  const cpu = both.comparisons.find((c) => c.unit === 'us');
  t.equal(cpu?.subjectValue.median, 10);
  t.equal(cpu?.anchorValue.median, 5);
  t.equal(both.tables[0]?.rows.length, 2);
  t.same(
    both.tables[0]?.rows[1]?.slice(5, 7),
    ['2.00 µs', '5.00 µs'],
    'redis server alone, then with its load processes',
  );
  const unreadable = throughputSection({ shoal: [run(50, null)], redis: [run(100, null)], redisVersion: null }, 64);
  t.equal(unreadable.comparisons.length, 1, 'no CPU comparison without CPU readings');
  t.equal(unreadable.tables[0]?.rows[0]?.[5], 'n/a');
  const alone = throughputSection({ shoal: [run(50)], redis: null, redisVersion: null }, 64);
  t.equal(alone.comparisons.length, 0);
  t.equal(alone.tables[0]?.rows.length, 1);
});

t.test('cluster gossip section checks growth against ln(N+1) from the smallest size', async (t) => {
  const rows = [
    { nodes: 3, messagesPerNodePerSec: 2, bytesPerNodePerSec: 60, periodMs: 300_000 },
    { nodes: 100, messagesPerNodePerSec: 2, bytesPerNodePerSec: 300, periodMs: 300_000 },
  ];
  const s = gossipSection(rows, null);
  const bytes = s.comparisons.find((c) => c.unit === 'B/s');
  t.equal(bytes?.anchorValue.median.toFixed(1), ((60 * Math.log(101)) / Math.log(4)).toFixed(1));
  t.equal(bytes?.pass, false, '300 B/s at 100 nodes grows faster than log N from 60 at 3');
  t.equal(s.comparisons.find((c) => c.unit === 'msg/s')?.pass, true);
  t.equal(s.charts.length, 2);
});

t.test('cluster redis helpers find executables on PATH and free ports', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-path-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'fake-server');
  await writeFile(bin, '#!/bin/sh\n');
  t.equal(findOnPath('fake-server', `/nonexistent${path.delimiter}${dir}`), null, 'not executable yet');
  await chmod(bin, 0o755);
  t.equal(findOnPath('fake-server', `/nonexistent${path.delimiter}${dir}`), bin);
  const port = await freePort();
  t.ok(port > 0 && port < 65536);
});

t.test(
  'cluster ring section targets shoal balance at 100 nodes with 4096 partitions and moves at every size',
  async (t) => {
    const row = (algorithm: string, nodes: number, partitions: number, maxOverMean: number): RingQualityRow => ({
      algorithm,
      nodes,
      partitions,
      replicas: 2,
      maxOverMean,
      primaryMaxOverMean: maxOverMean,
      movedJoin: 1.1 / nodes,
      movedLeave: 1.3 / nodes,
      idealMove: 1 / nodes,
      movedRatioJoin: 1.1,
      movedRatioLeave: 1.3,
      computeMs: 1,
    });
    const s = ringSection([
      row('ring-v64', 100, 4096, 1.4),
      row('shoal', 100, 4096, 1.09),
      row('shoal', 100, 271, 1.6),
      row('shoal', 10, 4096, 1.02),
    ]);
    const balance = s.comparisons.filter((c) => c.metric.startsWith('max/mean'));
    t.same(
      balance.map((c) => [c.metric, c.pass]),
      [
        ['max/mean copies @ 100 nodes, 4096 partitions', true],
        ['max/mean copies @ 100 nodes, 271 partitions', null],
      ],
    );
    const moved = s.comparisons.filter((c) => c.metric.startsWith('moved'));
    t.same(
      moved.map((c) => [c.metric, c.pass]),
      [
        ['moved on join @ 100 nodes', true],
        ['moved on leave @ 100 nodes', false],
        ['moved on join @ 10 nodes', true],
        ['moved on leave @ 10 nodes', false],
      ],
    );
    t.equal(s.tables[0]?.rows.length, 4);
    t.same(
      s.charts.map((c) => c.name),
      ['ring-balance', 'ring-moved'],
    );
  },
);
