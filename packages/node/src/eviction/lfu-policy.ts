/**
 * Least-frequently-used order with aging, O(1) per operation. Each slot sits in
 * one of 16 saturating frequency levels, and each level is an LRU list threaded
 * through shared prev/next typed arrays, so a hit is one list move and eviction
 * takes the head of the lowest non-empty level. Aging halves every frequency by
 * splicing lists and lets each slot catch up lazily, so a key that was hot once
 * decays and gives its place to keys that are hot now, without an O(n) pass.
 */
import { ShoalError } from '@shoal/protocol';
import { type EvictionPolicy, NO_SLOT } from './eviction-policy.js';

const LEVELS = 16;
const MAX_LEVEL = LEVELS - 1;
// Every level is below 16, so four halvings take any level to 0.
const HALVINGS_TO_ZERO = 4;
// Slot epochs are Uint16; the global epoch is rebased to 0 before it would wrap.
const EPOCH_LIMIT = 0xffff;
const MIN_DERIVED_AGING_PERIOD = 16;

/** Options of {@link LfuPolicy}. */
export interface LfuPolicyOptions {
  /**
   * Accesses (touches and inserts) between two halvings of every frequency.
   * Positive integer. Default: 10 x `capacityHint`, or 10 x the slot capacity
   * given to `resize` (at least 16) when the hint is 0 or not finite.
   *
   * Inserts count as well as touches: when the old hot keys fill the cache and
   * every request of a new pattern misses, touches alone would never age them.
   */
  agingPeriod?: number;
}

/**
 * Evicts the entry accessed least often, least recently used first among
 * equals; frequencies saturate at 15 and are halved every `agingPeriod` accesses.
 *
 * Aging splices the lists of levels 2k and 2k+1 into level k (the lower one
 * first, so it stays nearer eviction), which is 16 pointer moves. A slot's
 * stored level is then stale; its true level is `stored >> (epoch - slotEpoch)`,
 * computed and written back the next time the slot is touched or removed.
 */
export class LfuPolicy implements EvictionPolicy {
  readonly name = 'lfu' as const;
  readonly usesKeyHash = false;
  private prev: Uint32Array;
  private next: Uint32Array;
  private level: Uint8Array; // level when last written, valid at slotEpoch
  private slotEpoch: Uint16Array; // value of `epoch` when `level` was written
  private readonly heads = new Uint32Array(LEVELS).fill(NO_SLOT); // least recently used of each level
  private readonly tails = new Uint32Array(LEVELS).fill(NO_SLOT); // most recently used of each level
  private occupied = 0; // bit L set iff level L is non-empty
  private epoch = 0; // number of halvings since the last rebase
  private agingPeriod: number;
  private untilAging: number; // accesses left before the next halving
  private readonly derivedAgingPeriod: boolean;
  private readonly epochLimit = EPOCH_LIMIT; // a field, not only a constant, so tests can rebase often

