/**
 * W-TinyLFU (the policy of Caffeine): new entries enter a small LRU window and
 * stay only if they beat the main space's eviction candidate on estimated
 * frequency, so one-off keys (scans) cannot flush a popular working set, while
 * keys that are popular now still get in. The window's share adapts to the
 * workload from ghost hits, so recency-heavy workloads stay as good as LRU.
 */
import type { EvictionPolicy } from './eviction-policy.js';
import { FrequencySketch, spreadHash } from './frequency-sketch.js';
import { GhostHistory, type GhostOrigin } from './ghost-history.js';

//   insert --> [ window, LRU ] --overflow--> [ probation, LRU ] --hit--> [ protected, LRU ]
//                                candidate ^   ^ victim (head)  <--overflow--
//   Over the bound, the candidate and the victim compare sketch frequencies; the loser is evicted.
const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;
const WINDOW_ORIGIN: GhostOrigin = 0;
const MAIN_ORIGIN: GhostOrigin = 1;
// Per-slot cell, four int32 side by side so a touch finds everything about a slot in one
// cache line. Cell offsets are slot << 2, so slots stay below 2^29 (far above any real cache).
const CELL_SHIFT = 2;
const PREV = 0; // previous (older) slot in the segment's list, or NIL
const NEXT = 1; // next (more recent) slot, or NIL
const SEGMENT = 2; // WINDOW | PROBATION | PROTECTED
const HASH = 3; // spreadHash(key hash), kept from insert so a touch never rehashes
const NIL = -1; // "no slot" in an Int32Array (NO_SLOT does not fit)

// Caffeine's starting point: window 1% of entries, main split 20% probation / 80% protected.
const INITIAL_WINDOW_SHARE = 0.01;
const PROTECTED_SHARE_OF_MAIN = 0.8;
// A ghost hit counts if the key was evicted within the last (live entries / 8)
// evictions of its side, and moves the window by 4 entries. Chosen by simulation
// (Zipf 0.6-1.2, loops, scans, abrupt and sliding working sets, caches of 0.5-20%
// of the key space): a longer horizon or a bigger step lags on sliding working
// sets, a shorter horizon or a smaller table loses main's ghosts on Zipf.
const GHOST_HORIZON_SHARE = 1 / 8;
const ADAPT_STEP_ENTRIES = 4;
// The ghost table holds half as many ways as entries: room for both horizons with slack for collisions.
const GHOST_WAYS_PER_ENTRY = 0.5;
// The sketch counts one hit in four (misses and inserts always). Measured on the traces
// above, hit ratios moved by under 1 point (most under 0.2, in both directions), while a
// hit skips most of the sketch's cost, a random cache line per touch and the bulk of
// TinyLFU's hit-path overhead over LRU. Caffeine likewise drops reads when its buffers
// are full. The sample follows a Weyl sequence (golden-ratio steps), so periodic access
// patterns are sampled evenly.
const HIT_SAMPLE_STEP = 0x9e3779b9 | 0;
const HIT_SAMPLE_SHIFT = 30; // sampled when the top 2 bits of the phase are 0: 1 in 4
// A candidate at least this warm that ties or loses still gets in 1 time in 128,
// so an attacker cannot pin a hot victim in place by flooding its counters.
const WARM_CANDIDATE = 6;
const RANDOM_ADMIT_MASK = 127;
// Entries moved per call while a segment converges to a smaller target, so a
// shrinking target never costs O(n) on one call.
const REBALANCE_MOVES = 4;

/**
 * Admits by frequency, evicts by recency within segments, and balances recency
 * against frequency per workload.
 *
 * Adaptation (instead of Caffeine's hill climber, which samples 10 x capacity
 * requests per step and, measured here, stayed 15-20 points below LRU on
 * shifting working sets): every eviction is remembered in a small ghost table
 * with its side. A miss on a key the window recently rejected means a bigger
 * window would have hit; a miss on a key main recently evicted means a bigger
 * main would have. Each such miss moves the window share a few entries that way,
 * so the split follows the workload within a fraction of a cache turnover
 * (ARC's idea, applied to the window/main boundary).
 *
 * `capacityHint` sizes the slot arrays, sketch and ghosts; when it is 0 or not
 * finite (a store bounded by bytes), they follow `resize`. Segment targets are
 * shares of the live entry count, so they hold whatever bounds the store.
 */
