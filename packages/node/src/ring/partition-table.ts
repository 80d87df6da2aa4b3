/**
 * The partition table: for one membership version, every partition's ordered
 * owners ([primary, replica1, ...]). Immutable; a membership change produces a
 * new table with a higher version, and diffTables tells the rebalancer what to
 * stream. Nodes compute it themselves (PartitionTable.compute); the wire form
 * (members once, owners as indexes) serves clients and cross-checks, and is
 * validated on receipt because a malformed table would misroute every request.
 *
 *   wire = [version, partitionCount, replicas, members[], ownerIndexes[]]
 *   ownerIndexes = row p at [p * w, (p + 1) * w), w = min(replicas, members.length)
 */
import { type ErrorCode, ShoalError } from '@shoal/protocol';
import { computeOwners, MAX_REPLICAS } from './compute-owners.js';
import type { HashFunction } from './hash.js';
import { checkSamePartitionCount, MAX_PARTITION_COUNT } from './partitioner.js';

/** What a member is for one partition. */
export type PartitionRole = 'primary' | 'replica';

/** One partition a member holds a copy of. */
export interface OwnedPartition {
  readonly partition: number;
  readonly role: PartitionRole;
  /** Position in the owner list: 0 = primary, 1 = first replica, ... */
  readonly rank: number;
}

/** Compact, msgpack-friendly form of a table: plain arrays and small integers. */
export type PartitionTableWire = [
  version: number,
  partitionCount: number,
  replicas: number,
  members: string[],
  ownerIndexes: number[],
];

/** Fields of a table; `members` is the membership the owners were computed from. */
export interface PartitionTableInit {
  /** Membership version this table was computed for (monotonic, from membership). */
  readonly version: number;
  readonly partitionCount: number;
  /** Wanted copies per partition; rows hold min(replicas, members.length). */
  readonly replicas: number;
  /** Member ids, any order, no duplicates. */
  readonly members: readonly string[];
  /** Per partition, distinct member ids, primary first. */
  readonly owners: readonly (readonly string[])[];
}

/** Input of PartitionTable.compute. */
export interface ComputeTableInput {
  readonly version: number;
  readonly members: readonly string[];
  readonly partitionCount: number;
  readonly replicas: number;
  readonly hash: HashFunction;
}

/** What a received table must match. */
export interface TableExpectation {
  /** The cluster's partition count; a mismatch is SHOAL_CLUSTER_INCOMPATIBLE. */
  readonly partitionCount?: number;
}

function fail(code: ErrorCode, message: string): never {
  throw new ShoalError(code, `partition table: ${message}`);
}

function isCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

/** Checks everything but the owner rows; returns the row width. */
function checkHeader(init: PartitionTableInit, code: ErrorCode): number {
  const { version, partitionCount, replicas, members } = init;
  if (!(typeof version === 'number' && Number.isSafeInteger(version) && version >= 0)) {
    fail(code, `version ${String(version)} is not a non-negative integer`);
  }
  if (!isCount(partitionCount, MAX_PARTITION_COUNT)) fail(code, `partitionCount ${String(partitionCount)} is invalid`);
  if (!isCount(replicas, MAX_REPLICAS)) fail(code, `replicas ${String(replicas)} is invalid`);
  if (!Array.isArray(members)) fail(code, 'members is not an array');
  const seen = new Set<string>();
  for (const id of members) {
    if (typeof id !== 'string' || id.length === 0) fail(code, `member ${JSON.stringify(id)} is not a non-empty string`);
    if (seen.has(id)) fail(code, `member ${id} is listed twice`);
    seen.add(id);
  }
  return Math.min(replicas, members.length);
}

/** Checks one owner row: `width` distinct members of the table. */
function checkRow(row: unknown, p: number, width: number, members: ReadonlySet<string>, code: ErrorCode): void {
  if (!Array.isArray(row) || row.length !== width) {
    fail(code, `partition ${p} has ${Array.isArray(row) ? row.length : 'no'} owners, expected ${width}`);
  }
  for (let j = 0; j < width; j++) {
    if (!members.has(row[j])) fail(code, `partition ${p} names ${JSON.stringify(row[j])}, not a member`);
    for (let i = 0; i < j; i++) if (row[i] === row[j]) fail(code, `partition ${p} lists ${row[j]} twice`);
  }
}

/** Validates a whole table; throws `code` naming the first problem. */
function checkInit(init: PartitionTableInit, code: ErrorCode): void {
  const width = checkHeader(init, code);
  if (!Array.isArray(init.owners) || init.owners.length !== init.partitionCount) {
    fail(code, `owners must list ${init.partitionCount} partitions`);
  }
  const members = new Set(init.members);
  init.owners.forEach((row, p) => {
    checkRow(row, p, width, members, code);
  });
}

