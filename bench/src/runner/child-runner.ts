/**
 * Runs one benchmark task in a fresh child process (`child_process.fork` of
 * worker-entry.js with `--expose-gc`), so the JIT state and heap of one
 * contender never affect another. A task is a named export of a module,
 * called with a structured-cloneable input; its result comes back over IPC.
 * Every run has a deadline after which the child is killed.
 */
import { fork } from 'node:child_process';

/** What the parent sends: which function to run and its argument. */
export interface WorkerRequest {
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly input: unknown;
}

/** What the child answers. */
export type WorkerReply =
  | { readonly ok: true; readonly output: unknown; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly error: { readonly message: string; readonly stack?: string; readonly code?: string };
    };

export interface RunTaskOptions<I> {
  /** Module holding the task (e.g. `new URL('./task.js', import.meta.url)`). */
  readonly module: URL;
  /** Name of the exported async function `(input: I) => Promise<O>`. */
  readonly exportName: string;
  readonly input: I;
  /** The child is killed (SIGKILL) and the run rejected after this many ms. */
  readonly timeoutMs: number;
  /** Extra Node flags; `--expose-gc` is always passed. */
  readonly execArgv?: readonly string[];
}

/** A task failed inside its child, crashed it, or overran its deadline. */
export class WorkerTaskError extends Error {
  override readonly name = 'WorkerTaskError';
  constructor(
    message: string,
    /** The task's own error code when it threw one (e.g. `BENCH_CONTENDER_UNAVAILABLE`). */
    readonly code: string | undefined,
    /** Last lines the child wrote to stdout/stderr. */
    readonly outputTail: string,
  ) {
    super(message);
  }
}

const ENTRY = new URL('./worker-entry.js', import.meta.url);
const TAIL_CHARS = 4000;

/** Forks a child, runs the task there once, and resolves with its output. */
export function runTask<I, O>(options: RunTaskOptions<I>): Promise<O> {
  const label = `${options.module.pathname.split('/').pop()}#${options.exportName}`;
  return new Promise<O>((resolve, reject) => {
    const child = fork(ENTRY, [], {
      execArgv: ['--expose-gc', ...(options.execArgv ?? [])],
      serialization: 'advanced', // typed arrays and Maps cross as-is
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let tail = '';
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(() =>
        reject(new WorkerTaskError(`${label}: overran its ${options.timeoutMs} ms deadline`, undefined, tail)),
      );
    }, options.timeoutMs);

    child.once('message', (raw: unknown) => {
      const reply = raw as WorkerReply;
      if (reply.ok) settle(() => resolve(reply.output as O));
      else settle(() => reject(new WorkerTaskError(`${label}: ${reply.error.message}`, reply.error.code, tail)));
    });
    child.once('error', (err) => {
      child.kill('SIGKILL');
      settle(() => reject(new WorkerTaskError(`${label}: ${err.message}`, undefined, tail)));
    });
    // 'close' (not 'exit'): it comes after stdio and IPC are drained, so a reply sent just before exiting is seen first.
    child.once('close', (code, signal) => {
      settle(() =>
        reject(
          new WorkerTaskError(`${label}: child exited (${signal ?? `code ${code}`}) without a reply`, undefined, tail),
        ),
      );
    });
    const request: WorkerRequest = {
      moduleUrl: options.module.href,
      exportName: options.exportName,
      input: options.input,
    };
    child.send(request);
  });
}
