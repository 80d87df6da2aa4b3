/**
 * Which member of a consumer group consumes which partition of a topic:
 * balanced (counts differ by at most one), deterministic (any node computes
 * the same from the same members, in any input order) and sticky (given the
 * previous assignment, the fewest partitions change hands, so a join or leave
 * interrupts as few consumers as possible, like Kafka's sticky assignor).
 *
 *   quotas:  P = 10, members a b c  →  base 3, one extra: 4 3 3
 *   extras go to the members that held the most before (fewest moves), ties by id;
 *   each member keeps up to its quota of what it held (lowest first); the rest is dealt
 *   round-robin in id order to members below quota.
 */
import { ShoalError } from '@shoal/protocol';

/** Partitions per member id (ascending), every member present, members in id order. */
export type PartitionAssignment = Map<string, number[]>;

/**
 * Assigns `partitionCount` partitions to `memberIds`, moving as few as possible from `previous`.
 * Entries of `previous` for members no longer present, out-of-range partitions and partitions claimed
 * twice (the member first in id order keeps it) are ignored. No members: an empty map.
 */
export function assignPartitions(
  memberIds: readonly string[],
  partitionCount: number,
  previous?: ReadonlyMap<string, readonly number[]>,
): PartitionAssignment {
  if (!Number.isSafeInteger(partitionCount) || partitionCount < 0) {
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', `partitionCount ${partitionCount} is not an integer ≥ 0`, {
      argument: 'partitionCount',
    });
  }
  for (const id of memberIds) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'member ids must be non-empty strings', { argument: 'memberIds' });
    }
  }
  const members = [...new Set(memberIds)].sort(compareIds);
  const assignment: PartitionAssignment = new Map(members.map((id) => [id, []]));
  if (members.length === 0) return assignment;

  const held = previouslyHeld(members, partitionCount, previous);
  const quotas = quotasFor(members, partitionCount, held);
  const taken = new Uint8Array(partitionCount);
  for (const id of members) {
    const kept = held.get(id)!.slice(0, quotas.get(id)!);
    for (const p of kept) taken[p] = 1;
    assignment.set(id, kept);
  }

  // Deal the rest round-robin over members below quota, in id order.
  let open = members.filter((id) => assignment.get(id)!.length < quotas.get(id)!);
  let turn = 0;
  for (let p = 0; p < partitionCount; p++) {
    if (taken[p] === 1) continue;
    if (turn >= open.length) turn = 0;
    const id = open[turn]!;
    const list = assignment.get(id)!;
    list.push(p);
    if (list.length >= quotas.get(id)!) open = open.filter((other) => other !== id);
    else turn++;
  }
  for (const list of assignment.values()) list.sort((a, b) => a - b);
  return assignment;
}

/** Owner of each partition under `assignment` (undefined for a partition nobody holds). */
export function partitionOwners(assignment: PartitionAssignment, partitionCount: number): (string | undefined)[] {
  const owners = new Array<string | undefined>(partitionCount).fill(undefined);
  for (const [id, partitions] of assignment) {
    for (const p of partitions) if (p >= 0 && p < partitionCount) owners[p] = id;
  }
  return owners;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Valid, distinct previous partitions per current member (ascending). */
function previouslyHeld(
  members: readonly string[],
  partitionCount: number,
  previous: ReadonlyMap<string, readonly number[]> | undefined,
): Map<string, number[]> {
  const claimed = new Uint8Array(partitionCount);
  const held = new Map<string, number[]>();
  for (const id of members) {
    const list: number[] = [];
    for (const p of [...(previous?.get(id) ?? [])].sort((a, b) => a - b)) {
      if (!Number.isSafeInteger(p) || p < 0 || p >= partitionCount || claimed[p] === 1) continue;
      claimed[p] = 1;
      list.push(p);
    }
    held.set(id, list);
  }
  return held;
}

/** floor(P/N) each, plus one for the P mod N members that held the most (fewest moves), ties by id. */
function quotasFor(
  members: readonly string[],
  partitionCount: number,
  held: Map<string, number[]>,
): Map<string, number> {
  const base = Math.floor(partitionCount / members.length);
  let extra = partitionCount % members.length;
  const byHeld = [...members].sort((a, b) => held.get(b)!.length - held.get(a)!.length || compareIds(a, b));
  const quotas = new Map<string, number>();
  for (const id of byHeld) quotas.set(id, base + (extra-- > 0 ? 1 : 0));
  return quotas;
}
