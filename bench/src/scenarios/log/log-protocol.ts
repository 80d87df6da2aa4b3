/**
 * The log scenario's commands to a Shoal node worker (carried inside the
 * cluster worker protocol's `{ type: 'log' }` command) and their results.
 * Each runs against the worker's embedded node: topics, append bursts, a
 * consumer group member, pub/sub, and the two ends of the latency test.
 */
import type { ArrivalResult, ArrivalSpec, BurstResult, LatencyResult, RateResult, RateSpec } from './log-load.js';
import type { BurstParams } from './params.js';

/** A consumer-group read: counts messages until the spec stops it, then closes the member. */
export interface ConsumeSpec extends ArrivalSpec {
  /** Handlers at once (`concurrency` of node.log.consume). */
  readonly concurrency: number;
}

export type LogCommand =
  | { readonly op: 'create-topic'; readonly topic: string; readonly partitions: number }
  | {
      readonly op: 'append';
      readonly topic: string;
      readonly spec: BurstParams;
      readonly valueBytes: number;
      readonly acks: 'leader' | 'quorum';
    }
  | { readonly op: 'consume'; readonly topic: string; readonly group: string; readonly spec: ConsumeSpec }
  | { readonly op: 'subscribe'; readonly channel: string; readonly spec: ArrivalSpec }
  | { readonly op: 'await-interest'; readonly channel: string; readonly nodes: number; readonly timeoutMs: number }
  | { readonly op: 'publish'; readonly channel: string; readonly spec: BurstParams; readonly valueBytes: number }
  | { readonly op: 'latency-produce'; readonly topic: string; readonly spec: RateSpec }
  | { readonly op: 'latency-consume'; readonly topic: string; readonly group: string; readonly spec: ArrivalSpec }
  | { readonly op: 'leaders'; readonly topic: string; readonly partitions: number };

/** The leader (primary owner) of each partition of a topic, as this node's partition table says. */
export interface LeadersResult {
  readonly leaders: readonly (string | null)[];
}

/** A consume run: what arrived, and the group's lag once the member closed (its acks flushed). */
export interface ConsumeResult extends ArrivalResult {
  /** Sum of the group's lag over partitions after close; null when the lag could not be read. */
  readonly lagAfter: number | null;
  /** The consumer's last fetch or ack failure, if any. */
  readonly consumerError: string | null;
}

export type LogResult =
  | null
  | BurstResult
  | ConsumeResult
  | ArrivalResult
  | LatencyResult
  | RateResult
  | LeadersResult
  | { readonly probes: number };
