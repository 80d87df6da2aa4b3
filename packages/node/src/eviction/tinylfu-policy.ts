/**
 * W-TinyLFU (the policy of Caffeine): new entries enter a small LRU window, and
 * leave it only by beating the main space's eviction candidate on estimated
 * frequency, so one-off keys (scans) cannot flush a popular working set while
 * keys that are popular now still get in. The window share adapts by hill
 * climbing, which keeps recency-heavy workloads close to LRU.
 */
import { type EvictionPolicy, NO_SLOT } from './eviction-policy.js';
import { FrequencySketch } from './frequency-sketch.js';
import { type GhostOrigin, GhostHistory } from './ghost-history.js';

//   insert -> [ window (LRU) ] --overflow--> [ probation (LRU) ] --hit--> [ protected (LRU) ]
//                    ^ candidate                 ^ victim (head)   <--overflow (demote)--
//   over the bound: the candidate and the victim compare sketch frequencies; the loser is evicted.
const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;
const WINDOW_ORIGIN: GhostOrigin = 0;
const MAIN_ORIGIN: GhostOrigin = 1;

// Initial shares of the live entry count, as in Caffeine: window 1%, protected
// 80% of the rest; probation (the remaining ~20%) keeps its share while the
// climber trades share between window and protected.
const INITIAL_WINDOW_SHARE = 0.01;
const INITIAL_PROTECTED_SHARE = 0.8 * (1 - INITIAL_WINDOW_SHARE);
// Hill climber: step 6.25% of the cache, restart the step when the hit rate moves by
// 5 points or more, otherwise decay it by 2% per sample (Caffeine's constants).
const STEP_SHARE = 0.0625;
const RESTART_THRESHOLD = 0.05;
const STEP_DECAY = 0.98;
// A candidate at least this warm that ties or loses still gets in 1 time in 128,
// so an attacker cannot pin a hot victim in place by flooding its counters.
const WARM_CANDIDATE = 6;
const RANDOM_ADMIT_MASK = 127;
// Entries moved per insert while the segments converge to new targets: bounded,
// so a climber step never costs O(n) on one call.
const REBALANCE_MOVES = 4;

/**
 * Admits by frequency, evicts by recency within segments, and adapts the
 * recency/frequency balance to the workload.
 *
 * `capacityHint` sizes the slot arrays and the sketch; when it is 0 or not finite
 * (a store bounded by bytes), both follow `resize`. Segment targets are shares
 * of the current live entry count, so they are right whatever bounds the store.
 */
export class TinyLfuPolicy implements EvictionPolicy {
  readonly name = 'tinylfu' as const;
  readonly usesKeyHash = true;
  private prev: Uint32Array;
  private next: Uint32Array;
  private segment: Uint8Array; // WINDOW | PROBATION | PROTECTED, for live slots
  private hashes: Uint32Array; // key hash stored at insert, so a touch never rehashes the key
  private readonly heads = new Uint32Array(3).fill(NO_SLOT); // least recently used, per segment
  private readonly tails = new Uint32Array(3).fill(NO_SLOT); // most recently used, per segment
  private readonly sizes = new Uint32Array(3);
  private size = 0; // live entries, sum of sizes
  // The entry most recently moved from window to probation that has not yet faced a victim.
  private candidate = NO_SLOT;
  private readonly sketch: FrequencySketch;
  private windowShare = (globalThis as any).TLFU_WIN ?? INITIAL_WINDOW_SHARE;
  private protectedShare = 0.8 * (1 - this.windowShare);
  private windowMax = 1;
  private protectedMax = 0;
  private hitsInSample = 0;
  private requestsInSample = 0;
  private previousHitRate = 0;
  private stepShare = -STEP_SHARE; // first move shrinks the window, as Caffeine does
  // A miss usually precedes the insert of the same key: count that access once.
  private pendingMissHash = 0;
  private hasPendingMiss = false;
  private random = 0x9e3779b9; // xorshift32 state for the warm-candidate lottery
  private readonly ghost: GhostHistory;
  private evicting = NO_SLOT; // the slot victim() returned, so remove() knows it is an eviction
  private evictingOrigin: GhostOrigin = 0;

