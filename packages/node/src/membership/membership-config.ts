/**
 * Timers and tuning of the membership protocol (SWIM + Lifeguard), with the
 * presets LAN (`defaultConfig`), WAN and local (fast timers for tests), and
 * the formulas that derive timeouts and limits from the cluster size N.
 * Resolved once: preset defaults, then every field validated, then frozen.
 */
import { ShoalError } from '@shoal/protocol';

/**
 * Every tunable of the membership protocol. "N" below is the number of live
 * (alive or suspect) members this node knows, itself included.
 */
export interface MembershipConfig {
  /**
   * Time between two failure-detection probes of this node, in ms. Each probe
   * checks one member (round-robin over a shuffled list), so every member is
   * probed by someone about once per interval. Scaled by local health:
   * effective = probeIntervalMs × (healthScore + 1). It is also the probe's
   * whole window: a member that has not acked by then is suspected.
   * Default 1000 (LAN), 5000 (WAN), 100 (local).
   */
  readonly probeIntervalMs: number;
  /**
   * How long a direct ping waits for its ack before indirect pings are sent
   * through `indirectChecks` other members, in ms. Must be below
   * `probeIntervalMs`; scaled like it by local health. Should exceed the
   * round-trip time plus the longest expected event-loop stall of a healthy
   * peer. Default 500 (LAN), 3000 (WAN), 50 (local).
   */
  readonly probeTimeoutMs: number;
  /**
   * Members asked to ping a target on our behalf when the direct ping gets no
   * ack in time (SWIM's k). Their nacks also tell us whether *we* are the slow
   * one (Lifeguard). 0 disables indirect probes. Default 3.
   */
  readonly indirectChecks: number;
  /**
   * Multiplier of the shortest suspicion timeout:
   * suspicionMinMs = suspicionMult × max(1, log10(N)) × probeIntervalMs.
   * Default 2 (LAN: 2 s at N ≤ 10, 4 s at N = 100), 6 (WAN), 3 (local).
   */
  readonly suspicionMult: number;
  /**
   * Lifeguard's dynamic suspicion: a suspicion starts at
   * suspicionMaxMs = suspicionMaxTimeoutMult × suspicionMinMs and shrinks
   * toward suspicionMinMs as independent confirmations arrive, so a lone
   * (possibly wrong) suspicion leaves the member a long time to refute.
   * Default 6.
   */
  readonly suspicionMaxTimeoutMult: number;
  /**
   * Independent confirmations (suspect messages from other members) that bring
   * a suspicion down to its minimum: k = min(suspicionConfirmations, N − 2);
   * remaining = max(min, max − (max − min) × log(c + 1) / log(k + 1)) − elapsed
   * after c confirmations. Default 3.
   */
  readonly suspicionConfirmations: number;
  /**
   * Lifeguard's local health: the score runs from 0 (healthy) to
   * awarenessMaxMultiplier − 1 and multiplies probe interval and timeout by
   * (score + 1). It rises on failed probes with missing nacks, on refuting a
   * suspicion about ourselves and on event-loop lag; it falls by one per
   * successful probe. 1 disables the scaling. Default 8.
   */
  readonly awarenessMaxMultiplier: number;
  /**
   * Event-loop lag (from the lag monitor, read once per probe tick), in ms,
   * from which this node considers itself unhealthy: the health score is
   * raised to at least ceil(lag / probeTimeoutMs). Default 50.
   */
  readonly lagThresholdMs: number;
  /**
   * A timer that fires this much later than scheduled, in ms, means our own
   * event loop stalled: a probe deadline or suspicion timeout that fires that
   * late is re-armed (by the delay, at most twice) so replies queued behind the
   * stall are read before any verdict against a peer. Default 25.
   */
  readonly timerDriftToleranceMs: number;
  /**
   * Each state update is piggybacked or gossiped at most
   * retransmitMult × ceil(log10(N + 1)) times, which reaches every member
   * with high probability at O(log N) cost per update. Default 4.
   */
  readonly retransmitMult: number;
  /** Most updates carried by one message (ping, ack, gossip). Default 16. */
  readonly maxPiggybackUpdates: number;
  /**
   * Time between gossip rounds, in ms. A round sends queued updates to
   * `gossipNodes` random members, and nothing when the queue is empty.
   * Default 200 (LAN), 500 (WAN), 50 (local).
   */
  readonly gossipIntervalMs: number;
  /** Members gossiped to per round; 0 leaves dissemination to piggybacking. Default 3 (LAN, local), 4 (WAN). */
  readonly gossipNodes: number;
  /**
   * How long after declaring a member dead we still gossip to it, in ms, so a
   * member that was only paused learns it was declared dead and refutes.
   * Default 30000 (LAN), 60000 (WAN), 3000 (local).
   */
  readonly gossipToTheDeadMs: number;
  /**
   * Base time between full-state exchanges (push-pull) with one random member,
   * in ms. One exchange carries all N members, so the interval grows with N
   * to keep the bytes per node per second flat:
   * pushPullInterval = pushPullIntervalMs × max(1, N / pushPullScaleThreshold).
   * 0 disables the periodic exchange (joins still use it).
   * Default 30000 (LAN), 60000 (WAN), 1000 (local).
   */
  readonly pushPullIntervalMs: number;
  /**
   * Cluster size beyond which the push-pull interval grows linearly with N.
   * Below it a node's push-pull bytes grow with N; above it they stay flat
   * (at about 2 × pushPullScaleThreshold members' worth per interval), which
   * keeps total gossip bytes per node within O(log N). Default 8 (a 100-node
   * cluster: each node starts a sync every 375 s and receives as many).
   */
  readonly pushPullScaleThreshold: number;
  /** Timeout of one push-pull exchange (join, periodic sync, reconnect), in ms. Default 5000 (LAN), 10000 (WAN), 500 (local). */
  readonly pushPullTimeoutMs: number;
  /**
   * How long `join(seeds)` keeps retrying before it rejects, in ms. Seeds are
   * retried in the background afterwards (see `reconnectIntervalMs`).
   * Default 10000 (LAN), 30000 (WAN), 2000 (local).
   */
  readonly joinTimeoutMs: number;
  /**
   * First delay between reconnection attempts, in ms: seeds that are not live
   * members and dead (not left) members are retried one at a time with a
   * push-pull, with exponential backoff up to `reconnectMaxIntervalMs`, reset
   * on success. This is how a cluster split by a long outage heals by itself.
   * Also the first backoff step of `join`. 0 disables background reconnection.
   * Default 1000 (LAN), 2000 (WAN), 50 (local).
   */
  readonly reconnectIntervalMs: number;
  /** Longest delay between reconnection attempts, in ms. Default 30000 (LAN), 60000 (WAN), 1000 (local). */
  readonly reconnectMaxIntervalMs: number;
  /**
   * How long dead and left members stay in the member list (and in push-pull
   * state), in ms. Afterwards a dead member's address is still retried by the
   * reconnection loop (up to 64 such addresses). Default 3600000 (1 h).
   */
  readonly deadMemberRetentionMs: number;
  /** Default wait of `leave()` for members to acknowledge our 'left' message, in ms. Default 1000 (LAN), 3000 (WAN), 200 (local). */
  readonly leaveTimeoutMs: number;
}