export class TinyLfuPolicy implements EvictionPolicy {
  readonly name = 'tinylfu' as const;
  readonly usesKeyHash = true;
  // Cells of 4 int32 per slot: PREV, NEXT, SEGMENT, HASH. Int32, not Uint32: a value above
  // 2^31 read from a Uint32Array is boxed when passed on, an allocation per touch.
  private cells: Int32Array;
  private readonly heads = new Int32Array(3).fill(NIL); // least recently used, per segment
  private readonly tails = new Int32Array(3).fill(NIL); // most recently used, per segment
  private readonly sizes = new Uint32Array(3);
  private size = 0; // live entries, the sum of sizes
  private candidate = NIL; // last entry moved from window to probation that has not faced a victim yet
  private readonly sketch: FrequencySketch;
  private readonly ghost: GhostHistory;
  private evicting = NIL; // the slot victim() chose, so remove() can tell an eviction from a delete
  private evictingOrigin: GhostOrigin = WINDOW_ORIGIN;
  private windowShare = INITIAL_WINDOW_SHARE; // 0..1 of live entries
  // A read miss is usually followed by the insert of the same key: count that access once.
  private pendingMissHash = 0;
  private hasPendingMiss = false;
  private hitPhase = 0; // Weyl sequence deciding which hits the sketch counts
  private random = 0x9e3779b9; // xorshift32 state for the warm-candidate lottery

  /** @param capacityHint expected number of entries (0 or a non-finite value when unknown). */
  constructor(capacityHint: number) {
    const capacity = Number.isFinite(capacityHint) && capacityHint > 0 ? Math.ceil(capacityHint) : 0;
    this.cells = new Int32Array(capacity << CELL_SHIFT);
    this.sketch = new FrequencySketch(capacity);
    this.ghost = new GhostHistory(capacity * GHOST_WAYS_PER_ENTRY);
  }

  resize(capacity: number): void {
    this.sketch.ensureCapacity(capacity);
    this.ghost.ensureCapacity(capacity * GHOST_WAYS_PER_ENTRY);
    if (capacity << CELL_SHIFT <= this.cells.length) return;
    const cells = new Int32Array(capacity << CELL_SHIFT);
    cells.set(this.cells);
    this.cells = cells;
  }

  insert(slot: number, keyHash: number): void {
    const hash = spreadHash(keyHash);
    const at = slot << CELL_SHIFT;
    this.cells[at + HASH] = hash;
    this.append(slot, WINDOW);
    this.size++;
    if (!this.hasPendingMiss || this.pendingMissHash !== hash) this.countMiss(hash);
    this.hasPendingMiss = false;
    this.evicting = NIL;
    this.trimWindow();
  }

  touch(slot: number): void {
    const at = slot << CELL_SHIFT;
    this.hitPhase = (this.hitPhase + HIT_SAMPLE_STEP) | 0;
    if (this.hitPhase >>> HIT_SAMPLE_SHIFT === 0) this.sketch.increment(this.cells[at + HASH] as number);
    const segment = this.cells[at + SEGMENT] as number;
    if (segment === PROBATION) {
      if (slot === this.candidate) this.candidate = NIL;
      // Protected may now be over its share: victim() demotes, since the share only
      // matters once the cache is full, and a cache still filling up (500 hot keys
      // read in a cache of 1000) should keep every hot key protected.
      this.unlink(slot, PROBATION);
      this.append(slot, PROTECTED);
    } else if (slot !== this.tails[segment]) {
      this.unlink(slot, segment);
      this.append(slot, segment);
    }
  }

  remove(slot: number): void {
    if (slot === this.evicting) {
      this.ghost.add(this.cells[(slot << CELL_SHIFT) + HASH] as number, this.evictingOrigin);
      this.evicting = NIL;
    }
    if (slot === this.candidate) this.candidate = NIL;
    this.unlink(slot, this.cells[(slot << CELL_SHIFT) + SEGMENT] as number);
    this.size--;
  }

  recordMiss(keyHash: number): void {
    const hash = spreadHash(keyHash);
    this.countMiss(hash);
    this.pendingMissHash = hash;
    this.hasPendingMiss = true;
  }

  victim(protect: number): number {
    this.demoteOverflow();
    const candidate = this.candidate === protect ? NIL : this.candidate;
    let victim = this.first(PROBATION, protect, candidate);
    if (victim === NIL) victim = this.first(PROTECTED, protect, candidate);
    if (candidate === NIL) {
      // Nothing left the window since the last eviction (it is below its target,
      // or this is a second eviction for one insert): main gives up its oldest.
      if (victim !== NIL) return this.evict(victim, MAIN_ORIGIN);
      return this.evict(this.first(WINDOW, protect, NIL), WINDOW_ORIGIN);
    }
    if (victim === NIL) return this.evict(candidate, WINDOW_ORIGIN);
    const cells = this.cells;
    if (this.admit(cells[(candidate << CELL_SHIFT) + HASH] as number, cells[(victim << CELL_SHIFT) + HASH] as number)) {
      this.candidate = NIL;
      return this.evict(victim, MAIN_ORIGIN);
    }
    return this.evict(candidate, WINDOW_ORIGIN);
  }

