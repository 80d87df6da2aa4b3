/**
 * Places `replicas` copies of every partition on distinct members, each member
 * holding at most its cap: the stable assignment in which no partition and
 * member both prefer each other over one of their current matches. Computed by
 * partition-proposing deferred acceptance (Gale-Shapley with capacities). Both
 * sides rank pairs by the same rendezvousScore, so the stable assignment is
 * unique: the result does not depend on processing order, and a membership
 * change only moves copies along short chains of displaced partitions.
 */
import { MemberHeaps, OFFER_ACCEPTED, OFFER_REJECTED } from './member-heaps.js';
import { type RendezvousKey, rendezvousScore, rendezvousTiebreak } from './rendezvous-score.js';

/** Every partition's owners: slots [p * replicas, (p + 1) * replicas), best score first. */
export interface OwnerSlots {
  /** Copies per partition (the row width). */
  readonly replicas: number;
  /** Member index per slot. */
  readonly member: Int32Array;
  /** rendezvousScore of (member, partition) per slot; descending within a partition. */
  readonly score: Float64Array;
}

/** Candidates kept per partition from one scan of all members; a rescan happens only after that many rejections. */
const EXTRA_CANDIDATES = 4;

/** Deferred-acceptance state in typed arrays: O(members + partitions * replicas) memory. */
export class BoundedMatching {
  private readonly n: number;
  private readonly steps: Int32Array;
  private readonly offsets: Int32Array;
  private readonly salts: Uint32Array;
  private readonly width: number; // candidates per partition row
  private readonly candMember: Int32Array; // per partition: next candidates, score desc then member asc
  private readonly candScore: Float64Array;
  private readonly candCount: Int32Array;
  private readonly candNext: Int32Array;
  private readonly need: Int32Array; // copies the partition still lacks
  private readonly heaps: MemberHeaps;
  private readonly overflow: Array<{ partition: number; member: number; score: number }> = [];

  /**
   * @param keys each member's rendezvous key, index = member (sorted id order).
   * @param replicas copies per partition, at most keys.length.
   * @param caps most copies per member; their sum should reach partitionCount * replicas.
   */
  constructor(
    keys: readonly RendezvousKey[],
    private readonly partitionCount: number,
    private readonly replicas: number,
    caps: ArrayLike<number>,
  ) {
    const n = keys.length;
    this.n = n;
    this.steps = Int32Array.from(keys, (key) => key.step);
    this.offsets = Int32Array.from(keys, (key) => key.offset);
    this.salts = Uint32Array.from(keys, (key) => key.salt);
    this.width = Math.min(n, replicas + EXTRA_CANDIDATES);
    this.candMember = new Int32Array(partitionCount * this.width);
    this.candScore = new Float64Array(partitionCount * this.width);
    this.candCount = new Int32Array(partitionCount);
    this.candNext = new Int32Array(partitionCount);
    this.need = new Int32Array(partitionCount).fill(replicas);
    this.heaps = new MemberHeaps(caps);
  }

  /** Runs the matching and returns every partition's owners. */
  run(): OwnerSlots {
    this.scanAll();
    const P = this.partitionCount;
    const stack = new Int32Array(P); // partitions lacking copies, each at most once
    let top = 0;
    for (let p = P - 1; p >= 0; p--) stack[top++] = p;
    const exhausted = new Uint8Array(P);
    while (top > 0) {
      const p = stack[--top]!;
      while (this.need[p]! > 0) {
        const slot = this.nextCandidate(p);
        if (slot < 0) {
          exhausted[p] = 1;
          break;
        }
        const result = this.heaps.offer(this.candMember[slot]!, p, this.candScore[slot]!);
        if (result === OFFER_REJECTED) continue;
        this.need[p]!--;
        // A displaced partition that was complete goes back on the stack; one already there stays once.
        if (result !== OFFER_ACCEPTED && this.need[result]!++ === 0) stack[top++] = result;
      }
    }
    for (let p = 0; p < P; p++) if (exhausted[p] === 1 && this.need[p]! > 0) this.placeOverCap(p);
    return this.collect();
  }

  private key(i: number): RendezvousKey {
    return { step: this.steps[i]!, offset: this.offsets[i]!, salt: this.salts[i]!, capShare: 0 };
  }

