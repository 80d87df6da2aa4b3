/**
 * Test harness over the in-memory SimNetwork (src/membership/sim-network.ts):
 * a cluster of Memberships on simulated links with latency, loss, partitions,
 * killed, paused and stalled nodes, on real (fast) or virtual time, with
 * every event recorded and convergence awaited by polling with a deadline.
 */
import {
  localConfig,
  type Member,
  type MemberState,
  Membership,
  type MembershipConfigOptions,
  realScheduler,
  SimNetwork,
  type SimNode,
  type SimScheduler,
  seededRandom,
  VirtualScheduler,
} from '../../src/index.js';

export { SimNetwork, type SimNode } from '../../src/index.js';

/** One recorded membership event: what `node` saw happen to `member`. */
export interface SeenEvent {
  readonly at: number;
  readonly node: string;
  readonly event: string;
  readonly member: string;
  readonly from?: string;
}

/** How to build a cluster. */
export interface SimClusterOptions {
  readonly size: number;
  /** Membership config overrides; default localConfig(). */
  readonly config?: MembershipConfigOptions;
  /** Virtual time when given; real time otherwise. */
  readonly scheduler?: SimScheduler;
  readonly latencyMs?: number | readonly [number, number];
  readonly lossRate?: number;
  readonly seed?: number;
}

/** A simulated cluster. Node i has id `n<i>` and address `n<i>:7000`. */
export class SimCluster {
  readonly network: SimNetwork;
  readonly sims: SimNode[] = [];
  readonly members: Membership[] = [];
  readonly events: SeenEvent[] = [];
  readonly scheduler: SimScheduler;

  constructor(readonly options: SimClusterOptions) {
    this.scheduler = options.scheduler ?? realScheduler;
    const random = seededRandom(options.seed ?? 7);
    this.network = new SimNetwork({
      scheduler: this.scheduler,
      latencyMs: options.latencyMs ?? [1, 3],
      lossRate: options.lossRate ?? 0,
      random,
    });
    for (let i = 0; i < options.size; i++) this.add(i, random);
  }

  /** Address of node `i`. */
  static address(i: number): string {
    return `n${i}:7000`;
  }

  /** Starts node 0 and joins every other node through it; resolves once all joins answered. */
  async joinAllThrough(seed = 0): Promise<void> {
    this.members[seed]!.start();
    const joins = this.members.map((m, i) => (i === seed ? Promise.resolve(0) : m.join([SimCluster.address(seed)])));
    if (this.scheduler instanceof VirtualScheduler) {
      const all = Promise.all(joins);
      let done = false;
      void all.then(() => {
        done = true;
      });
      await this.scheduler.runUntil(() => done, 60_000);
    }
    await Promise.all(joins);
  }

  /** State of member `j` as node `i` sees it. */
  stateOf(i: number, j: number): MemberState | undefined {
    return this.members[i]!.member(`n${j}`)?.state;
  }

  /** Whether every node in `observers` sees every node in `targets` in `state`. */
  sees(observers: readonly number[], targets: readonly number[], state: MemberState): boolean {
    return observers.every((i) => targets.every((j) => i === j || this.stateOf(i, j) === state));
  }

  /** Node indexes 0..size-1, minus `except`. */
  indexes(...except: number[]): number[] {
    return this.members.map((_, i) => i).filter((i) => !except.includes(i));
  }

  /** Events of one kind. */
  seen(event: string): SeenEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** Polls `condition` until it holds; throws naming `what` after `timeoutMs`. Returns the time it took. */
  async waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
    const start = this.scheduler.now();
    if (this.scheduler instanceof VirtualScheduler) {
      if (!(await this.scheduler.runUntil(condition, timeoutMs)))
        throw new Error(`not within ${timeoutMs} ms: ${what}`);
      return this.scheduler.now() - start;
    }
    while (!condition()) {
      if (this.scheduler.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.scheduler.now() - start;
  }

  /** Lets `ms` pass (virtual: runs the simulation; real: waits). */
  async pass(ms: number): Promise<void> {
    if (this.scheduler instanceof VirtualScheduler) await this.scheduler.run(ms);
    else await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Stops every node and drops messages in flight. */
  shutdown(): void {
    for (const m of this.members) m.shutdown();
    this.network.close();
  }

  private add(i: number, random: { next(): number }): void {
    const sim = this.network.addNode(SimCluster.address(i));
    const membership = new Membership({
      id: `n${i}`,
      address: SimCluster.address(i),
      transport: sim.transport,
      config: { ...localConfig(), ...this.options.config },
      clock: this.scheduler,
      timers: sim.timers,
      lagMonitor: sim.lagMonitor,
      random: seededRandom(Math.floor(random.next() * 2 ** 31)),
      meta: { index: i },
    });
    sim.attach(membership);
    const record = (event: string) => (member: Member, from?: unknown) =>
      this.events.push({
        at: this.scheduler.now(),
        node: `n${i}`,
        event,
        member: member.id,
        ...(typeof from === 'string' ? { from } : {}),
      });
    for (const event of ['member-join', 'member-leave', 'member-dead', 'suspect', 'alive'] as const) {
      membership.on(event, record(event));
    }
    this.sims.push(sim);
    this.members.push(membership);
  }
}