  /** @param capacityHint expected number of entries (0 or a non-finite value when unknown). */
  constructor(capacityHint: number) {
    const capacity = Number.isFinite(capacityHint) && capacityHint > 0 ? Math.ceil(capacityHint) : 0;
    this.prev = new Uint32Array(capacity);
    this.next = new Uint32Array(capacity);
    this.segment = new Uint8Array(capacity);
    this.hashes = new Uint32Array(capacity);
    this.sketch = new FrequencySketch(capacity);
    this.ghost = new GhostHistory(capacity);
  }

  resize(capacity: number): void {
    this.sketch.ensureCapacity(capacity);
    this.ghost.ensureCapacity(capacity);
    if (capacity <= this.prev.length) return;
    this.prev = grow(this.prev, new Uint32Array(capacity));
    this.next = grow(this.next, new Uint32Array(capacity));
    this.segment = grow(this.segment, new Uint8Array(capacity));
    this.hashes = grow(this.hashes, new Uint32Array(capacity));
  }

  insert(slot: number, keyHash: number): void {
    this.hashes[slot] = keyHash;
    this.append(slot, WINDOW);
    this.size++;
    if (!this.hasPendingMiss || this.pendingMissHash !== keyHash) {
      this.sketch.increment(keyHash);
      this.record(false);
      this.adapt(keyHash);
    }
    this.hasPendingMiss = false;
    this.evicting = NO_SLOT;
    this.updateTargets();
    this.rebalance();
  }

  touch(slot: number): void {
    this.sketch.increment(this.hashes[slot] as number);
    this.record(true);
    const segment = this.segment[slot] as number;
    if (segment === PROBATION) {
      if (slot === this.candidate) this.candidate = NO_SLOT;
      this.unlink(slot, PROBATION);
      this.append(slot, PROTECTED);
      if ((this.sizes[PROTECTED] as number) > this.protectedMax) this.demote();
    } else if (slot !== this.tails[segment]) {
      this.unlink(slot, segment);
      this.append(slot, segment);
    }
  }

  remove(slot: number): void {
    if (slot === this.evicting) {
      this.ghost.add(this.hashes[slot] as number, this.evictingOrigin);
      this.evicting = NO_SLOT;
    }
    if (slot === this.candidate) this.candidate = NO_SLOT;
    this.unlink(slot, this.segment[slot] as number);
    this.size--;
  }

  recordMiss(keyHash: number): void {
    this.sketch.increment(keyHash);
    this.record(false);
    this.adapt(keyHash);
    this.pendingMissHash = keyHash;
    this.hasPendingMiss = true;
  }

  victim(protect: number): number {
    const candidate = this.candidate === protect ? NO_SLOT : this.candidate;
    let victim = this.first(PROBATION, protect, candidate);
    if (victim === NO_SLOT) victim = this.first(PROTECTED, protect, candidate);
    if (candidate === NO_SLOT) {
      if (victim !== NO_SLOT) return this.evict(victim, MAIN_ORIGIN);
      return this.evict(this.first(WINDOW, protect, NO_SLOT), WINDOW_ORIGIN);
    }
    if (victim === NO_SLOT) return this.evict(candidate, WINDOW_ORIGIN);
    if (this.admit(this.hashes[candidate] as number, this.hashes[victim] as number)) {
      this.candidate = NO_SLOT;
      return this.evict(victim, MAIN_ORIGIN);
    }
    return this.evict(candidate, WINDOW_ORIGIN);
  }

  private evict(slot: number, origin: GhostOrigin): number {
    if (slot === NO_SLOT) return -1;
    this.evicting = slot;
    this.evictingOrigin = origin;
    return slot;
  }

  private adapt(keyHash: number): void {
    const origin = this.ghost.take(keyHash, Math.max(1, this.size * ((globalThis as any).TLFU_H ?? 1)));
    if (origin === -1) return;
    const step = ((globalThis as any).TLFU_GAIN ?? 1) / Math.max(1, this.size);
    const w = origin === WINDOW_ORIGIN ? this.windowShare + step : this.windowShare - step;
    this.windowShare = Math.min(1, Math.max(0, w));
    this.protectedShare = 0.8 * (1 - this.windowShare);
  }

