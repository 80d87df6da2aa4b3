/**
 * What replication needs to know about the cluster, as one narrow interface:
 * where a key lives and how to reach a node. The node implements it from the
 * ring and membership; tests implement it by hand.
 */

/** The current partition table as seen by this node. */
export interface ClusterView {
  /** This node's id. */
  readonly selfId: string;
  /** Partition of a key. */
  partitionOf(key: string): number;
  /** Owners of a partition, primary first (node ids). */
  ownersOf(partition: number): readonly string[];
  /** Owners of a partition in the table before the last change (for migration and stale reads). */
  previousOwnersOf(partition: number): readonly string[];
  /** Address ('host:port') of a member, if known and not dead. */
  addressOf(nodeId: string): string | undefined;
  /** Version of the table in force. */
  readonly tableVersion: number;
  /** True while this node is still receiving the partition's data after becoming an owner. */
  isSyncing(partition: number): boolean;
  /** Nodes that held a syncing partition before this node gained it (where its keys are read from meanwhile). */
  syncSourcesOf(partition: number): readonly string[];
  /** Number of alive members this node sees (for minClusterSize). */
  readonly aliveCount: number;
}
