/**
 * Key → partition. Keys never map to nodes directly: they map to one of a fixed
 * number of partitions (`hash(key) mod partitionCount`), and partitions map to
 * nodes through the partition table. The count is fixed when the cluster is
 * created, so a membership change moves whole partitions and never rehashes keys.
 */
import { ShoalError } from '@shoal/protocol';
import type { HashFunction } from './hash.js';

/** Default number of partitions: a prime (so `mod` spreads even a patterned hash), fine up to ~30 nodes. */
export const DEFAULT_PARTITION_COUNT = 271;

/**
 * Largest accepted partition count. Placement scores pack `rank * 2^32 + tiebreak`
 * into a float64, which stays exact while the rank is below 2^21.
 */
export const MAX_PARTITION_COUNT = 1 << 20;

/** Throws SHOAL_ARGUMENT_INVALID unless `partitionCount` is an integer in 1 .. MAX_PARTITION_COUNT. */
export function checkPartitionCount(partitionCount: number, name = 'partitionCount'): void {
  if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > MAX_PARTITION_COUNT) {
    throw new ShoalError(
      'SHOAL_ARGUMENT_INVALID',
      `${name}: ${partitionCount} is not an integer in 1 .. ${MAX_PARTITION_COUNT}`,
      { [name]: partitionCount },
    );
  }
}

/**
 * Join-time check that a peer runs the same partition count: a different count
 * maps keys differently, so such a peer can never join (SHOAL_CLUSTER_INCOMPATIBLE).
 */
export function checkSamePartitionCount(local: number, remote: unknown): void {
  if (remote !== local) {
    throw new ShoalError(
      'SHOAL_CLUSTER_INCOMPATIBLE',
      `partitionCount: the peer uses ${String(remote)}, this cluster ${local}; it is fixed when a cluster is created`,
      { partitionCount: local, remotePartitionCount: remote },
    );
  }
}

/** Maps keys to partitions: `partitionOf(key) = hash(key) mod partitionCount`. */
export class Partitioner {
  /** Number of partitions, fixed for the cluster's life. */
  readonly partitionCount: number;
  private readonly hash: HashFunction;
  /** The key asked last and its partition (the hash is pure, so reusing it is exact). */
  private lastKey: string | undefined;
  private lastPartition = 0;

  /**
   * @param partitionCount number of partitions (1 .. MAX_PARTITION_COUNT); use the cluster's value, not a local choice.
   * @param hash the cluster's hash (production: `await createXxHash32()`).
   */
  constructor(partitionCount: number, hash: HashFunction) {
    checkPartitionCount(partitionCount);
    this.partitionCount = partitionCount;
    this.hash = hash;
  }

  /** The partition (0 .. partitionCount - 1) that owns `key`. On every request's path: one hash, one modulo. */
  partitionOf(key: string): number {
    // one request asks up to three times for the same key (client endpoint, routing, replicator): hash it once
    if (key === this.lastKey) return this.lastPartition;
    // `>>> 0` keeps the result non-negative even if an injected hash returns a signed int32.
    const partition = (this.hash(key) >>> 0) % this.partitionCount;
    this.lastKey = key;
    this.lastPartition = partition;
    return partition;
  }
}
