/**
 * Progress of a scenario on stderr: a bar redrawn in place on a TTY, one plain
 * line per finished step otherwise (CI logs), so long runs show they are alive.
 */

/** Counts a scenario's steps. */
export interface Progress {
  /** Declares how many steps follow (a scenario may call it again to grow the total). */
  start(total: number): void;
  /** Runs one step, showing `label` while it runs and counting it when it ends. */
  step<T>(label: string, fn: () => Promise<T>): Promise<T>;
  /** Clears the bar; call once when the scenario ends. */
  finish(): void;
}

/** Where progress goes; `isTTY` decides bar or lines. */
export interface ProgressSink {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

const BAR_WIDTH = 24;

/** Renders `[#####-----]` for `done` of `total`. */
export function renderBar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export function createProgress(
  scenario: string,
  sink: ProgressSink,
  now: () => number = performance.now.bind(performance),
): Progress {
  let total = 0;
  let done = 0;
  const startedAt = now();
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
  const draw = (label: string): void => {
    const text = `${scenario} ${renderBar(done, total)} ${done}/${total} ${seconds(now() - startedAt)} ${label}`;
    const cols = sink.columns ?? 120;
    sink.write(`\r\x1b[2K${text.slice(0, Math.max(10, cols - 1))}`);
  };
  return {
    start(n) {
      total = n;
    },
    async step(label, fn) {
      const stepStarted = now();
      if (sink.isTTY) draw(label);
      try {
        return await fn();
      } finally {
        done++;
        if (sink.isTTY) draw(label);
        else sink.write(`${scenario} ${done}/${total} ${label} (${seconds(now() - stepStarted)})\n`);
      }
    },
    finish() {
      if (sink.isTTY) sink.write('\r\x1b[2K');
    },
  };
}
