import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { compare } from '../src/lib/compare.js';
import { machineInfo } from '../src/lib/machine.js';
import { summarize } from '../src/lib/stats.js';
import { comparisonTable } from '../src/report/comparison-table.js';
import { formatDifference, formatSi, formatSummary, formatTarget, formatValue } from '../src/report/format.js';
import { createProgress, renderBar } from '../src/report/progress.js';
import { isoDate, type RunReport, writeResults } from '../src/report/results-writer.js';
import { renderMarkdown, renderText } from '../src/report/table.js';

const s = (...xs: number[]) => summarize(xs);

t.test('compare evaluates ratio and difference targets in both directions', async (t) => {
  const base = { group: 'g', metric: 'm', subject: 'a', anchor: 'b' } as const;
  const get = compare({
    ...base,
    unit: 'ops/s',
    subjectValue: s(9, 10, 11),
    anchorValue: s(10),
    target: { on: 'ratio', op: '>=', value: 1 },
  });
  t.equal(get.ratio, 1);
  t.equal(get.pass, true);
  const mem = compare({
    ...base,
    unit: 'bytes',
    subjectValue: s(230),
    anchorValue: s(200),
    target: { on: 'ratio', op: '<=', value: 1.1 },
  });
  t.equal(mem.pass, false);
  const hit = compare({
    ...base,
    unit: 'fraction',
    subjectValue: s(0.52),
    anchorValue: s(0.48),
    target: { on: 'difference', op: '>=', value: 0.05 },
  });
  t.ok(Math.abs(hit.difference - 0.04) < 1e-12);
  t.equal(hit.pass, false);
  t.equal(compare({ ...base, unit: 'ops/s', subjectValue: s(1), anchorValue: s(2) }).pass, null);
});

t.test('format renders units, ranges, differences and targets', async (t) => {
  t.equal(formatSi(12_345_678), '12.35M');
  t.equal(formatSi(5300), '5.3k');
  t.equal(formatValue('fraction', 0.4521), '45.21%');
  t.equal(formatValue('bytes', 197.4), '197 B');
  t.equal(formatValue('ms', 2013.4), '2013 ms');
  t.equal(formatValue('ms', 9.24), '9.2 ms');
  t.equal(formatValue('count', 3), '3');
  t.equal(formatValue('factor', 1.04213), '1.042');
  t.equal(formatValue('msg/s', 2.0711), '2.07 msg/s');
  t.equal(formatValue('B/s', 63.62), '63.6 B/s');
  t.equal(formatSummary('ops/s', s(1e6, 2e6, 3e6)), '2.00M (1.00M-3.00M)');
  t.equal(formatSummary('ops/s', s(1e6)), '1.00M');
  t.equal(formatDifference('fraction', -0.079), '-7.9 pts');
  t.equal(formatTarget('fraction', { on: 'difference', op: '>=', value: 0.05 }), '>= +5.0 pts');
  t.equal(formatTarget('ops/s', { on: 'ratio', op: '>=', value: 0.8 }), '>= 0.80x');
});

t.test('table renders aligned text and markdown from one spec', async (t) => {
  const table = {
    title: 'T',
    columns: [{ header: 'name' }, { header: 'ops', align: 'right' as const }],
    rows: [
      ['a', '1'],
      ['long|name', '100'],
    ],
  };
  t.equal(renderText(table), 'T\nname       ops\n---------  ---\na            1\nlong|name  100\n');
  t.equal(renderMarkdown(table), '**T**\n\n| name | ops |\n|---|---:|\n| a | 1 |\n| long\\|name | 100 |\n');
  t.throws(() => renderText({ ...table, rows: [['only one']] }), RangeError);
});

t.test('comparison table shows subject beside anchor with ratio, target and mark', async (t) => {
  const c = compare({
    group: 'throughput',
    metric: 'get ops/s',
    unit: 'ops/s',
    subject: 'shoal-lru',
    anchor: 'lru-cache',
    subjectValue: s(11e6, 12e6, 13e6),
    anchorValue: s(10e6),
    target: { on: 'ratio', op: '>=', value: 1 },
  });
  const text = renderText(comparisonTable('x', [c]));
  t.match(text, /shoal-lru\s+12\.00M \(11\.00M-13\.00M\)\s+lru-cache\s+10\.00M\s+1\.20x\s+>= 1\.00x\s+✓ pass/);
});

t.test('progress draws lines without a TTY and a bar with one', async (t) => {
  const plain: string[] = [];
  let clock = 0;
  const p = createProgress('store', { write: (x) => plain.push(x) }, () => clock);
  p.start(2);
  await p.step('first', async () => {
    clock += 1500;
  });
  t.same(plain, ['store 1/2 first (1.5s)\n']);
  const tty: string[] = [];
  const q = createProgress('store', { isTTY: true, columns: 200, write: (x) => tty.push(x) }, () => 0);
  q.start(4);
  await q.step('a', async () => {});
  q.finish();
  t.match(tty[1], `store ${renderBar(1, 4)} 1/4`);
  t.equal(renderBar(1, 4, 8), '[##------]');
  t.equal(tty.at(-1), '\r\x1b[2K');
});

t.test('results writer writes per-scenario JSON, charts and a markdown summary', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-results-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const report: RunReport = {
    date: isoDate(new Date(2025, 0, 9)),
    quick: true,
    runs: 1,
    argv: ['--quick'],
    machine: machineInfo(),
    scenarios: [
      {
        name: 'demo',
        description: 'a demo',
        startedAt: new Date(0).toISOString(),
        durationMs: 5,
        error: null,
        result: {
          params: { n: 1 },
          comparisons: [],
          tables: [],
          charts: [{ name: 'c', title: 'C', svg: '<svg/>' }],
          notes: ['n1'],
          data: { x: 1 },
        },
      },
      {
        name: 'broken',
        description: 'fails',
        startedAt: new Date(0).toISOString(),
        durationMs: 1,
        error: 'boom',
        result: null,
      },
    ],
  };
  await writeResults(dir, report);
  t.same((await readdir(dir)).sort(), [
    '2025-01-09-broken.quick.json',
    '2025-01-09-demo-c.quick.svg',
    '2025-01-09-demo.quick.json',
    '2025-01-09-summary.quick.md',
  ]);
  const doc = JSON.parse(await readFile(path.join(dir, '2025-01-09-demo.quick.json'), 'utf8'));
  t.equal(doc.scenario, 'demo');
  t.same(doc.data, { x: 1 });
  t.equal(typeof doc.machine.cpuModel, 'string');
  t.ok(doc.machine.cores >= 1);
  const md = await readFile(path.join(dir, '2025-01-09-summary.quick.md'), 'utf8');
  t.match(md, '![C](2025-01-09-demo-c.quick.svg)');
  t.match(md, '**Failed:** boom');
});
