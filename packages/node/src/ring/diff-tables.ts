/**
 * What changes between two partition tables, partition by partition: the
 * members that gain a copy (the rebalancer streams the partition to them from
 * a previous owner), the members that lose one (they drop it once the new
 * owners confirm), and primary handoffs that move no data.
 */
import { ShoalError } from '@shoal/protocol';
import type { PartitionTable } from './partition-table.js';

/** The change of one partition between two tables. */
export interface PartitionChange {
  readonly partition: number;
  /** Owners in the old table, primary first (empty when there was no old table). */
  readonly before: readonly string[];
  /** Owners in the new table, primary first. */
  readonly after: readonly string[];
  /** Members that hold a copy in `after` but not in `before`: they must receive the data. */
  readonly gained: readonly string[];
  /** Members that hold a copy in `before` but not in `after`: they may drop it after the handoff. */
  readonly lost: readonly string[];
  /** True when the primary differs (with or without a copy moving). */
  readonly primaryChanged: boolean;
}

/**
 * Lists every partition whose owner set or primary differs between `old` and `next`,
 * ascending by partition. Replica reordering alone is not a change. `old` undefined
 * means "no table yet": every copy of `next` is gained.
 * Throws SHOAL_ARGUMENT_INVALID when the partition counts differ.
 */
export function diffTables(old: PartitionTable | undefined, next: PartitionTable): PartitionChange[] {
  if (old !== undefined && old.partitionCount !== next.partitionCount) {
    throw new ShoalError(
      'SHOAL_ARGUMENT_INVALID',
      `diffTables: partition counts differ (${old.partitionCount} and ${next.partitionCount})`,
    );
  }
  const changes: PartitionChange[] = [];
  for (let partition = 0; partition < next.partitionCount; partition++) {
    const before = old?.owners[partition] ?? [];
    const after = next.owners[partition]!;
    // Rows hold a handful of ids: includes() beats building sets.
    const gained = after.filter((id) => !before.includes(id));
    const lost = before.filter((id) => !after.includes(id));
    const primaryChanged = before[0] !== after[0];
    if (gained.length > 0 || lost.length > 0 || primaryChanged) {
      changes.push({ partition, before, after, gained, lost, primaryChanged });
    }
  }
  return changes;
}