/** User input: any subset of the fields, applied over a preset (LAN by default). */
export type MembershipConfigOptions = Partial<MembershipConfig>;

/** A complete, validated and frozen configuration. */
export type ResolvedMembershipConfig = Readonly<MembershipConfig>;

const LAN: MembershipConfig = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 2,
  suspicionMaxTimeoutMult: 6,
  suspicionConfirmations: 3,
  awarenessMaxMultiplier: 8,
  lagThresholdMs: 50,
  timerDriftToleranceMs: 25,
  retransmitMult: 4,
  maxPiggybackUpdates: 16,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  pushPullScaleThreshold: 8,
  pushPullTimeoutMs: 5000,
  joinTimeoutMs: 10_000,
  reconnectIntervalMs: 1000,
  reconnectMaxIntervalMs: 30_000,
  deadMemberRetentionMs: 3_600_000,
  leaveTimeoutMs: 1000,
};

/**
 * The LAN preset, tuned so that a SIGKILLed member of a 3-node cluster is
 * declared dead by both others about 2 s later (suspicion minimum 2 s, both
 * survivors confirm each other) while 200 ms event-loop stalls stay far below
 * the 500 ms probe timeout.
 */
export function defaultConfig(): ResolvedMembershipConfig {
  return Object.freeze({ ...LAN });
}

/** The WAN preset: slower timers for high and variable latency (memberlist's WAN values). */
export function wanConfig(): ResolvedMembershipConfig {
  return Object.freeze({
    ...LAN,
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    suspicionMult: 6,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    gossipToTheDeadMs: 60_000,
    pushPullIntervalMs: 60_000,
    pushPullTimeoutMs: 10_000,
    joinTimeoutMs: 30_000,
    reconnectIntervalMs: 2000,
    reconnectMaxIntervalMs: 60_000,
    leaveTimeoutMs: 3000,
  });
}

