/**
 * A real Shoal cluster on 127.0.0.1, one node per child process (node-worker.ts),
 * seen from the parent: start it, wait for conditions on what the nodes report
 * (event-driven, with a deadline), send commands, SIGKILL a member, and stop
 * everything by pid. Every child is killed on stop, on a failed start, and if
 * the parent exits first.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type {
  Observation,
  ObservedState,
  ParentMessage,
  WorkerCommand,
  WorkerMessage,
  WorkerNodeOptions,
  WorkerResult,
} from './worker-protocol.js';

const WORKER = new URL('./node-worker.js', import.meta.url);
const TAIL_CHARS = 4000;

/** Children alive right now, so an exiting parent can still kill them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) if (c.pid !== undefined) killPid(c.pid);
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

type CommandBody = WorkerCommand extends infer C ? (C extends WorkerCommand ? Omit<C, 'id'> : never) : never;

/** One node worker process. */
export class NodeProcess {
  readonly nodeId: string;
  address = '';
  suspectEvents = false;
  /** Set when the child exited (killed or crashed). */
  exited = false;
  private tail = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: WorkerResult) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    options: WorkerNodeOptions,
    private readonly onObservation: (o: Observation) => void,
  ) {
    this.nodeId = options.nodeId;
    const keep = (chunk: Buffer): void => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (raw: unknown) => this.receive(raw as WorkerMessage));
    child.once('exit', (code, signal) => {
      this.exited = true;
      const err = new Error(`node ${this.nodeId} exited (${signal ?? `code ${code}`})${this.tailText()}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.readyReject?.(err);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private readyResolve: (() => void) | undefined;
  private readyReject: ((e: Error) => void) | undefined;

  /** Forks a worker and resolves once its node listens (and joined through the seeds). */
  static async spawn(
    options: WorkerNodeOptions,
    onObservation: (o: Observation) => void,
    timeoutMs: number,
  ): Promise<NodeProcess> {
    const child = fork(WORKER, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
    track(child);
    const node = new NodeProcess(child, options, onObservation);
    const ready = new Promise<void>((resolve, reject) => {
      node.readyResolve = resolve;
      node.readyReject = reject;
    });
    const timer = setTimeout(
      () => node.readyReject?.(new Error(`node ${options.nodeId} not ready within ${timeoutMs} ms${node.tailText()}`)),
      timeoutMs,
    );
    node.post({ type: 'start', options });
    try {
      await ready;
    } catch (err) {
      node.kill();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return node;
  }

  /** Sends a command and resolves with its reply; rejects on error, exit or deadline. */
  request<R extends WorkerResult>(command: CommandBody, timeoutMs: number): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      if (this.exited) {
        reject(new Error(`node ${this.nodeId} has exited`));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`node ${this.nodeId}: ${command.type} got no reply within ${timeoutMs} ms${this.tailText()}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as R);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.post({ ...command, id } as WorkerCommand);
    });
  }

  /** SIGKILL by pid; returns `Date.now()` just before the signal. */
  kill(): number {
    const at = Date.now();
    if (!this.exited && this.child.pid !== undefined) killPid(this.child.pid);
    return at;
  }

  /** Resolves when the child has exited (at most `timeoutMs`). */
  whenExited(timeoutMs: number): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private post(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  private receive(message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        this.address = message.address;
        this.suspectEvents = message.suspectEvents;
        this.readyResolve?.();
        return;
      case 'observation':
        this.onObservation(message.observation);
        return;
      case 'reply':
        this.pending.get(message.id)?.resolve(message.result);
        this.pending.delete(message.id);
        return;
      case 'error': {
        const err = new Error(`node ${this.nodeId}: ${message.message}`);
        if (message.id === null) this.readyReject?.(err);
        else this.pending.get(message.id)?.reject(err);
        if (message.id !== null) this.pending.delete(message.id);
        return;
      }
    }
  }

  private tailText(): string {
    return this.tail.length === 0 ? '' : `\n--- output tail ---\n${this.tail}`;
  }
}

export interface LocalClusterOptions {
  readonly size: number;
  /** Prefix of node ids (`<prefix>-0`, ...). */
  readonly idPrefix: string;
  readonly readyTimeoutMs: number;
  readonly antiEntropyIntervalMs?: number;
}

/** A cluster of node processes and everything they reported. */
export class LocalCluster {
  /** Every observation of every node, in arrival order. */
  readonly observations: Observation[] = [];
  private waiters = new Set<() => void>();

  private constructor(
    readonly nodes: NodeProcess[],
    private readonly options: LocalClusterOptions,
  ) {}

  /** Starts node 0, then the others seeded with its address; on any failure kills what started. */
  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const cluster = new LocalCluster([], options);
    try {
      const first = await NodeProcess.spawn(cluster.nodeOptions(0, []), cluster.observe, options.readyTimeoutMs);
      cluster.nodes.push(first);
      const rest = Array.from({ length: options.size - 1 }, (_, i) =>
        NodeProcess.spawn(cluster.nodeOptions(i + 1, [first.address]), cluster.observe, options.readyTimeoutMs).then(
          (n) => {
            cluster.nodes.push(n);
            return n;
          },
        ),
      );
      const settled = await Promise.allSettled(rest);
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    cluster.nodes.sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
    return cluster;
  }

  /** Starts one more node (`<prefix>-<index>`) seeded with node 0 and adds it to `nodes` once it listens. */
  async join(index: number): Promise<NodeProcess> {
    const seed = this.nodes[0];
    if (seed === undefined) throw new Error('cluster: join needs a running node 0');
    const node = await NodeProcess.spawn(
      this.nodeOptions(index, [seed.address]),
      this.observe,
      this.options.readyTimeoutMs,
    );
    this.nodes.push(node);
    return node;
  }

  private readonly observe = (o: Observation): void => {
    this.observations.push(o);
    for (const w of [...this.waiters]) w();
  };

  private nodeOptions(i: number, seeds: string[]): WorkerNodeOptions {
    return {
      nodeId: `${this.options.idPrefix}-${i}`,
      seeds,
      ...(this.options.antiEntropyIntervalMs === undefined
        ? {}
        : { antiEntropyIntervalMs: this.options.antiEntropyIntervalMs }),
    };
  }

  /** Each node's latest view (member -> state) built from its observations. */
  views(): Map<string, Map<string, ObservedState>> {
    const views = new Map<string, Map<string, ObservedState>>(this.nodes.map((n) => [n.nodeId, new Map()]));
    for (const o of this.observations) views.get(o.observer)?.set(o.member, o.to);
    return views;
  }

  /** True when every running node sees every other running node alive. */
  converged(): boolean {
    const live = this.nodes.filter((n) => !n.exited);
    const views = this.views();
    return live.every((n) => live.every((m) => m === n || views.get(n.nodeId)?.get(m.nodeId) === 'alive'));
  }

  /** Resolves once `predicate` holds (checked now and on every observation); rejects after `timeoutMs`. */
  waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`cluster: ${what} did not happen within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** SIGKILLs every node and waits for the exits (bounded). Safe to call twice. */
  async stop(): Promise<void> {
    for (const n of this.nodes) n.kill();
    await Promise.all(this.nodes.map((n) => n.whenExited(5000)));
    this.waiters.clear();
  }
}
