/**
 * Membership: SWIM failure detection and gossip with Lifeguard, composed from
 * the member list (state handlers), probes, the broadcast queue, suspicion
 * timers and local health. Transport-agnostic: it sends through a
 * MembershipTransport and receives through `handleMessage`, so the same code
 * runs over WebSockets and in the in-memory simulation.
 */
import { EventEmitter } from 'node:events';
import { ShoalError } from '@shoal/protocol';
import { type Clock, systemClock } from '../store/clock.js';
import { Awareness } from './awareness.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { createEventLoopLagMonitor, type LagMonitor } from './lag-monitor.js';
import type { Member } from './member.js';
import { MemberList, type MemberListHooks, type MembershipEventMap } from './member-list.js';
import {
  pushPullInterval,
  type ResolvedMembershipConfig,
  resolveMembershipConfig,
  retransmitLimit,
  suspicionTimeouts,
} from './membership-config.js';
import { checkName, type MembershipInit, type MembershipLogger, silentLogger } from './membership-init.js';
import { type MembershipMessage, MembershipMessageKind, type MemberUpdate } from './membership-messages.js';
import type { MembershipTransport } from './membership-transport.js';
import { type ProbeContext, probeMember } from './probe.js';
import { ProbeOrder } from './probe-order.js';
import { mathRandom, pickRandom, type Random } from './random.js';
import { Reconnector } from './reconnector.js';
import { Responder } from './responder.js';
import { Suspicion } from './suspicion.js';
import { realTimers, TimerGroup } from './timers.js';

const isFalse = () => false;
const isTrue = () => true;

type Phase = 'idle' | 'running' | 'leaving' | 'stopped';

/** One node's view of the cluster, kept current by SWIM probes and gossip. Events: see MembershipEventMap. */
export class Membership extends EventEmitter<MembershipEventMap> {
  /** This node's id. */
  readonly id: string;
  /** This node's peer address. */
  readonly address: string;
  /** The resolved configuration. */
  readonly config: ResolvedMembershipConfig;

  private phase: Phase = 'idle';
  private readonly transport: MembershipTransport;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly lagMonitor: LagMonitor;
  private readonly logger: MembershipLogger;
  private readonly timers: TimerGroup;
  private readonly awareness: Awareness;
  private readonly queue: BroadcastQueue;
  private readonly list: MemberList;
  private readonly reconnector: Reconnector;
  private readonly probeContext: ProbeContext;
  private readonly probeOrder: ProbeOrder;
  private readonly responder: Responder;
  private tickProbeBusy = false;
  private readonly probing = new Set<string>(); // ids with a probe in flight
  private leaving: Promise<void> | undefined;

  constructor(init: MembershipInit) {
    super();
    this.id = checkName(init.id, 'id');
    this.address = checkName(init.address, 'address');
    this.config = resolveMembershipConfig(init.config);
    this.transport = init.transport;
    this.clock = init.clock ?? systemClock;
    this.random = init.random ?? mathRandom;
    this.lagMonitor = init.lagMonitor ?? createEventLoopLagMonitor();
    this.logger = init.logger ?? silentLogger;
    this.timers = new TimerGroup(init.timers ?? realTimers, this.clock, this.config.timerDriftToleranceMs);
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    this.queue = new BroadcastQueue(() => retransmitLimit(this.config, this.list.liveCount()));
    this.list = new MemberList(this.id, this.address, init.meta, this.listHooks());
    this.reconnector = new Reconnector({
      config: this.config,
      timers: this.timers,
      random: this.random,
      selfAddress: this.address,
      members: () => this.list.all(),
      pushPull: (address) => this.pushPull(address),
      isRunning: () => this.phase === 'running',
    });
    this.probeOrder = new ProbeOrder(this.random);
    this.responder = new Responder({
      list: this.list,
      transport: this.transport,
      piggyback: (max) => this.queue.take(max),
      maxUpdates: this.config.maxPiggybackUpdates,
      absorb: (message) => this.absorb(message),
      stopped: () => this.stopped,
    });
    this.probeContext = {
      selfId: this.id,
      config: this.config,
      transport: this.transport,
      timers: this.timers,
      awareness: this.awareness,
      now: () => this.clock.now(),
      helpers: (target, k) =>
        pickRandom(
          this.list.others(['alive']).filter((m) => m.id !== target.id),
          k,
          this.random,
        ),
      piggyback: (max) => this.queue.take(max),
      absorb: (reply) => this.absorb(reply),
    };
  }

