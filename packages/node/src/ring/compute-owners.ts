/**
 * Partition → ordered owners ([primary, replica1, ...]), computed by every node
 * from the member list alone, so all nodes agree without a coordinator.
 *
 * Rendezvous hashing with bounded loads: every partition ranks members by
 * rendezvousScore, every member holds at most a cap of copies slightly above
 * the mean, and the copies go to the unique stable assignment (bounded-matching.ts).
 * Primaries are then balanced among each partition's owners (balance-primaries.ts).
 * docs/ARCHITECTURE.md "Partition table" compares this with rings and plain HRW.
 */
import { ShoalError } from '@shoal/protocol';
import { balancePrimaries } from './balance-primaries.js';
import { BoundedMatching } from './bounded-matching.js';
import type { HashFunction } from './hash.js';
import { checkPartitionCount } from './partitioner.js';
import { rendezvousKey } from './rendezvous-score.js';

/** Most replicas a partition may have (primary included). */
export const MAX_REPLICAS = 16;

/**
 * Slack of the load cap above the mean, per sqrt(mean): `capacity = mean + 0.6 * sqrt(mean) + 2`.
 * A member's uncapped count has a standard deviation of 0.5-0.7 * sqrt(mean) with
 * rendezvousScore, so few members reach the cap and displacement chains stay short;
 * the +2 (LOAD_SLACK_COPIES) covers integer effects when members hold ~10 copies or fewer.
 * At 100 members x 4096 partitions x 2 replicas the cap is 90 copies: max/mean 1.099.
 */
export const LOAD_SLACK_SQRT = 0.6;
/** Constant part of the load cap's slack, in copies (see LOAD_SLACK_SQRT). */
export const LOAD_SLACK_COPIES = 2;

/** Input of computeOwners. Every node must pass the same values to get the same table. */
export interface ComputeOwnersInput {
  /** Member ids, in any order; duplicates are ignored. */
  readonly members: readonly string[];
  /** Number of partitions (the cluster's fixed value). */
  readonly partitionCount: number;
  /** Wanted copies per partition, primary included (1 .. MAX_REPLICAS); capped by the member count. */
  readonly replicas: number;
  /** The cluster's hash (production: xxhash32, see createXxHash32). */
  readonly hash: HashFunction;
  /**
   * Overrides the average copy capacity per member (capacityPerMember); simulation and
   * tests only, and every node must use the same value. Primaries keep their default cap.
   */
  readonly capacity?: number;
}

/**
 * Average copies a member may hold: `mean + LOAD_SLACK_SQRT * sqrt(mean) + LOAD_SLACK_COPIES`
 * with `mean = partitionCount * min(replicas, members) / members`; 0 without members.
 * Each member's cap is this rounded up or down (memberCaps), so no member exceeds its ceiling.
 */
export function capacityPerMember(partitionCount: number, replicas: number, memberCount: number): number {
  if (memberCount === 0) return 0;
  const mean = (partitionCount * Math.min(replicas, memberCount)) / memberCount;
  return mean + LOAD_SLACK_SQRT * Math.sqrt(mean) + LOAD_SLACK_COPIES;
}

/**
 * Integer cap of each member: `floor(capacity + share)` with `share` uniform in [0, 1)
 * (RendezvousKey.capShare), clamped to 1 .. partitionCount. Rounding per member rather
 * than one cap for all makes total capacity follow the member count smoothly: a join
 * or leave changes a few members' caps instead of stepping every cap at once (a shared
 * cap going from 7 to 8 reshuffles every full member: 2.5x the ideal movement).
 */
export function memberCaps(capacity: number, shares: ArrayLike<number>, partitionCount: number): Int32Array {
  const caps = new Int32Array(shares.length);
  for (let i = 0; i < shares.length; i++) {
    caps[i] = Math.min(partitionCount, Math.max(1, Math.floor(capacity + shares[i]!)));
  }
  return caps;
}

/** Sorted, duplicate-free ids. Code-unit order, not localeCompare: it must not depend on the host's locale. */
function sortedMembers(members: readonly string[]): string[] {
  const ids = [...new Set(members)];
  for (const id of ids) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `members: ${JSON.stringify(id)} is not a non-empty string`);
    }
  }
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function checkInput(input: ComputeOwnersInput): void {
  checkPartitionCount(input.partitionCount);
  const { replicas, capacity } = input;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', `replicas: ${replicas} is not an integer in 1 .. ${MAX_REPLICAS}`, {
      replicas,
    });
  }
  if (capacity !== undefined && !(capacity > 0 && Number.isFinite(capacity))) {
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', `capacity: ${capacity} is not a positive number`, { capacity });
  }
}

/**
 * Computes every partition's ordered owners: `owners[p]` lists min(replicas, members)
 * distinct member ids, primary first, then the replicas by descending score. A pure
 * function of (set of members, partitionCount, replicas, hash): member order and
 * duplicates do not matter. With fewer members than replicas every partition lists
 * all members. 1000 members x 4096 partitions take about 0.1 s.
 */
export function computeOwners(input: ComputeOwnersInput): string[][] {
  checkInput(input);
  const ids = sortedMembers(input.members);
  const { partitionCount: P } = input;
  const n = ids.length;
  const k = Math.min(input.replicas, n);
  if (k === 0) return Array.from({ length: P }, () => []);
  const keys = ids.map((id) => rendezvousKey(input.hash(id), P));
  const shares = keys.map((key) => key.capShare);
  const copyCaps = memberCaps(input.capacity ?? capacityPerMember(P, k, n), shares, P);
  const slots = new BoundedMatching(keys, P, k, copyCaps).run();
  balancePrimaries(slots, P, memberCaps(capacityPerMember(P, 1, n), shares, P));
  const owners: string[][] = new Array(P);
  for (let p = 0; p < P; p++) {
    const row: string[] = new Array(k);
    for (let j = 0; j < k; j++) row[j] = ids[slots.member[p * k + j]!]!;
    owners[p] = row;
  }
  return owners;
}
