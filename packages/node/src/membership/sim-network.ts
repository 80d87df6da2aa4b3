/**
 * An in-memory network for membership tests and benchmarks (memberlist's
 * MockNetwork, with faults): every node gets a MembershipTransport, timers and
 * a lag monitor. Messages go through msgpack and validation as on the wire,
 * with latency, loss and partitions; a node can be killed (connections
 * refused, peers told), paused (nothing runs, inbound lost) or stalled (its
 * timers and handlers wait, as behind a blocked event loop, and its lag
 * monitor reports the stall). Runs on real or virtual (VirtualScheduler) time.
 */
import { Packr } from 'msgpackr';
import type { Clock } from '../store/clock.js';
import type { LagMonitor } from './lag-monitor.js';
import { type MembershipMessage, validateMembershipMessage } from './membership-messages.js';
import type { MembershipTransport } from './membership-transport.js';
import { type Random, seededRandom } from './random.js';
import type { MembershipTimers, TimerHandle } from './timers.js';

/** Time for the simulation: a clock and timers on the same time line. */
export type SimScheduler = Clock & MembershipTimers;

/** Real time with ref'd timers (a test waits on them), Date.now clock. */
export const realScheduler: SimScheduler = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The side of a simulated node the network delivers to (a Membership fits). */
export interface SimEndpoint {
  handleMessage(fromAddress: string, message: MembershipMessage): Promise<MembershipMessage | undefined>;
  onPeerDisconnected(address: string): void;
}

/** Network behaviour. */
export interface SimNetworkOptions {
  /** Time line of the whole simulation. Default: real time. */
  readonly scheduler?: SimScheduler;
  /** One-way latency in ms: fixed, or [min, max] uniform. Default 1. */
  readonly latencyMs?: number | readonly [number, number];
  /** Probability that one message is lost, 0..1. Default 0. */
  readonly lossRate?: number;
  /** Random source for latency and loss. Default seededRandom(1). */
  readonly random?: Random;
  /** Told about every message put on the wire (lost ones included, refused ones not), with its msgpack size. */
  readonly onMessage?: (from: string, to: string, message: MembershipMessage, bytes: number) => void;
}

type Reply = { resolve(reply: MembershipMessage): void; reject(err: Error): void };

// The wire's msgpack settings (plain maps, no records), so sizes and round trips match real frames.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

/** The simulated network. */
export class SimNetwork {
  /** Probability that one message is lost, 0..1. */
  lossRate: number;
  readonly scheduler: SimScheduler;
  private readonly nodes = new Map<string, SimNode>();
  private readonly blocked = new Set<string>(); // "a|b" pairs that cannot talk (both orders stored)
  private readonly pending = new Set<TimerHandle>();
  private readonly random: Random;

  constructor(private readonly options: SimNetworkOptions = {}) {
    this.scheduler = options.scheduler ?? realScheduler;
    this.lossRate = options.lossRate ?? 0;
    this.random = options.random ?? seededRandom(1);
  }

  /** Adds a node at `address`; attach its endpoint once built. */
  addNode(address: string): SimNode {
    const node = new SimNode(this, address);
    this.nodes.set(address, node);
    return node;
  }

  /** The node at `address`. */
  node(address: string): SimNode | undefined {
    return this.nodes.get(address);
  }

