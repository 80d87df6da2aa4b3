/**
 * `pnpm bench [scenario...] [--quick] [--json] ...`: runs the registered
 * scenarios one after another, prints their tables (or one JSON document with
 * --json), and writes results, summary and charts to bench/results/.
 * Exit code: 0 when every scenario ran (missed targets are reported, not
 * failures), 1 when a scenario failed, 2 on a bad command line.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs, USAGE, UsageError } from './cli/args.js';
import { machineInfo } from './lib/machine.js';
import { comparisonTable } from './report/comparison-table.js';
import { createProgress } from './report/progress.js';
import { isoDate, type RunReport, type ScenarioRun, scenarioDocument, writeResults } from './report/results-writer.js';
import { renderText } from './report/table.js';
import { SCENARIOS } from './scenarios/index.js';

const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../results/', import.meta.url));

async function main(argv: readonly string[]): Promise<number> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(
      argv,
      SCENARIOS.map((s) => s.name),
    );
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name}\t${s.description}\n`);
    return 0;
  }

  // Human-readable output goes to stdout unless stdout carries the JSON document.
  const human = options.json ? process.stderr : process.stdout;
  const machine = machineInfo();
  const runs = options.runs ?? (options.quick ? 1 : 5);
  const load = machine.loadAverage[0] ?? 0;
  if (!options.quick && load >= machine.cores * 0.5) {
    // Timing figures on a shared 2-core VM swing by 2-3x under load; say so rather than let a ratio mislead.
    process.stderr.write(
      `bench: warning: load average ${load} on ${machine.cores} cores; throughput figures will be noisy\n`,
    );
  }
  const scenarios: ScenarioRun[] = [];
  for (const scenario of SCENARIOS.filter((s) => options.scenarios.includes(s.name))) {
    const progress = createProgress(scenario.name, process.stderr);
    const startedAt = new Date();
    const started = performance.now();
    let run: ScenarioRun;
    try {
      const result = await scenario.run({
        quick: options.quick,
        runs,
        installAnchors: options.installAnchors,
        progress,
        machine,
        log: (line) => process.stderr.write(`${scenario.name}: ${line}\n`),
      });
      run = { ...meta(), result, error: null };
    } catch (err) {
      run = { ...meta(), result: null, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    } finally {
      progress.finish();
    }
    scenarios.push(run);
    printScenario(human, run);

    function meta() {
      return {
        name: scenario.name,
        description: scenario.description,
        startedAt: startedAt.toISOString(),
        durationMs: performance.now() - started,
      };
    }
  }

  const report: RunReport = {
    date: isoDate(new Date()),
    quick: options.quick,
    runs,
    argv: [...argv],
    machine,
    scenarios,
  };
  if (!options.noWrite) {
    const written = await writeResults(options.outDir ?? DEFAULT_OUT_DIR, report);
    human.write(`\nwrote ${written.length} files to ${options.outDir ?? DEFAULT_OUT_DIR}\n`);
  }
  if (options.json) {
    const doc = {
      machine,
      date: report.date,
      quick: report.quick,
      runs,
      scenarios: scenarios.map((s) => scenarioDocument(report, s)),
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
  return scenarios.some((s) => s.error !== null) ? 1 : 0;
}

function printScenario(out: NodeJS.WritableStream, run: ScenarioRun): void {
  out.write(`\n== ${run.name} (${(run.durationMs / 1000).toFixed(1)} s) ==\n`);
  if (run.result === null) {
    out.write(`FAILED: ${run.error}\n`);
    return;
  }
  for (const table of run.result.tables) out.write(`\n${renderText(table)}`);
  out.write(`\n${renderText(comparisonTable(`${run.name}: against the anchor`, run.result.comparisons))}`);
  const targeted = run.result.comparisons.filter((c) => c.pass !== null);
  const missed = targeted.filter((c) => c.pass === false).length;
  out.write(`targets: ${targeted.length - missed} met, ${missed} missed (reported, not asserted)\n`);
  for (const note of run.result.notes) out.write(`note: ${note}\n`);
}

process.exitCode = await main(process.argv.slice(2));