  clear(): void {
    this.heads.fill(NO_SLOT);
    this.tails.fill(NO_SLOT);
    this.sizes.fill(0);
    this.size = 0;
    this.candidate = NO_SLOT;
    this.hasPendingMiss = false;
    // The sketch is kept: it describes which keys are popular, not which are cached.
  }

  /** Estimated recent access count (0..15) of a key hash. For tests and diagnostics. */
  frequency(keyHash: number): number {
    return this.sketch.frequency(keyHash);
  }

  /** Segment sizes and the current window share. For tests and diagnostics. */
  stats(): { window: number; probation: number; protected: number; windowShare: number } {
    return {
      window: this.sizes[WINDOW] as number,
      probation: this.sizes[PROBATION] as number,
      protected: this.sizes[PROTECTED] as number,
      windowShare: this.windowShare,
    };
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

  /** The least recently used of `segment` that is neither `skipA` nor `skipB`. */
  private first(segment: number, skipA: number, skipB: number): number {
    let slot = this.heads[segment] as number;
    // Two skips at most: the loop runs three times at most.
    while (slot !== NO_SLOT && (slot === skipA || slot === skipB)) slot = this.next[slot] as number;
    return slot;
  }

  private updateTargets(): void {
    const size = this.size;
    this.windowMax = Math.max(1, Math.floor(this.windowShare * size));
    this.protectedMax = Math.floor(this.protectedShare * size);
  }

  /** Moves a few entries toward the segment targets; one move in the steady state. */
  private rebalance(): void {
    for (let i = 0; i < REBALANCE_MOVES && (this.sizes[WINDOW] as number) > this.windowMax; i++) {
      const slot = this.heads[WINDOW] as number;
      this.unlink(slot, WINDOW);
      this.append(slot, PROBATION);
      this.candidate = slot;
    }
    for (let i = 0; i < REBALANCE_MOVES && (this.sizes[PROTECTED] as number) > this.protectedMax; i++) {
      this.demote();
    }
  }

  /** Moves the protected segment's oldest entry to probation's most recent end. */
  private demote(): void {
    const slot = this.heads[PROTECTED] as number;
    this.unlink(slot, PROTECTED);
    this.append(slot, PROBATION);
  }

  /** Counts a request for the hill climber and adapts the window once per sample. */
  private record(hit: boolean): void {
    if (hit) this.hitsInSample++;
    if (++this.requestsInSample >= this.sketch.period * ((globalThis as any).TLFU_SAMPLE ?? 1)) this.climb();
  }

  /**
   * One hill-climbing step: keep moving the window share in the direction that
   * raised the hit rate, reverse when it fell; big changes restart the step size.
   */
  private climb(): void {
    if (!(globalThis as any).TLFU_CLIMB) return;
    const hitRate = this.hitsInSample / this.requestsInSample;
    const change = hitRate - this.previousHitRate;
    const amount = change >= 0 ? this.stepShare : -this.stepShare;
    this.stepShare = Math.abs(change) >= RESTART_THRESHOLD ? Math.sign(amount) * STEP_SHARE : STEP_DECAY * amount;
    this.previousHitRate = hitRate;
    this.hitsInSample = 0;
    this.requestsInSample = 0;
    this.windowShare = Math.min((globalThis as any).TLFU_MAXWIN ?? 1, Math.max(0, this.windowShare + amount));
    this.protectedShare = 0.8 * (1 - this.windowShare);
  }

  private append(slot: number, segment: number): void {
    const tail = this.tails[segment] as number;
    this.segment[slot] = segment;
    this.prev[slot] = tail;
    this.next[slot] = NO_SLOT;
    if (tail === NO_SLOT) this.heads[segment] = slot;
    else this.next[tail] = slot;
    this.tails[segment] = slot;
    this.sizes[segment]++;
  }

  private unlink(slot: number, segment: number): void {
    const prev = this.prev[slot] as number;
    const next = this.next[slot] as number;
    if (prev === NO_SLOT) this.heads[segment] = next;
    else this.next[prev] = next;
    if (next === NO_SLOT) this.tails[segment] = prev;
    else this.prev[next] = prev;
    this.sizes[segment]--;
  }
}

function grow<T extends Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