  /**
   * @param capacityHint expected number of entries; sizes the arrays and the
   *   default aging period (0 or a non-finite value when unknown).
   */
  constructor(capacityHint: number, options: LfuPolicyOptions = {}) {
    const known = Number.isFinite(capacityHint) && capacityHint > 0;
    const capacity = known ? Math.ceil(capacityHint) : 0;
    this.prev = new Uint32Array(capacity);
    this.next = new Uint32Array(capacity);
    this.level = new Uint8Array(capacity);
    this.slotEpoch = new Uint16Array(capacity);
    const { agingPeriod } = options;
    if (agingPeriod !== undefined && !(Number.isSafeInteger(agingPeriod) && agingPeriod > 0)) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `agingPeriod: must be a positive integer, got ${agingPeriod}`, {
        option: 'agingPeriod',
      });
    }
    this.derivedAgingPeriod = agingPeriod === undefined && !known;
    this.agingPeriod = agingPeriod ?? Math.max(MIN_DERIVED_AGING_PERIOD, 10 * capacity);
    this.untilAging = this.agingPeriod;
  }

  resize(capacity: number): void {
    if (this.derivedAgingPeriod) this.agingPeriod = Math.max(this.agingPeriod, 10 * capacity);
    if (capacity <= this.prev.length) return;
    this.prev = grow(this.prev, new Uint32Array(capacity));
    this.next = grow(this.next, new Uint32Array(capacity));
    this.level = grow(this.level, new Uint8Array(capacity));
    this.slotEpoch = grow(this.slotEpoch, new Uint16Array(capacity));
  }

  insert(slot: number, _keyHash: number): void {
    this.level[slot] = 0;
    this.slotEpoch[slot] = this.epoch;
    this.append(slot, 0);
    this.tick();
  }

  touch(slot: number): void {
    const from = this.levelOf(slot);
    const to = from === MAX_LEVEL ? MAX_LEVEL : from + 1;
    if (to !== from || slot !== this.tails[to]) {
      this.unlink(slot, from);
      this.append(slot, to);
    }
    this.level[slot] = to;
    this.slotEpoch[slot] = this.epoch;
    this.tick();
  }

  remove(slot: number): void {
    this.unlink(slot, this.levelOf(slot));
  }

  recordMiss(_keyHash: number): void {}

  victim(protect: number): number {
    let mask = this.occupied;
    // protect is a single slot, so this looks at two levels at most.
    while (mask !== 0) {
      const head = this.heads[31 - Math.clz32(mask & -mask)] as number;
      if (head !== protect) return head;
      const second = this.next[head] as number;
      if (second !== NO_SLOT) return second;
      mask &= mask - 1;
    }
    return -1;
  }

  clear(): void {
    this.heads.fill(NO_SLOT);
    this.tails.fill(NO_SLOT);
    this.occupied = 0;
    this.epoch = 0;
    this.untilAging = this.agingPeriod;
  }

  /** Current frequency level (0..15) of a live slot, after aging. For tests and diagnostics. */
  frequencyOf(slot: number): number {
    return this.levelOf(slot);
  }

  private levelOf(slot: number): number {
    const behind = this.epoch - (this.slotEpoch[slot] as number);
    return behind >= HALVINGS_TO_ZERO ? 0 : (this.level[slot] as number) >> behind;
  }

  private tick(): void {
    if (--this.untilAging === 0) this.age();
  }

  /** Halves every frequency: levels 2k and 2k+1 become level k, 2k's entries first. */
  private age(): void {
    const { heads, tails, next, prev } = this;
    // Ascending k is safe: level k (k >= 1) was already consumed as a source at step k >> 1.
    for (let k = 0; k < LEVELS / 2; k++) {
      const lowHead = heads[2 * k] as number;
      const lowTail = tails[2 * k] as number;
      const highHead = heads[2 * k + 1] as number;
      const highTail = tails[2 * k + 1] as number;
      if (lowHead === NO_SLOT) {
        heads[k] = highHead;
        tails[k] = highTail;
      } else {
        heads[k] = lowHead;
        if (highHead === NO_SLOT) {
          tails[k] = lowTail;
        } else {
          next[lowTail] = highHead;
          prev[highHead] = lowTail;
          tails[k] = highTail;
        }
      }
    }
    heads.fill(NO_SLOT, LEVELS / 2);
    tails.fill(NO_SLOT, LEVELS / 2);
    let occupied = 0;
    for (let k = 0; k < LEVELS / 2; k++) if (heads[k] !== NO_SLOT) occupied |= 1 << k;
    this.occupied = occupied;
    this.untilAging = this.agingPeriod;
    if (++this.epoch === this.epochLimit) this.rebase();
  }

  /**
   * Writes every slot's true level (the list it is in) and resets all epochs to
   * 0. O(entries), but once every 65535 halvings (at the default period, once per
   * 655,350 x capacity accesses): the price of 2-byte slot epochs.
   */
  private rebase(): void {
    for (let l = 0; l < LEVELS; l++) {
      for (let s = this.heads[l] as number; s !== NO_SLOT; s = this.next[s] as number) {
        this.level[s] = l;
        this.slotEpoch[s] = 0;
      }
    }
    this.epoch = 0;
  }

  private append(slot: number, level: number): void {
    const tail = this.tails[level] as number;
    this.prev[slot] = tail;
    this.next[slot] = NO_SLOT;
    if (tail === NO_SLOT) {
      this.heads[level] = slot;
      this.occupied |= 1 << level;
    } else {
      this.next[tail] = slot;
    }
    this.tails[level] = slot;
  }

  private unlink(slot: number, level: number): void {
    const prev = this.prev[slot] as number;
    const next = this.next[slot] as number;
    if (prev === NO_SLOT) this.heads[level] = next;
    else this.next[prev] = next;
    if (next === NO_SLOT) this.tails[level] = prev;
    else this.prev[next] = prev;
    if (prev === NO_SLOT && next === NO_SLOT) this.occupied &= ~(1 << level);
  }
}

function grow<T extends Uint32Array | Uint16Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
