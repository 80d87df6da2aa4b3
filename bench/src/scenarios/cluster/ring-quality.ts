/**
 * Partition placement quality, by simulation: for each candidate algorithm and
 * cluster size, how evenly partition copies spread over the members (max/mean)
 * and what fraction of copies move when one member joins or leaves, against the
 * ideal 1/N. Shoal's computeOwners runs next to the classic alternatives
 * (ring-candidates.ts), on the same member ids and the same xxhash32.
 * Pure computation, no I/O: it runs in-process.
 */
import { computeOwners, createXxHash32, type HashFunction } from '@shoal/node';
import { type PlaceFn, rendezvousPlacement, ringPlacement } from './ring-candidates.js';

/** One measured (algorithm, nodes, partitions, replicas) point. */
export interface RingQualityRow {
  readonly algorithm: string;
  /** Cluster size N: joins go from N - 1 to N members, leaves from N to N - 1. */
  readonly nodes: number;
  readonly partitions: number;
  readonly replicas: number;
  /** Most copies on one member over the mean copies per member; the worst over the trials. */
  readonly maxOverMean: number;
  /** The same for primaries (write coordinators); the worst over the trials. */
  readonly primaryMaxOverMean: number;
  /** Fraction of all partition copies that land on a member that did not hold them, when the N-th member joins (mean over trials). */
  readonly movedJoin: number;
  /** The same when one of N members leaves (mean over trials). */
  readonly movedLeave: number;
  /** The least any algorithm must move: the joiner's or leaver's fair share, 1 / N. */
  readonly idealMove: number;
  /** movedJoin / idealMove (1.0 is optimal). */
  readonly movedRatioJoin: number;
  /** movedLeave / idealMove. */
  readonly movedRatioLeave: number;
  /** Median time to compute one full table of N members, in ms. */
  readonly computeMs: number;
}

/** Options of measureRingQuality. */
export interface RingQualityOptions {
  /** Smoke run (~2 s): 3, 10 and 100 members, 4096 partitions, 2 replicas, 2 trials. */
  readonly quick: boolean;
}

interface Candidate {
  readonly name: string;
  readonly place: PlaceFn;
}

interface Point {
  readonly nodes: number;
  readonly partitions: number;
  readonly replicas: number;
}

/** Cap factor of the bounded-load candidates: the loosest that meets max/mean <= 1.10. */
const BOUNDED_CAP_FACTOR = 1.1;

function candidates(hash: HashFunction): Candidate[] {
  return [
    { name: 'ring-v64', place: ringPlacement(hash, 64) },
    { name: 'ring-v256', place: ringPlacement(hash, 256) },
    { name: 'rendezvous', place: rendezvousPlacement(hash) },
    { name: 'bounded-ring-v64-1.10', place: ringPlacement(hash, 64, BOUNDED_CAP_FACTOR) },
    { name: 'bounded-rendezvous-1.10', place: rendezvousPlacement(hash, BOUNDED_CAP_FACTOR) },
    {
      // computeOwners with the cap lifted: what the permuted scores alone achieve.
      name: 'permuted-rendezvous',
      place: (members, partitions, replicas) =>
        computeOwners({ members, partitionCount: partitions, replicas, hash, capacity: partitions }),
    },
    {
      name: 'shoal',
      place: (members, partitions, replicas) => computeOwners({ members, partitionCount: partitions, replicas, hash }),
    },
  ];
}

function points(quick: boolean): Point[] {
  if (quick) return [3, 10, 100].map((nodes) => ({ nodes, partitions: 4096, replicas: 2 }));
  const out: Point[] = [];
  for (const partitions of [271, 4096]) {
    for (const nodes of [3, 10, 100, 1000]) out.push({ nodes, partitions, replicas: 2 });
  }
  for (const replicas of [1, 3]) for (const nodes of [100, 1000]) out.push({ nodes, partitions: 4096, replicas });
  return out;
}

/** Member ids of trial `trial`: distinct sets per trial, so trials are independent clusters. */
function memberIds(count: number, trial: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.${trial}.${i >> 8}.${i & 255}:7400`);
}

function copyCounts(owners: readonly (readonly string[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of owners) for (const id of row) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

function maxOverMean(owners: readonly (readonly string[])[], nodes: number): number {
  const counts = [...copyCounts(owners).values()];
  const total = counts.reduce((a, b) => a + b, 0);
  return Math.max(...counts) / (total / nodes);
}

/** Copies of `next` on a member that did not hold them in `old`, over all copies of `next`. */
function movedFraction(old: readonly (readonly string[])[], next: readonly (readonly string[])[]): number {
  let moved = 0;
  let total = 0;
  next.forEach((row, p) => {
    for (const id of row) if (!old[p]!.includes(id)) moved++;
    total += row.length;
  });
  return moved / total;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Independent clusters per point. At 1000 members one join moves ~8 copies, so more trials steady the mean. */
function trialsFor(quick: boolean, nodes: number): number {
  if (quick) return 2;
  return nodes >= 1000 ? 16 : 12;
}

function measurePoint(candidate: Candidate, point: Point, trials: number): RingQualityRow {
  const { nodes, partitions, replicas } = point;
  let worst = 0;
  let worstPrimary = 0;
  let join = 0;
  let leave = 0;
  const times: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const ids = memberIds(nodes, trial);
    const start = performance.now();
    const full = candidate.place(ids, partitions, replicas);
    times.push(performance.now() - start);
    worst = Math.max(worst, maxOverMean(full, nodes));
    worstPrimary = Math.max(
      worstPrimary,
      maxOverMean(
        full.map((row) => row.slice(0, 1)),
        nodes,
      ),
    );
    // Join: the N-th member (the last id) arrives. Leave: another member departs.
    join += movedFraction(candidate.place(ids.slice(0, -1), partitions, replicas), full);
    const leaver = (trial * 7919 + 13) % (nodes - 1);
    leave += movedFraction(
      full,
      candidate.place(
        ids.filter((_, i) => i !== leaver),
        partitions,
        replicas,
      ),
    );
  }
  const idealMove = 1 / nodes;
  const movedJoin = join / trials;
  const movedLeave = leave / trials;
  return {
    algorithm: candidate.name,
    nodes,
    partitions,
    replicas,
    maxOverMean: worst,
    primaryMaxOverMean: worstPrimary,
    movedJoin,
    movedLeave,
    idealMove,
    movedRatioJoin: movedJoin / idealMove,
    movedRatioLeave: movedLeave / idealMove,
    computeMs: median(times),
  };
}

/**
 * Measures every candidate at 3, 10, 100 and 1000 members (271 and 4096 partitions,
 * 2 replicas; 1 and 3 replicas at 100 and 1000 members with 4096 partitions), or the
 * quick subset. Rows are ordered by point, then candidate.
 */
export async function measureRingQuality(opts: RingQualityOptions): Promise<{ rows: RingQualityRow[] }> {
  const hash = await createXxHash32();
  const all = candidates(hash);
  const rows: RingQualityRow[] = [];
  for (const point of points(opts.quick)) {
    for (const candidate of all) rows.push(measurePoint(candidate, point, trialsFor(opts.quick, point.nodes)));
  }
  return { rows };
}
