/**
 * The ring: key → partition (Partitioner) and partition → ordered owners
 * (computeOwners, PartitionTable), plus what changes between two tables
 * (diffTables). Pure functions of the member list, the partition count, the
 * replica count and the injected hash, so every node computes the same table.
 */
export {
  type ComputeOwnersInput,
  capacityPerMember,
  computeOwners,
  LOAD_SLACK_COPIES,
  LOAD_SLACK_SQRT,
  MAX_REPLICAS,
  memberCaps,
} from './compute-owners.js';
export { diffTables, type PartitionChange } from './diff-tables.js';
export { createXxHash32, type HashFunction, XXHASH32_SEED } from './hash.js';
export {
  type ComputeTableInput,
  type OwnedPartition,
  type PartitionRole,
  PartitionTable,
  type PartitionTableInit,
  type PartitionTableWire,
  type TableExpectation,
} from './partition-table.js';
export {
  checkPartitionCount,
  checkSamePartitionCount,
  DEFAULT_PARTITION_COUNT,
  MAX_PARTITION_COUNT,
  Partitioner,
} from './partitioner.js';
export { type RendezvousKey, rendezvousKey, rendezvousScore } from './rendezvous-score.js';