/** An immutable partition table for one membership version. */
export class PartitionTable {
  /** Membership version the table was computed for. */
  readonly version: number;
  readonly partitionCount: number;
  /** Wanted copies per partition (rows are shorter when there are fewer members). */
  readonly replicas: number;
  /** Member ids the table was computed from, sorted (code-unit order). */
  readonly members: readonly string[];
  /** Per partition, its distinct owners, primary first. Frozen. */
  readonly owners: readonly (readonly string[])[];
  private ownedIndex: Map<string, readonly OwnedPartition[]> | undefined; // built on first partitionsOwnedBy

  /** Builds a table from its fields, validating them (SHOAL_ARGUMENT_INVALID); prefer `compute` or `fromWire`. */
  constructor(init: PartitionTableInit) {
    checkInit(init, 'SHOAL_ARGUMENT_INVALID');
    this.version = init.version;
    this.partitionCount = init.partitionCount;
    this.replicas = init.replicas;
    this.members = Object.freeze([...init.members].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    this.owners = Object.freeze(init.owners.map((row) => Object.freeze([...row])));
  }

  /** The table every node computes for this membership (see computeOwners). */
  static compute(input: ComputeTableInput): PartitionTable {
    const members = [...new Set(input.members)];
    const owners = computeOwners({ ...input, members });
    return new PartitionTable({ ...input, members, owners });
  }

  /**
   * Decodes and validates a received table: shape, counts, every row of
   * min(replicas, members) distinct members. Malformed input throws
   * SHOAL_PROTOCOL_INVALID; a different partition count than `expect` throws
   * SHOAL_CLUSTER_INCOMPATIBLE.
   */
  static fromWire(wire: unknown, expect: TableExpectation = {}): PartitionTable {
    const code: ErrorCode = 'SHOAL_PROTOCOL_INVALID';
    if (!Array.isArray(wire) || wire.length !== 5)
      fail(code, 'expected [version, partitionCount, replicas, members, owners]');
    const [version, partitionCount, replicas, members, indexes] = wire as unknown[];
    if (expect.partitionCount !== undefined) checkSamePartitionCount(expect.partitionCount, partitionCount);
    const header = { version, partitionCount, replicas, members, owners: [] } as unknown as PartitionTableInit;
    const width = checkHeader(header, code);
    const ids = members as string[];
    const P = partitionCount as number;
    if (!Array.isArray(indexes) || indexes.length !== P * width) fail(code, `owners must hold ${P * width} indexes`);
    const owners: string[][] = new Array(P);
    for (let p = 0; p < P; p++) {
      const row: string[] = new Array(width);
      for (let j = 0; j < width; j++) {
        const index: unknown = indexes[p * width + j];
        if (!(typeof index === 'number' && Number.isInteger(index) && index >= 0 && index < ids.length)) {
          fail(code, `partition ${p} has owner index ${String(index)}, not a member`);
        }
        row[j] = ids[index]!;
      }
      owners[p] = row;
    }
    const init = { version: version as number, partitionCount: P, replicas: replicas as number, members: ids, owners };
    checkInit(init, code); // rows: distinct owners (the constructor would report SHOAL_ARGUMENT_INVALID)
    return new PartitionTable(init);
  }

  /** The compact wire form (members once, owners as indexes into them). */
  toWire(): PartitionTableWire {
    const index = new Map(this.members.map((id, i) => [id, i]));
    const indexes: number[] = [];
    for (const row of this.owners) for (const id of row) indexes.push(index.get(id)!);
    return [this.version, this.partitionCount, this.replicas, [...this.members], indexes];
  }

  /** The primary of `partition` (0 .. partitionCount - 1); undefined when the table has no members. */
  primaryOf(partition: number): string | undefined {
    return this.owners[partition]?.[0];
  }

  /** The owners of `partition`, primary first (empty when the table has no members). */
  ownersOf(partition: number): readonly string[] {
    const row = this.owners[partition];
    if (row === undefined) {
      throw new ShoalError(
        'SHOAL_ARGUMENT_INVALID',
        `partition ${partition} is not in 0 .. ${this.partitionCount - 1}`,
      );
    }
    return row;
  }

  /** Every partition `nodeId` holds a copy of, ascending, with its role; empty for a non-member. */
  partitionsOwnedBy(nodeId: string): readonly OwnedPartition[] {
    this.ownedIndex ??= this.buildOwnedIndex();
    return this.ownedIndex.get(nodeId) ?? [];
  }

  private buildOwnedIndex(): Map<string, readonly OwnedPartition[]> {
    const index = new Map<string, OwnedPartition[]>(this.members.map((id) => [id, []]));
    this.owners.forEach((row, partition) => {
      row.forEach((id, rank) => {
        index.get(id)!.push({ partition, role: rank === 0 ? 'primary' : 'replica', rank });
      });
    });
    return index;
  }
}