  /** Cuts every link between a node of `a` and a node of `b` (both directions). */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) {
      for (const y of b) {
        this.blocked.add(`${x}|${y}`);
        this.blocked.add(`${y}|${x}`);
      }
    }
  }

  /** Restores every link cut by `partition`. */
  heal(): void {
    this.blocked.clear();
  }

  /** Drops every message in flight and every pending request timeout (end of a test). */
  close(): void {
    for (const handle of this.pending) this.scheduler.clearTimeout(handle);
    this.pending.clear();
    for (const node of this.nodes.values()) node.dropRequests();
  }

  /** @internal Puts `message` from `from` to `to` on the wire; `reply` is set for requests. */
  deliver(from: SimNode, to: string, message: MembershipMessage, reply?: Reply): void {
    const dest = this.nodes.get(to);
    if (dest === undefined || dest.state === 'killed') {
      // Nothing listens: the connection is refused after a round trip, nothing goes on the wire.
      if (reply !== undefined) this.later(() => from.run(() => reply.reject(new Error(`ECONNREFUSED ${to}`))));
      return;
    }
    const packed = packr.pack(message);
    this.options.onMessage?.(from.address, to, message, packed.length);
    const copy = validateMembershipMessage(packr.unpack(packed));
    if (this.random.next() < this.lossRate) return;
    this.later(() => {
      if (this.blocked.has(`${from.address}|${to}`) || dest.state === 'killed' || dest.state === 'paused') return;
      dest.run(() => {
        void dest.handle(from.address, copy).then((answer) => {
          if (answer !== undefined && reply !== undefined) this.deliverReply(dest, from, answer, reply);
        });
      });
    });
  }

  /** @internal Tells every other node that `address` closed its connections. */
  announceDisconnect(address: string): void {
    for (const node of this.nodes.values()) {
      if (node.address === address || node.state === 'killed') continue;
      this.later(() => node.run(() => node.endpoint?.onPeerDisconnected(address)));
    }
  }

  /** @internal Runs `fn` after the network delay (tracked, so `close` cancels it). */
  later(fn: () => void): void {
    const handle = this.scheduler.setTimeout(() => {
      this.pending.delete(handle);
      fn();
    }, this.latency());
    this.pending.add(handle);
  }

  private deliverReply(from: SimNode, to: SimNode, message: MembershipMessage, reply: Reply): void {
    if (from.state === 'killed') return;
    const packed = packr.pack(message);
    this.options.onMessage?.(from.address, to.address, message, packed.length);
    const copy = validateMembershipMessage(packr.unpack(packed));
    if (this.random.next() < this.lossRate) return;
    this.later(() => {
      if (this.blocked.has(`${from.address}|${to.address}`) || to.state === 'killed' || to.state === 'paused') return;
      to.run(() => reply.resolve(copy));
    });
  }

  private latency(): number {
    const l = this.options.latencyMs ?? 1;
    return typeof l === 'number' ? l : l[0] + this.random.next() * (l[1] - l[0]);
  }
}

interface NodeTimer {
  inner: TimerHandle;
  cleared: boolean;
}

/** One simulated node: its transport, timers and lag monitor, and the faults it can suffer. */
export class SimNode {
  /** The attached endpoint (the node's Membership). */
  endpoint: SimEndpoint | undefined;
  private status: 'running' | 'stalled' | 'paused' | 'killed' = 'running';
  // Work that waited behind a stall or pause. On wake, expired timers run before I/O, as in libuv's loop.
  private deferredTimers: Array<() => void> = [];
  private deferredIo: Array<() => void> = [];
  private stallEnd: TimerHandle | undefined;
  private readonly requestTimers = new Set<TimerHandle>(); // timeouts of requests in flight
  private stalledSince = 0;
  private maxLagMs = 0;

  /** Outbound messages of this node. */
  readonly transport: MembershipTransport;
  /** This node's timers: they wait while the node is stalled or paused, and die with it. */
  readonly timers: MembershipTimers;
  /** Reports the stalls and pauses this node went through. */
  readonly lagMonitor: LagMonitor;

