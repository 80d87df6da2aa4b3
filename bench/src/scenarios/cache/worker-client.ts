/**
 * The parent's handle on one cache worker process: fork it, call its commands
 * (typed by WorkerCommands' own signatures) with a deadline each, and SIGKILL
 * it by pid. Every worker still running when the parent exits is killed too.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { CacheWorkerReply, CacheWorkerRequest } from './cache-worker.js';
import type { WorkerCommands } from './worker-commands.js';

const ENTRY = new URL('./cache-worker.js', import.meta.url);
const TAIL_CHARS = 4000;

type Command = {
  [K in keyof WorkerCommands]: WorkerCommands[K] extends (...args: never[]) => unknown ? K : never;
}[keyof WorkerCommands];
type ArgsOf<K extends Command> = Parameters<WorkerCommands[K]> extends [] ? null : Parameters<WorkerCommands[K]>[0];
type ResultOf<K extends Command> = Awaited<ReturnType<WorkerCommands[K]>>;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killPid(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** One forked cache worker. */
export class CacheWorker {
  private nextId = 1;
  private tail = '';
  private exited: Error | null = null;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private readonly exitedPromise: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly label: string,
  ) {
    const keep = (chunk: Buffer): void => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (raw: unknown) => {
      const reply = raw as CacheWorkerReply;
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`${this.label}: ${reply.message}`));
    });
    this.exitedPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = new Error(`${this.label} exited (${signal ?? `code ${code}`})${this.tailText()}`);
        for (const waiter of this.pending.values()) waiter.reject(this.exited);
        this.pending.clear();
        resolve();
      });
    });
  }

  static spawn(label: string): CacheWorker {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const child of running) killPid(child.pid);
      });
    }
    const child = fork(ENTRY, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
    running.add(child);
    child.once('exit', () => running.delete(child));
    return new CacheWorker(child, label);
  }

  /** Runs `name(args)` in the worker; rejects on its error, its exit, or after `timeoutMs`. */
  call<K extends Command>(name: K, args: ArgsOf<K>, timeoutMs: number): Promise<ResultOf<K>> {
    if (this.exited !== null) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<ResultOf<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: ${name} took longer than ${timeoutMs} ms${this.tailText()}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as ResultOf<K>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const request: CacheWorkerRequest = { id, name, args };
      this.child.send(request);
    });
  }

  /** SIGKILLs the worker by pid and waits (bounded) for its exit. */
  async kill(): Promise<void> {
    if (this.exited === null) killPid(this.child.pid);
    await Promise.race([this.exitedPromise, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }

  private tailText(): string {
    return this.tail === '' ? '' : `\n${this.tail.trim().split('\n').slice(-10).join('\n')}`;
  }
}

/** Kills every worker in `workers` (in parallel). */
export async function killAll(workers: readonly CacheWorker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.kill()));
}