/** Fast timers for tests in one process: failures are detected in well under a second. */
export function localConfig(): ResolvedMembershipConfig {
  return Object.freeze({
    ...LAN,
    probeIntervalMs: 100,
    probeTimeoutMs: 50,
    suspicionMult: 3,
    gossipIntervalMs: 50,
    gossipToTheDeadMs: 3000,
    pushPullIntervalMs: 1000,
    pushPullTimeoutMs: 500,
    joinTimeoutMs: 2000,
    reconnectIntervalMs: 50,
    reconnectMaxIntervalMs: 1000,
    leaveTimeoutMs: 200,
  });
}

function configError(message: string, option: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `membership.${option}: ${message}`, { option: `membership.${option}` });
}

// [field, minimum]: every field is a safe integer at or above its minimum.
const INTEGER_MINIMUMS: ReadonlyArray<readonly [keyof MembershipConfig, number]> = [
  ['probeIntervalMs', 1],
  ['probeTimeoutMs', 1],
  ['indirectChecks', 0],
  ['suspicionMult', 1],
  ['suspicionMaxTimeoutMult', 1],
  ['suspicionConfirmations', 0],
  ['awarenessMaxMultiplier', 1],
  ['lagThresholdMs', 1],
  ['timerDriftToleranceMs', 1],
  ['retransmitMult', 1],
  ['maxPiggybackUpdates', 1],
  ['gossipIntervalMs', 1],
  ['gossipNodes', 0],
  ['gossipToTheDeadMs', 0],
  ['pushPullIntervalMs', 0],
  ['pushPullScaleThreshold', 1],
  ['pushPullTimeoutMs', 1],
  ['joinTimeoutMs', 1],
  ['reconnectIntervalMs', 0],
  ['reconnectMaxIntervalMs', 1],
  ['deadMemberRetentionMs', 0],
  ['leaveTimeoutMs', 0],
];
const KNOWN = new Set<string>(Object.keys(LAN));

/**
 * Applies `options` over `base` (the LAN preset by default), validates every
 * field and freezes the result. Throws SHOAL_CONFIG_INVALID naming the option.
 */
export function resolveMembershipConfig(
  options: MembershipConfigOptions = {},
  base: ResolvedMembershipConfig = LAN,
): ResolvedMembershipConfig {
  if (typeof options !== 'object' || options === null) throw configError('must be an object', '(config)');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw configError('unknown option', key);
  }
  const merged: MembershipConfig = { ...base };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  for (const [key, min] of INTEGER_MINIMUMS) {
    const value = merged[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw configError(`${JSON.stringify(value)} is not an integer >= ${min}`, key);
    }
  }
  if (merged.probeTimeoutMs >= merged.probeIntervalMs) {
    throw configError(
      `${merged.probeTimeoutMs} must be below probeIntervalMs (${merged.probeIntervalMs})`,
      'probeTimeoutMs',
    );
  }
  if (merged.reconnectMaxIntervalMs < merged.reconnectIntervalMs) {
    throw configError(`must be >= reconnectIntervalMs (${merged.reconnectIntervalMs})`, 'reconnectMaxIntervalMs');
  }
  return Object.freeze(merged);
}

/** Suspicion timeouts for a cluster of `n` live members (see the config fields for the formulas). */
export interface SuspicionTimeouts {
  /** Timeout once k confirmations arrived, in ms. */
  readonly minMs: number;
  /** Timeout of a lone suspicion, in ms. */
  readonly maxMs: number;
  /** Confirmations k that bring the timeout to its minimum. */
  readonly confirmations: number;
}

/** suspicionMinMs, suspicionMaxMs and k for `n` live members. */
export function suspicionTimeouts(config: ResolvedMembershipConfig, n: number): SuspicionTimeouts {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  const minMs = Math.round(config.suspicionMult * nodeScale * config.probeIntervalMs);
  return {
    minMs,
    maxMs: config.suspicionMaxTimeoutMult * minMs,
    confirmations: Math.max(0, Math.min(config.suspicionConfirmations, n - 2)),
  };
}

/** How many times one update is transmitted: retransmitMult × ceil(log10(n + 1)). */
export function retransmitLimit(config: ResolvedMembershipConfig, n: number): number {
  return config.retransmitMult * Math.ceil(Math.log10(Math.max(1, n) + 1));
}

/** Push-pull interval for `n` live members: pushPullIntervalMs × max(1, n / pushPullScaleThreshold). */
export function pushPullInterval(config: ResolvedMembershipConfig, n: number): number {
  return Math.round(config.pushPullIntervalMs * Math.max(1, n / config.pushPullScaleThreshold));
}
