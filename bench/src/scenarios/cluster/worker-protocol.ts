/**
 * The IPC messages between the cluster scenario (parent) and a node worker
 * (node-worker.ts, one Shoal node per child process). The parent sends one
 * `start`, then commands with an id; the worker answers each command with a
 * `reply` carrying the same id, and reports membership changes as they happen.
 */
import type { LogCommand, LogResult } from '../log/log-protocol.js';
import type { LoadResult, LoadSpec } from './load.js';
import type { StallReport, StallSpec } from './stalls.js';

/** Member states as `node.members()` reports them. */
export type ObservedState = 'alive' | 'suspect' | 'dead' | 'left';

/** Options the worker passes to `createNode` (plain data; host is always 127.0.0.1, port 0). */
export interface WorkerNodeOptions {
  readonly nodeId: string;
  readonly seeds: readonly string[];
  /** Only for the gossip-traffic cluster (0 keeps anti-entropy digests off the wire). */
  readonly antiEntropyIntervalMs?: number;
}

/** Transport counters summed over this node's peer connections (what it sent). */
export interface TrafficCounters {
  readonly messagesOut: number;
  readonly framesOut: number;
  /** msgpack frame bytes, before WebSocket and TCP headers. */
  readonly bytesOut: number;
}

/** This node's store and transport totals (node.stats().node and node.transportCounters()). */
export interface StoreSnapshot {
  readonly entries: number;
  /** Bytes the store accounts for its entries. */
  readonly bytes: number;
  /** Frame bytes sent and received over every peer connection so far. */
  readonly bytesOut: number;
  readonly bytesIn: number;
}

/** Where rebalancing stands on this node (node.rebalanceStatus() and its partition table), read locally. */
export interface RebalanceSnapshot {
  readonly syncing: number;
  readonly handingOff: number;
  /** This node's local count of table changes (not comparable between nodes). */
  readonly tableVersion: number;
  /** Fingerprint of the owners table: equal on two nodes when they route every partition alike. */
  readonly tableHash: number;
  /** Distinct nodes owning a copy of some partition in this node's table. */
  readonly owners: number;
  /** Members this node sees alive, itself included. */
  readonly alive: number;
}

export type WorkerCommand =
  | { readonly type: 'load'; readonly id: number; readonly spec: LoadSpec }
  | {
      readonly type: 'prefill';
      readonly id: number;
      readonly spec: Pick<LoadSpec, 'keys' | 'valueBytes' | 'concurrency'>;
      readonly shard: number;
      readonly shards: number;
    }
  | { readonly type: 'stall'; readonly id: number; readonly spec: StallSpec }
  | { readonly type: 'traffic'; readonly id: number }
  | { readonly type: 'store'; readonly id: number }
  | { readonly type: 'rebalance'; readonly id: number }
  /** A command of the log scenario (log/log-protocol.ts), run by log/shoal-log-commands.ts. */
  | { readonly type: 'log'; readonly id: number; readonly command: LogCommand };

export type ParentMessage = { readonly type: 'start'; readonly options: WorkerNodeOptions } | WorkerCommand;

/** One change of a member's state as a worker saw it; `at` is `Date.now()` in the worker. */
export interface Observation {
  readonly at: number;
  /** The observing node. */
  readonly observer: string;
  readonly member: string;
  /** null: the member was not known before. */
  readonly from: ObservedState | null;
  readonly to: ObservedState;
  /** 'event': a membership event (exact time); 'poll': the 10 ms members() poll saw it. */
  readonly source: 'event' | 'poll';
}

export type WorkerMessage =
  | {
      readonly type: 'ready';
      readonly nodeId: string;
      readonly address: string;
      /** Whether suspicions are seen as events (exact) or by polling only. */
      readonly suspectEvents: boolean;
    }
  | { readonly type: 'observation'; readonly observation: Observation }
  | { readonly type: 'reply'; readonly id: number; readonly result: WorkerResult }
  | { readonly type: 'error'; readonly id: number | null; readonly message: string };

export type WorkerResult =
  | LoadResult
  | StallReport
  | { readonly written: number }
  | TrafficCounters
  | StoreSnapshot
  | RebalanceSnapshot
  | LogResult
  | null;
