/**
 * Command-line flags of `pnpm bench`. Parsing is a pure function of argv and
 * the registered scenario names, so it is unit-tested without running anything.
 */
import { parseArgs as parseNodeArgs } from 'node:util';

export interface BenchOptions {
  /** Scenario names to run, in registry order; all when none were named. */
  readonly scenarios: readonly string[];
  /** Short smoke run (CI). */
  readonly quick: boolean;
  /** Print one JSON document on stdout instead of tables (progress stays on stderr). */
  readonly json: boolean;
  /** Measured runs per contender; null: the default (5, or 1 with --quick). */
  readonly runs: number | null;
  /** Results directory; null: bench/results. */
  readonly outDir: string | null;
  /** Skip writing result files. */
  readonly noWrite: boolean;
  /** Install missing anchor servers (apt-get install redis-server) instead of skipping them. */
  readonly installAnchors: boolean;
  readonly list: boolean;
  readonly help: boolean;
}

/** Bad command line; the message says what to fix. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: pnpm bench [scenario...] [options]

Runs every scenario, or the ones named. Each measured run executes in its own
child process; results go to bench/results/<date>-<scenario>.json, SVG charts
and <date>-summary.md.

Options:
  --quick        short smoke run (small sizes, 1 run; used by CI, numbers not meaningful)
  --json         print results as one JSON document on stdout
  --runs N       measured runs per contender (default 5, 1 with --quick)
  --out DIR      write results to DIR instead of bench/results
  --no-write     do not write result files
  --install-anchors
                 install missing anchor servers (apt-get install -y redis-server)
                 instead of skipping them with a note
  --list         list scenarios and exit
  -h, --help     show this help
`;

/** Parses argv (without node and script); throws UsageError on anything unknown. */
export function parseArgs(argv: readonly string[], known: readonly string[]): BenchOptions {
  // `pnpm bench -- --quick` forwards the `--` itself.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  let runs: number | null = null;
  if (values.runs !== undefined) {
    runs = Number(values.runs);
    if (!Number.isSafeInteger(runs) || runs < 1 || runs > 100) {
      throw new UsageError(`--runs: ${JSON.stringify(values.runs)} is not an integer from 1 to 100`);
    }
  }
  const unknown = positionals.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown scenario ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${known.join(', ')}`);
  }
  const named = new Set(positionals);
  return {
    scenarios: named.size === 0 ? [...known] : known.filter((name) => named.has(name)),
    quick: values.quick === true,
    json: values.json === true,
    runs,
    outDir: values.out ?? null,
    noWrite: values['no-write'] === true,
    installAnchors: values['install-anchors'] === true,
    list: values.list === true,
    help: values.help === true,
  };
}

function parse(args: string[]) {
  return parseNodeArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      runs: { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean' },
      'install-anchors': { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
