/**
 * How much a member wants a partition: the preference order of the partition
 * table. Like rendezvous (HRW) hashing, a score depends only on (member,
 * partition), so a joining member never reorders the others. Unlike plain HRW,
 * each member's scores over the partitions are a permutation (an affine map
 * `rank = (step * p + offset) mod partitionCount`), so no member is lucky or
 * unlucky across many partitions at once: the standard deviation of per-member
 * counts is 0.5-0.7x plain HRW's, which keeps the load cap in computeOwners from
 * binding often (see the "Partition table" section of docs/ARCHITECTURE.md).
 *
 *   score(member, p) = rank(member, p) * 2^32 + tiebreak(member, p)   (higher wins)
 */

/** The per-member constants of its scores, derived once from the member id's hash. */
export interface RendezvousKey {
  /** Multiplier of the permutation: in 1 .. partitionCount - 1 and coprime with partitionCount (1 when the count is 1 or 2). */
  readonly step: number;
  /** Offset of the permutation: in 0 .. partitionCount - 1. */
  readonly offset: number;
  /** Seed of the tiebreak among members with the same rank (the member hash itself). */
  readonly salt: number;
  /** Uniform in [0, 1): decides whether this member's load cap rounds up or down (see memberCaps). */
  readonly capShare: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Derives a member's permutation from its 32-bit id hash `h`:
 * `step = 1 + h mod (partitionCount - 1)`, bumped to the next value coprime with the
 * count (so the map is a bijection), `offset = floor(h / (partitionCount - 1)) mod partitionCount`.
 * Kept this simple on purpose so tests can compute it by hand.
 */
export function rendezvousKey(memberHash: number, partitionCount: number): RendezvousKey {
  const h = memberHash >>> 0;
  const capShare = rendezvousTiebreak(h, -1) / 0x1_0000_0000; // partition -1: independent of every real tiebreak
  if (partitionCount <= 2) return { step: 1, offset: h % partitionCount, salt: h, capShare };
  const span = partitionCount - 1;
  let step = 1 + (h % span);
  while (gcd(step, partitionCount) !== 1) step++; // ends by `span`: consecutive integers are coprime
  return { step, offset: Math.floor(h / span) % partitionCount, salt: h, capShare };
}

/**
 * Tiebreak between members with the same rank for `partition`: murmur3's
 * finaliser of `salt xor (partition + 1) * golden ratio`. A fixed per-member
 * tiebreak would let one member win every tie, and ties are common once
 * members outnumber partitions.
 */
export function rendezvousTiebreak(salt: number, partition: number): number {
  let x = (salt ^ Math.imul(partition + 1, 0x9e3779b1)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The rank part of a score: the member's permutation applied to `partition` (0 .. partitionCount - 1). */
export function rendezvousRank(key: RendezvousKey, partition: number, partitionCount: number): number {
  return (key.step * partition + key.offset) % partitionCount;
}

/**
 * The full score of `partition` for the member with `key`; higher is preferred.
 * Exact in a float64 because rank < 2^20 (MAX_PARTITION_COUNT) and the tiebreak < 2^32.
 * Equal scores (only from equal member hashes) are broken by member id in computeOwners.
 */
export function rendezvousScore(key: RendezvousKey, partition: number, partitionCount: number): number {
  return rendezvousRank(key, partition, partitionCount) * 0x1_0000_0000 + rendezvousTiebreak(key.salt, partition);
}
