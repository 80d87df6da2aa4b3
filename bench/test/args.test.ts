import t from 'tap';
import { parseArgs, UsageError } from '../src/cli/args.js';

const KNOWN = ['store', 'cluster', 'log'];

t.test('bench args default to every scenario, full run, human output', async (t) => {
  t.same(parseArgs([], KNOWN), {
    scenarios: KNOWN,
    quick: false,
    json: false,
    runs: null,
    outDir: null,
    noWrite: false,
    installAnchors: false,
    list: false,
    help: false,
  });
});

t.test('bench args select named scenarios in registry order with flags anywhere', async (t) => {
  const opts = parseArgs(['log', '--quick', 'store', '--json', '--runs', '3', '--out', '/tmp/x'], KNOWN);
  t.same(opts.scenarios, ['store', 'log']);
  t.equal(opts.quick, true);
  t.equal(opts.json, true);
  t.equal(opts.runs, 3);
  t.equal(opts.outDir, '/tmp/x');
});

t.test('bench args accept the -- that pnpm forwards, --no-write, --install-anchors, --list and -h', async (t) => {
  t.equal(parseArgs(['--', '--quick'], KNOWN).quick, true);
  t.equal(parseArgs(['--no-write'], KNOWN).noWrite, true);
  t.equal(parseArgs(['cluster', '--install-anchors'], KNOWN).installAnchors, true);
  t.equal(parseArgs(['--list'], KNOWN).list, true);
  t.equal(parseArgs(['-h'], KNOWN).help, true);
});

t.test('bench args reject unknown flags, unknown scenarios and bad run counts', async (t) => {
  t.throws(() => parseArgs(['--fast'], KNOWN), UsageError);
  t.throws(() => parseArgs(['stroe'], KNOWN), {
    name: 'UsageError',
    message: /unknown scenario "stroe"; known: store, cluster, log/,
  });
  for (const bad of ['0', '-1', '2.5', 'many', '101']) {
    t.throws(() => parseArgs([`--runs=${bad}`], KNOWN), { name: 'UsageError', message: /^--runs/ }, `--runs ${bad}`);
  }
  t.throws(() => parseArgs(['--runs'], KNOWN), UsageError);
});
