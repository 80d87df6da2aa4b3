/**
 * The partition placement algorithms the ring-quality simulation compares with
 * Shoal's computeOwners: a classic consistent-hash ring with virtual nodes,
 * plain rendezvous (HRW) hashing, and consistent hashing with bounded loads
 * (Mirrokni, Thorup and Zadimoghaddam 2018) in ring and rendezvous order. Each
 * is a pure function (members, partitions, replicas) → owners, like computeOwners,
 * written for clarity first and speed second (1000 members x 4096 partitions).
 */
import type { HashFunction } from '@shoal/node';

/** members (any order) → per partition, `min(replicas, members)` distinct owners, primary first. */
export type PlaceFn = (members: readonly string[], partitions: number, replicas: number) => string[][];

/** murmur3's 32-bit finaliser: turns (member hash xor partition salt) into an HRW score. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function sorted(members: readonly string[]): string[] {
  return [...new Set(members)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The ring: every member's `virtualNodes` points, sorted, as (point, member index) pairs. */
function buildRing(ids: readonly string[], virtualNodes: number, hash: HashFunction): { points: Float64Array } {
  // One float64 per point: hash * 2^20 + member index, so a numeric sort orders by point and then member.
  const points = new Float64Array(ids.length * virtualNodes);
  ids.forEach((id, i) => {
    for (let v = 0; v < virtualNodes; v++) points[i * virtualNodes + v] = hash(`${id}#${v}`) * 0x100000 + i;
  });
  points.sort();
  return { points };
}

/** First point at or after `position` (wrapping). */
function ringStart(points: Float64Array, position: number): number {
  let lo = 0;
  let hi = points.length;
  const key = position * 0x100000;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo === points.length ? 0 : lo;
}

/**
 * Classic ring: partition p sits at hash(`partition:p`); its owners are the next distinct
 * members clockwise. With `capFactor`, a member already holding `cap` copies is skipped
 * (bounded loads in ring order; partitions placed in index order, as Mirrokni et al.).
 */
export function ringPlacement(hash: HashFunction, virtualNodes: number, capFactor?: number): PlaceFn {
  return (members, partitions, replicas) => {
    const ids = sorted(members);
    const k = Math.min(replicas, ids.length);
    const { points } = buildRing(ids, virtualNodes, hash);
    const cap = capFactor === undefined ? Number.POSITIVE_INFINITY : boundedCap(partitions, k, ids.length, capFactor);
    const load = new Int32Array(ids.length);
    const owners: string[][] = [];
    for (let p = 0; p < partitions; p++) {
      const row: number[] = [];
      const start = ringStart(points, hash(`partition:${p}`));
      // Second lap without the cap: only when every member with room already holds p.
      for (const limit of [cap, Number.POSITIVE_INFINITY]) {
        for (let steps = 0, at = start; row.length < k && steps < points.length; steps++) {
          const member = points[at]! % 0x100000;
          if (!row.includes(member) && load[member]! < limit) row.push(member);
          at = at + 1 === points.length ? 0 : at + 1;
        }
      }
      for (const member of row) load[member]!++;
      owners.push(row.map((member) => ids[member]!));
    }
    return owners;
  };
}

/** Bounded-load cap used by the candidates: `max(ceil(mean), floor(capFactor * mean))`. */
export function boundedCap(partitions: number, replicas: number, members: number, capFactor: number): number {
  const mean = (partitions * replicas) / members;
  return Math.max(Math.ceil(mean), Math.floor(capFactor * mean));
}

/**
 * Rendezvous (HRW): partition p's owners are the members with the highest
 * `mix32(hash(member) xor salt(p))`. With `capFactor`, full members are skipped
 * (bounded loads in rendezvous order, partitions placed in index order).
 */
export function rendezvousPlacement(hash: HashFunction, capFactor?: number): PlaceFn {
  return (members, partitions, replicas) => {
    const ids = sorted(members);
    const n = ids.length;
    const k = Math.min(replicas, n);
    const memberHash = Uint32Array.from(ids, (id) => hash(id));
    const cap = capFactor === undefined ? Number.POSITIVE_INFINITY : boundedCap(partitions, k, n, capFactor);
    const load = new Int32Array(n);
    const owners: string[][] = [];
    const bestScore = new Float64Array(k);
    const bestMember = new Int32Array(k);
    for (let p = 0; p < partitions; p++) {
      const salt = mix32(Math.imul(p + 1, 0x9e3779b1));
      let count = 0;
      // Full members are skipped; if that leaves fewer than k, the pass repeats without the cap.
      for (let pass = 0; pass < 2 && count < k; pass++) {
        count = 0;
        for (let i = 0; i < n; i++) {
          if (pass === 0 && load[i]! >= cap) continue;
          const score = mix32(memberHash[i]! ^ salt);
          if (count === k && score <= bestScore[k - 1]!) continue;
          let j = count === k ? k - 1 : count++;
          while (j > 0 && bestScore[j - 1]! < score) {
            bestScore[j] = bestScore[j - 1]!;
            bestMember[j] = bestMember[j - 1]!;
            j--;
          }
          bestScore[j] = score;
          bestMember[j] = i;
        }
      }
      const row: string[] = [];
      for (let j = 0; j < count; j++) {
        load[bestMember[j]!]!++;
        row.push(ids[bestMember[j]!]!);
      }
      owners.push(row);
    }
    return owners;
  };
}
