/**
 * The contract between the harness and a scenario. A scenario is one module
 * `scenarios/<name>.ts` exporting a `Scenario`, listed once in
 * `scenarios/index.ts`; the harness handles flags, progress, printing and
 * writing results, so a scenario only measures and describes what it measured.
 */

import type { Comparison } from './lib/compare.js';
import type { MachineInfo } from './lib/machine.js';
import type { Progress } from './report/progress.js';
import type { ChartFile } from './report/svg-chart.js';
import type { TableSpec } from './report/table.js';

/** What the harness gives a running scenario. */
export interface ScenarioContext {
  /** Short smoke run (CI): small sizes, few runs; numbers are not meaningful. */
  readonly quick: boolean;
  /** Measured runs (each in its own child process) per contender; medians are taken across them. */
  readonly runs: number;
  /** The user allows installing missing anchor servers (`--install-anchors`); otherwise such anchors are skipped. */
  readonly installAnchors: boolean;
  /** Announce and count steps; the harness renders a bar on a TTY and plain lines otherwise. */
  readonly progress: Progress;
  /** A note for humans (stderr), never mixed into `--json` output. */
  log(line: string): void;
  readonly machine: MachineInfo;
}

/** What a scenario hands back. */
export interface ScenarioResult {
  /** Workload parameters actually used (sizes, seeds, run counts). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Every headline figure next to its anchor measured in the same run. */
  readonly comparisons: readonly Comparison[];
  /** Detail tables, printed and copied to the markdown summary. */
  readonly tables: readonly TableSpec[];
  /** SVG charts; the harness writes each to `<date>-<scenario>-<name>.svg`. */
  readonly charts: readonly ChartFile[];
  /** Caveats worth reading next to the numbers (a contender that could not run, ...). */
  readonly notes: readonly string[];
  /** Raw measurements, written to the JSON file as they are. */
  readonly data: unknown;
}

/** One benchmark scenario. */
export interface Scenario {
  /** CLI name: lowercase, no spaces (`pnpm bench <name>`). */
  readonly name: string;
  /** One line for `--list` and the summary. */
  readonly description: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