  clear(): void {
    this.heads.fill(NIL);
    this.tails.fill(NIL);
    this.sizes.fill(0);
    this.size = 0;
    this.candidate = NIL;
    this.evicting = NIL;
    this.hasPendingMiss = false;
    // Sketch, ghosts and window share are kept: they describe the workload, not the entries.
  }

  /** Estimated recent access count (0..15) of a key hash. For tests and diagnostics. */
  frequency(keyHash: number): number {
    return this.sketch.frequency(spreadHash(keyHash));
  }

  /** Segment sizes and the current window share (0..1). For tests and diagnostics. */
  stats(): { window: number; probation: number; protected: number; windowShare: number } {
    return {
      window: this.sizes[WINDOW] as number,
      probation: this.sizes[PROBATION] as number,
      protected: this.sizes[PROTECTED] as number,
      windowShare: this.windowShare,
    };
  }

  /** A miss (or the insert of a key not read before): count it, and learn from it if it is a ghost. */
  private countMiss(hash: number): void {
    this.sketch.increment(hash);
    const origin = this.ghost.take(hash, Math.max(1, this.size * GHOST_HORIZON_SHARE));
    if (origin === -1) return;
    const step = ADAPT_STEP_ENTRIES / Math.max(1, this.size);
    const share = origin === WINDOW_ORIGIN ? this.windowShare + step : this.windowShare - step;
    this.windowShare = Math.min(1, Math.max(0, share));
  }

  /** Caffeine's admission rule: strictly more frequent wins; ties keep the victim, bar the lottery. */
  private admit(candidateHash: number, victimHash: number): boolean {
    const candidateFreq = this.sketch.frequency(candidateHash);
    const victimFreq = this.sketch.frequency(victimHash);
    if (candidateFreq > victimFreq) return true;
    if (candidateFreq < WARM_CANDIDATE) return false;
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x;
    return (x & RANDOM_ADMIT_MASK) === 0;
  }

  private evict(slot: number, origin: GhostOrigin): number {
    if (slot === NIL) return -1;
    this.evicting = slot;
    this.evictingOrigin = origin;
    return slot;
  }

  /** The least recently used of `segment` that is neither `skipA` nor `skipB` (at most two steps). */
  private first(segment: number, skipA: number, skipB: number): number {
    let slot = this.heads[segment] as number;
    while (slot !== NIL && (slot === skipA || slot === skipB)) slot = this.cells[(slot << CELL_SHIFT) + NEXT] as number;
    return slot;
  }

  /** Moves the window's oldest entries to probation while over target: one per insert in the steady state. */
  private trimWindow(): void {
    const windowMax = Math.max(1, Math.floor(this.windowShare * this.size));
    for (let i = 0; i < REBALANCE_MOVES && (this.sizes[WINDOW] as number) > windowMax; i++) {
      const slot = this.heads[WINDOW] as number;
      this.unlink(slot, WINDOW);
      this.append(slot, PROBATION);
      this.candidate = slot;
    }
  }

  /** Moves protected's oldest entries to probation's most recent end while protected is over its share of main. */
  private demoteOverflow(): void {
    // Clamped: with 0 or 1 entries the window target (at least 1) would make main negative.
    const main = Math.max(0, this.size - Math.max(1, Math.floor(this.windowShare * this.size)));
    const protectedMax = Math.floor(PROTECTED_SHARE_OF_MAIN * main);
    for (let i = 0; i < REBALANCE_MOVES && (this.sizes[PROTECTED] as number) > protectedMax; i++) {
      const slot = this.heads[PROTECTED] as number;
      this.unlink(slot, PROTECTED);
      this.append(slot, PROBATION);
    }
  }

  private append(slot: number, segment: number): void {
    const cells = this.cells;
    const at = slot << CELL_SHIFT;
    const tail = this.tails[segment] as number;
    cells[at + SEGMENT] = segment;
    cells[at + PREV] = tail;
    cells[at + NEXT] = NIL;
    if (tail === NIL) this.heads[segment] = slot;
    else cells[(tail << CELL_SHIFT) + NEXT] = slot;
    this.tails[segment] = slot;
    this.sizes[segment]++;
  }

  private unlink(slot: number, segment: number): void {
    const cells = this.cells;
    const at = slot << CELL_SHIFT;
    const prev = cells[at + PREV] as number;
    const next = cells[at + NEXT] as number;
    if (prev === NIL) this.heads[segment] = next;
    else cells[(prev << CELL_SHIFT) + NEXT] = next;
    if (next === NIL) this.tails[segment] = prev;
    else cells[(next << CELL_SHIFT) + PREV] = prev;
    this.sizes[segment]--;
  }
}