  constructor(
    private readonly network: SimNetwork,
    readonly address: string,
  ) {
    const scheduler = network.scheduler;
    this.timers = {
      setTimeout: (callback, ms) => {
        const timer: NodeTimer = { inner: undefined, cleared: false };
        timer.inner = scheduler.setTimeout(() => this.run(() => timer.cleared || callback(), 'timer'), ms);
        return timer;
      },
      clearTimeout: (handle) => {
        const timer = handle as NodeTimer;
        timer.cleared = true;
        scheduler.clearTimeout(timer.inner);
      },
    };
    this.transport = {
      request: (to, message, timeoutMs) =>
        new Promise<MembershipMessage>((resolve, reject) => {
          let done = false;
          const timer = this.timers.setTimeout(() => {
            this.requestTimers.delete(timer);
            if (done) return;
            done = true;
            reject(new Error(`timeout after ${timeoutMs} ms`));
          }, timeoutMs);
          this.requestTimers.add(timer);
          const settle = (fn: () => void) => {
            if (done) return;
            done = true;
            this.requestTimers.delete(timer);
            this.timers.clearTimeout(timer);
            fn();
          };
          network.deliver(this, to, message, {
            resolve: (reply) => settle(() => resolve(reply)),
            reject: (err) => settle(() => reject(err)),
          });
        }),
      send: (to, message) => network.deliver(this, to, message),
    };
    this.lagMonitor = {
      start() {},
      stop() {},
      takeMaxLagMs: () => {
        const lag = this.maxLagMs;
        this.maxLagMs = 0;
        return lag;
      },
    };
  }

  /** 'running', 'stalled', 'paused' or 'killed'. */
  get state(): 'running' | 'stalled' | 'paused' | 'killed' {
    return this.status;
  }

  /** Connects the node's endpoint. */
  attach(endpoint: SimEndpoint): void {
    this.endpoint = endpoint;
  }

  /** Blocks the node's event loop for `ms`: timers and inbound messages wait, then run late. */
  stall(ms: number): void {
    if (this.status === 'killed' || this.status === 'paused') return;
    const scheduler = this.network.scheduler;
    if (this.status === 'running') this.stalledSince = scheduler.now();
    else scheduler.clearTimeout(this.stallEnd);
    this.status = 'stalled';
    this.stallEnd = scheduler.setTimeout(() => this.wake(), ms);
  }

  /** Freezes the node (SIGSTOP): nothing runs, inbound messages are lost, timers wait. */
  pause(): void {
    if (this.status === 'killed') return;
    if (this.status === 'stalled') this.network.scheduler.clearTimeout(this.stallEnd);
    else if (this.status === 'running') this.stalledSince = this.network.scheduler.now();
    this.status = 'paused';
  }

  /** Resumes a paused node: its late timers fire at once, its lag monitor reports the pause. */
  resume(): void {
    if (this.status === 'paused') this.wake();
  }

  /** Kills the node (SIGKILL): nothing of it runs again; with `notifyPeers`, peers see their connection close. */
  kill(notifyPeers = true): void {
    if (this.status === 'killed') return;
    if (this.status === 'stalled') this.network.scheduler.clearTimeout(this.stallEnd);
    this.status = 'killed';
    this.deferredTimers = [];
    this.deferredIo = [];
    if (notifyPeers) this.network.announceDisconnect(this.address);
  }

  /** @internal Runs `fn` on this node's event loop: now, after the stall, or never when killed. */
  run(fn: () => void, kind: 'timer' | 'io' = 'io'): void {
    if (this.status === 'running') fn();
    else if (this.status !== 'killed') (kind === 'timer' ? this.deferredTimers : this.deferredIo).push(fn);
  }

  /** @internal Forgets the requests in flight: their timeouts are cleared and they never settle. */
  dropRequests(): void {
    for (const timer of this.requestTimers) this.timers.clearTimeout(timer);
    this.requestTimers.clear();
  }

  /** @internal Hands an inbound message to the endpoint. */
  handle(from: string, message: MembershipMessage): Promise<MembershipMessage | undefined> {
    return this.endpoint === undefined ? Promise.resolve(undefined) : this.endpoint.handleMessage(from, message);
  }

  private wake(): void {
    const scheduler = this.network.scheduler;
    this.maxLagMs = Math.max(this.maxLagMs, scheduler.now() - this.stalledSince);
    this.status = 'running';
    const work = [...this.deferredTimers, ...this.deferredIo];
    this.deferredTimers = [];
    this.deferredIo = [];
    for (const fn of work) fn();
  }
}
