/**
 * Writes one run's results: `<date>-<scenario>.json` per scenario, an SVG per
 * chart, and `<date>-summary.md` covering every scenario of the run. Quick
 * runs write `.quick` variants so a CI smoke run never overwrites the day's
 * real numbers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MachineInfo } from '../lib/machine.js';
import type { ScenarioResult } from '../scenario.js';
import { comparisonTable } from './comparison-table.js';
import { renderMarkdown } from './table.js';

/** One scenario of the run: its result, or why it failed. */
export interface ScenarioRun {
  readonly name: string;
  readonly description: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly result: ScenarioResult | null;
  readonly error: string | null;
}

export interface RunReport {
  readonly date: string;
  readonly quick: boolean;
  readonly runs: number;
  readonly argv: readonly string[];
  readonly machine: MachineInfo;
  readonly scenarios: readonly ScenarioRun[];
}

/** Local calendar date as YYYY-MM-DD. */
export function isoDate(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
}

/** The JSON document written for one scenario (also the `--json` element). */
export function scenarioDocument(report: RunReport, run: ScenarioRun): Record<string, unknown> {
  return {
    schema: 1,
    scenario: run.name,
    description: run.description,
    date: report.date,
    startedAt: run.startedAt,
    durationMs: Math.round(run.durationMs),
    quick: report.quick,
    runs: report.runs,
    argv: report.argv,
    machine: report.machine,
    error: run.error,
    params: run.result?.params ?? null,
    comparisons: run.result?.comparisons ?? [],
    notes: run.result?.notes ?? [],
    charts: run.result?.charts.map((c) => c.name) ?? [],
    data: run.result?.data ?? null,
  };
}

function chartFile(report: RunReport, scenario: string, chart: string, suffix: string): string {
  return `${report.date}-${scenario}-${chart}${suffix}.svg`;
}

/** The markdown summary of the whole run. */
export function summaryMarkdown(report: RunReport): string {
  const suffix = report.quick ? '.quick' : '';
  const m = report.machine;
  const out = [
    `# Shoal benchmarks ${report.date}${report.quick ? ' (quick smoke run: numbers are not meaningful)' : ''}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${(m.totalMemoryBytes / 2 ** 30).toFixed(0)} GiB, ${m.platform}/${m.arch}, Node ${m.nodeVersion} (V8 ${m.v8Version}), load ${m.loadAverage.join(' ')}.`,
    `Command: \`pnpm bench ${report.argv.join(' ')}\`; ${report.runs} measured run(s) per contender, each in its own child process.`,
    '',
  ];
  for (const run of report.scenarios) {
    out.push(`## ${run.name}`, '', run.description, '');
    if (run.error !== null || run.result === null) {
      out.push(`**Failed:** ${run.error ?? 'no result'}`, '');
      continue;
    }
    const result = run.result;
    out.push(renderMarkdown(comparisonTable('Against the anchor', result.comparisons)));
    for (const table of result.tables) out.push(renderMarkdown(table));
    for (const chart of result.charts)
      out.push(`![${chart.title}](${chartFile(report, run.name, chart.name, suffix)})`, '');
    if (result.notes.length > 0) out.push('Notes:', '', ...result.notes.map((n) => `- ${n}`), '');
  }
  return out.join('\n');
}

/** Writes every file of the run into `outDir`; returns the paths written. */
export async function writeResults(outDir: string, report: RunReport): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const suffix = report.quick ? '.quick' : '';
  const written: string[] = [];
  const put = async (name: string, content: string): Promise<void> => {
    const file = path.join(outDir, name);
    await writeFile(file, content);
    written.push(file);
  };
  for (const run of report.scenarios) {
    await put(
      `${report.date}-${run.name}${suffix}.json`,
      `${JSON.stringify(scenarioDocument(report, run), null, 2)}\n`,
    );
    for (const chart of run.result?.charts ?? []) await put(chartFile(report, run.name, chart.name, suffix), chart.svg);
  }
  await put(`${report.date}-summary${suffix}.md`, summaryMarkdown(report));
  return written;
}