  /** Starts probing, gossip, periodic push-pull and reconnection. Idempotent; a stopped membership stays stopped. */
  start(): void {
    if (this.phase !== 'idle') return;
    this.phase = 'running';
    this.lagMonitor.start();
    const cfg = this.config;
    // Random first delays stagger nodes started together.
    this.timers.after(this.random.next() * cfg.probeIntervalMs, () => this.probeTick());
    if (cfg.gossipNodes > 0) this.timers.after(this.random.next() * cfg.gossipIntervalMs, () => this.gossipTick());
    if (cfg.pushPullIntervalMs > 0) this.schedulePushPull();
    this.reconnector.start();
  }

  /**
   * Joins the cluster through `seeds` (addresses; our own is skipped): a
   * push-pull with every seed, retried with backoff. Resolves with the number
   * of seeds that answered the first successful round (0 when there was no
   * other seed: this node starts a cluster). Rejects with
   * SHOAL_TRANSPORT_UNAVAILABLE after `joinTimeoutMs` (the seeds are still
   * retried in the background, see `reconnectIntervalMs`), or SHOAL_NODE_CLOSED
   * when the membership stops meanwhile. Starts the membership if needed.
   */
  async join(seeds: readonly string[]): Promise<number> {
    if (this.phase === 'stopped' || this.phase === 'leaving') {
      throw new ShoalError('SHOAL_NODE_CLOSED', 'membership: join after leave or shutdown', { seeds: [...seeds] });
    }
    this.start();
    const targets = [...new Set(seeds)].filter((s) => s !== this.address);
    this.reconnector.addSeeds(targets);
    if (targets.length === 0) return 0;
    const deadline = this.clock.now() + this.config.joinTimeoutMs;
    const closed = () => new ShoalError('SHOAL_NODE_CLOSED', 'membership: stopped while joining', { seeds: targets });
    for (let backoffMs = Math.max(1, this.config.reconnectIntervalMs); ; ) {
      const results = await Promise.all(targets.map((t) => this.pushPull(t).catch(() => false)));
      const answered = results.filter(Boolean).length;
      if (answered > 0) return answered;
      if (this.phase !== 'running') throw closed();
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) {
        const message = `membership: no seed of ${targets.join(', ')} answered within ${this.config.joinTimeoutMs} ms (still retrying in the background)`;
        this.logger.warn({ seeds: targets }, message);
        throw new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', message, { seeds: targets });
      }
      const waitMs = Math.min(remaining, backoffMs * (0.5 + this.random.next()));
      const stopped = await this.timers.sleep(waitMs).then(isFalse, isTrue);
      if (stopped) throw closed();
      backoffMs = Math.min(backoffMs * 2, this.config.reconnectMaxIntervalMs);
    }
  }

  /**
   * Leaves gracefully: announces 'left' (incarnation + 1) to every live
   * member, waits up to `timeoutMs` for their acks, then shuts down. Others
   * report 'member-leave', not 'member-dead'. Idempotent (returns the same promise).
   */
  leave(timeoutMs: number = this.config.leaveTimeoutMs): Promise<void> {
    if (this.leaving !== undefined) return this.leaving;
    if (this.phase !== 'running') {
      this.shutdown();
      this.leaving = Promise.resolve();
      return this.leaving;
    }
    this.phase = 'leaving';
    const update = this.list.markSelfLeft();
    const told = this.list
      .others(['alive', 'suspect'])
      .map((m) =>
        this.transport.request(m.address, { kind: MembershipMessageKind.Gossip, updates: [update] }, timeoutMs),
      );
    const acked = Promise.allSettled(told);
    this.leaving = Promise.race([acked, this.timers.sleep(timeoutMs)])
      .catch(() => {})
      .then(() => this.shutdown());
    return this.leaving;
  }

  /** Stops at once: no message is sent, every timer is cleared. Idempotent. */
  shutdown(): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.timers.clearAll(new ShoalError('SHOAL_NODE_CLOSED', 'membership stopped'));
    this.list.cancelSuspicions();
    this.queue.clear();
    this.lagMonitor.stop();
  }

  /** Every known member with its state, this node included. */
  members(): Member[] {
    return this.list.all();
  }

  /** The member `id`, if known. */
  member(id: string): Member | undefined {
    return this.list.get(id);
  }

  /** This node as the cluster sees it. */
  localMember(): Member {
    return this.list.local();
  }

  /** Probes of other members that got no ack, direct or indirect, since start (metrics). */
  probeFailures = 0;

  /** Lifeguard local-health score (0 = healthy; timeouts are scaled by score + 1). */
  get healthScore(): number {
    return this.awareness.score;
  }

  /** Replaces this node's metadata and gossips it under a new incarnation. */
  setMeta(meta: Readonly<Record<string, unknown>>): void {
    if (this.phase === 'stopped' || this.phase === 'leaving') return;
    this.list.setSelfMeta(meta);
  }

  /**
   * Entry point for inbound membership messages (already validated with
   * `validateMembershipMessage`). Resolves with the reply for requests
   * (undefined for replies and after shutdown).
   */
  async handleMessage(fromAddress: string, message: MembershipMessage): Promise<MembershipMessage | undefined> {
    if (this.phase === 'stopped') return undefined;
    switch (message.kind) {
      case MembershipMessageKind.Ping:
        return this.responder.ping(message);
      case MembershipMessageKind.PingReq:
        return this.responder.pingReq(message);
      case MembershipMessageKind.PushPull:
        this.list.merge(message.members, message.from);
        return { kind: MembershipMessageKind.PushPullReply, from: this.id, members: this.list.all() };
      case MembershipMessageKind.Gossip:
        this.absorbUpdates(message.updates);
        return { kind: MembershipMessageKind.Ack };
      default:
        this.logger.debug({ from: fromAddress, kind: message.kind }, 'membership: stray reply');
        this.absorb(message);
        return undefined;
    }
  }

  /**
   * Transport hint that the connection to `address` closed. Probes the
   * members at that address now; never taken as proof of death.
   */
  onPeerDisconnected(address: string): void {
    if (this.phase !== 'running') return;
    for (const m of this.list.others(['alive', 'suspect'])) if (m.address === address) void this.probe(m);
  }

  // A getter, so TypeScript does not keep a narrowing of `phase` across an await.
  private get stopped(): boolean {
    return this.phase === 'stopped';
  }

  private listHooks(): MemberListHooks {
    return {
      broadcast: (update) => this.queue.enqueue(update),
      startSuspicion: (member, from) => this.startSuspicion(member, from),
      refuted: () => {
        this.awareness.applyDelta(1);
        this.logger.debug({ incarnation: this.list.local().incarnation }, 'membership: refuted a claim about us');
      },
      added: (id) => this.probeOrder.insert(id),
      emit: (event, ...args) => {
        try {
          (this.emit as (name: string, ...values: unknown[]) => boolean)(event, ...args);
        } catch (err) {
          // A throwing listener must not leave the state machine half-updated: rethrow outside of it.
          queueMicrotask(() => {
            throw err;
          });
        }
      },
      now: () => this.clock.now(),
    };
  }

  private startSuspicion(member: Member, from: string): Suspicion {
    const { minMs, maxMs, confirmations } = suspicionTimeouts(this.config, this.list.liveCount());
    return new Suspicion({
      from,
      k: confirmations,
      minMs,
      maxMs,
      clock: this.clock,
      schedule: (ms, fn) => this.timers.deadline(ms, () => fn()),
      onTimeout: (confirmed) => {
        if (this.phase === 'stopped') return;
        this.logger.debug({ member: member.id, confirmed }, 'membership: suspicion timed out');
        this.list.applyDead({
          kind: MembershipMessageKind.Dead,
          id: member.id,
          incarnation: member.incarnation,
          from: this.id,
        });
      },
    });
  }

  private probeTick(): void {
    if (this.phase !== 'running') return;
    const cfg = this.config;
    this.awareness.noteLag(this.lagMonitor.takeMaxLagMs(), cfg.lagThresholdMs, cfg.probeTimeoutMs);
    this.reconnector.remember(this.list.reap(cfg.deadMemberRetentionMs));
    if (!this.tickProbeBusy) {
      const target = this.probeOrder.next(
        (id) => this.list.get(id),
        () => this.list.others(['alive', 'suspect']).map((m) => m.id),
      );
      if (target !== undefined) {
        this.tickProbeBusy = true;
        void this.probe(target).finally(() => {
          this.tickProbeBusy = false;
        });
      }
    }
    this.timers.after(this.awareness.scale(cfg.probeIntervalMs), () => this.probeTick());
  }

  private async probe(target: Member): Promise<void> {
    if (this.probing.has(target.id)) return;
    this.probing.add(target.id);
    try {
      const outcome = await probeMember(this.probeContext, target);
      if (outcome === 'failed' && this.phase === 'running') {
        this.probeFailures++;
        this.list.applySuspect({
          kind: MembershipMessageKind.Suspect,
          id: target.id,
          incarnation: target.incarnation,
          from: this.id,
        });
      }
    } finally {
      this.probing.delete(target.id);
    }
  }

  private gossipTick(): void {
    if (this.phase === 'stopped') return;
    const cfg = this.config;
    if (this.queue.size > 0) {
      const now = this.clock.now();
      const targets = this.list
        .others(['alive', 'suspect', 'dead'])
        .filter((m) => m.state !== 'dead' || now - (this.list.changedAt(m.id) ?? 0) < cfg.gossipToTheDeadMs);
      for (const target of pickRandom(targets, cfg.gossipNodes, this.random)) {
        const updates = this.queue.take(cfg.maxPiggybackUpdates);
        if (updates.length === 0) break;
        this.transport.send(target.address, { kind: MembershipMessageKind.Gossip, updates });
      }
    }
    this.timers.after(cfg.gossipIntervalMs, () => this.gossipTick());
  }

  private schedulePushPull(): void {
    const interval = pushPullInterval(this.config, this.list.liveCount());
    this.timers.after(interval * (0.5 + this.random.next()), () => {
      if (this.phase !== 'running') return;
      const [peer] = pickRandom(this.list.others(['alive']), 1, this.random);
      if (peer !== undefined) void this.pushPull(peer.address).catch(() => {});
      this.schedulePushPull();
    });
  }

  /** Full-state exchange with `address`; resolves true when it answered and its state was merged. */
  private async pushPull(address: string): Promise<boolean> {
    if (this.stopped) return false;
    const request = { kind: MembershipMessageKind.PushPull, from: this.id, members: this.list.all() } as const;
    const reply = await this.transport.request(address, request, this.config.pushPullTimeoutMs);
    if (this.stopped || reply.kind !== MembershipMessageKind.PushPullReply) return false;
    this.list.merge(reply.members, reply.from);
    return true;
  }

  private absorb(message: MembershipMessage): void {
    if (this.phase === 'stopped') return;
    if (message.kind === MembershipMessageKind.PushPull || message.kind === MembershipMessageKind.PushPullReply) {
      this.list.merge(message.members, message.from);
    } else this.absorbUpdates(message.updates);
  }

  private absorbUpdates(updates: readonly MemberUpdate[] | undefined): void {
    if (updates === undefined || this.phase === 'stopped') return;
    for (const update of updates) this.list.apply(update);
  }
}