  /** One pass over partitions x members; each rank advances by its step per partition, so no modulo per pair. */
  private scanAll(): void {
    const { n, partitionCount: P, width, steps, salts } = this;
    const rank = Int32Array.from(this.offsets);
    for (let p = 0; p < P; p++) {
      const base = p * width;
      let count = 0;
      for (let i = 0; i < n; i++) {
        const r = rank[i]!;
        count = this.insertCandidate(base, count, i, r * 0x1_0000_0000 + rendezvousTiebreak(salts[i]!, p));
        const next = r + steps[i]!;
        rank[i] = next >= P ? next - P : next;
      }
      this.candCount[p] = count;
    }
  }

  /** Adds (member, score) to a partition's sorted candidate row if among the best `width`; returns the row length. */
  private insertCandidate(base: number, count: number, member: number, score: number): number {
    const { width, candScore, candMember } = this;
    // Members arrive in index order and comparisons are strict, so on equal scores the lower index stays ahead.
    if (count === width && score <= candScore[base + width - 1]!) return count;
    let j = count === width ? width - 1 : count;
    while (j > 0 && candScore[base + j - 1]! < score) {
      candScore[base + j] = candScore[base + j - 1]!;
      candMember[base + j] = candMember[base + j - 1]!;
      j--;
    }
    candScore[base + j] = score;
    candMember[base + j] = member;
    return count === width ? width : count + 1;
  }

  /** Slot of the partition's next candidate, or -1 when every member has been tried. */
  private nextCandidate(p: number): number {
    const base = p * this.width;
    if (this.candNext[p]! < this.candCount[p]!) return base + this.candNext[p]!++;
    const count = this.candCount[p]!;
    if (count === 0) return -1;
    // Rescan: the best `width` members ranked strictly after the last one tried.
    const lastScore = this.candScore[base + count - 1]!;
    const lastMember = this.candMember[base + count - 1]!;
    let fresh = 0;
    for (let i = 0; i < this.n; i++) {
      const score = rendezvousScore(this.key(i), p, this.partitionCount);
      if (score > lastScore || (score === lastScore && i <= lastMember)) continue;
      fresh = this.insertCandidate(base, fresh, i, score);
    }
    this.candCount[p] = fresh;
    this.candNext[p] = fresh === 0 ? 0 : 1;
    return fresh === 0 ? -1 : base;
  }

  /**
   * Last resort when every member is full or already holds `p` (only when the caps leave
   * almost no slack): `p`'s best-scored members without a copy take one above their cap.
   */
  private placeOverCap(p: number): void {
    const holders = new Set<number>();
    for (let i = 0; i < this.n; i++) {
      for (let j = 0; j < this.heaps.size(i); j++) if (this.heaps.partitionAt(i, j) === p) holders.add(i);
    }
    const ranked: Array<{ member: number; score: number }> = [];
    for (let i = 0; i < this.n; i++) {
      if (!holders.has(i)) ranked.push({ member: i, score: rendezvousScore(this.key(i), p, this.partitionCount) });
    }
    ranked.sort((a, b) => b.score - a.score || a.member - b.member);
    for (const { member, score } of ranked.slice(0, this.need[p]!)) this.overflow.push({ partition: p, member, score });
    this.need[p] = 0;
  }

  /** Gathers the heaps into per-partition rows sorted by (score desc, member asc). */
  private collect(): OwnerSlots {
    const { replicas: k, partitionCount: P } = this;
    const member = new Int32Array(P * k);
    const score = new Float64Array(P * k);
    const filled = new Int32Array(P);
    const add = (p: number, i: number, s: number): void => {
      let j = p * k + filled[p]!++; // rows hold `replicas` entries: insertion sort is cheap
      while (j > p * k && (score[j - 1]! < s || (score[j - 1] === s && member[j - 1]! > i))) {
        score[j] = score[j - 1]!;
        member[j] = member[j - 1]!;
        j--;
      }
      score[j] = s;
      member[j] = i;
    };
    for (let i = 0; i < this.n; i++) {
      for (let j = 0; j < this.heaps.size(i); j++) add(this.heaps.partitionAt(i, j), i, this.heaps.scoreAt(i, j));
    }
    for (const o of this.overflow) add(o.partition, o.member, o.score);
    return { replicas: k, member, score };
  }
}
