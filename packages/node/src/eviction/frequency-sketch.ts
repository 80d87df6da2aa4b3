/**
 * A count-min sketch of recent access frequency with 4-bit counters, the
 * admission filter of W-TinyLFU. It answers "how often was this key hash seen
 * lately" in 8 bytes per cached entry, and forgets by halving every counter once
 * it has counted 10 x capacity events, so popularity follows the workload.
 */

// Layout: 16-word (64-byte, one cache line) blocks of 8 four-bit counters per
// word. A key picks one block from its hash, then one counter in each quarter of
// the block (one quarter per hash function), so an increment touches one line.
//
//   block b:  | row 0: words 0-3 | row 1: words 4-7 | row 2: words 8-11 | row 3: words 12-15 |
//   counter i of a key: word 4i + (h_i & 3), nibble (h_i >> 2) & 7
const WORDS_PER_BLOCK = 16;
const BLOCK_SHIFT = 4;
const MAX_COUNT = 15;
// Four halvings take any 4-bit counter to 0.
const HALVINGS_TO_ZERO = 4;
const SAMPLE_FACTOR = 10;

/**
 * Estimates key frequencies; never underestimates a count that has not been
 * halved, and saturates at 15.
 *
 * Halving ("reset") is lazy: it bumps an epoch, and each block shifts its
 * counters right by the epochs it missed the next time it is read or
 * written. So every operation is O(1) with no pause proportional to the table,
 * which an eager halving of a large sketch (megabytes) would be on the caller's path.
 */
export class FrequencySketch {
  private table: Uint32Array;
  private blockEpoch: Uint32Array; // value of `epoch` when the block's counters were last brought up to date
  private blockMask: number; // blocks - 1; blocks is a power of two
  private epoch = 0;
  private additions = 0; // increments since the last halving, itself halved at each halving
  private sampleSize: number;

  /** @param capacity expected number of cached entries (at least 1 is assumed). */
  constructor(capacity: number) {
    const blocks = blocksFor(capacity);
    this.table = new Uint32Array(blocks * WORDS_PER_BLOCK);
    this.blockEpoch = new Uint32Array(blocks);
    this.blockMask = blocks - 1;
    this.sampleSize = sampleSizeFor(capacity);
  }

  /** Events counted between two halvings (10 x capacity). */
  get period(): number {
    return this.sampleSize;
  }

  /** Number of halvings so far. */
  get halvings(): number {
    return this.epoch;
  }

  /**
   * Grows the table for a larger capacity. Each old block is copied to every
   * new block it splits into, so estimates carry over (as upper bounds) instead
   * of starting from zero.
   */
  ensureCapacity(capacity: number): void {
    this.sampleSize = Math.max(this.sampleSize, sampleSizeFor(capacity));
    const blocks = blocksFor(capacity);
    const oldBlocks = this.blockMask + 1;
    if (blocks <= oldBlocks) return;
    const table = new Uint32Array(blocks * WORDS_PER_BLOCK);
    const blockEpoch = new Uint32Array(blocks);
    for (let b = 0; b < blocks; b += oldBlocks) {
      table.set(this.table, b * WORDS_PER_BLOCK);
      blockEpoch.set(this.blockEpoch, b);
    }
    this.table = table;
    this.blockEpoch = blockEpoch;
    this.blockMask = blocks - 1;
  }

  /** Counts one event for `hash`. */
  increment(hash: number): void {
    const mixed = mix(hash);
    const block = this.freshBlock(mixed);
    const h = counterHash(mixed);
    const table = this.table;
    let added = false;
    for (let i = 0; i < 4; i++) {
      const hi = h >>> (i << 3);
      const word = block + (i << 2) + (hi & 3);
      const shift = hi & 0x1c; // nibble index (bits 2..4) times 4
      const value = table[word] as number;
      if (((value >>> shift) & MAX_COUNT) !== MAX_COUNT) {
        table[word] = value + (1 << shift);
        added = true;
      }
    }
    if (added && ++this.additions >= this.sampleSize) this.halve();
  }

  /** Estimated recent count of `hash` (0..15): the smallest of its four counters. */
  frequency(hash: number): number {
    const mixed = mix(hash);
    const block = this.freshBlock(mixed);
    const h = counterHash(mixed);
    const table = this.table;
    let min = MAX_COUNT;
    for (let i = 0; i < 4; i++) {
      const hi = h >>> (i << 3);
      const count = ((table[block + (i << 2) + (hi & 3)] as number) >>> (hi & 0x1c)) & MAX_COUNT;
      if (count < min) min = count;
    }
    return min;
  }

  /** Forgets everything. */
  clear(): void {
    this.table.fill(0);
    this.blockEpoch.fill(0);
    this.epoch = 0;
    this.additions = 0;
  }

  /** Starts a new epoch: every counter is halved, lazily, block by block. */
  private halve(): void {
    this.epoch++;
    // The exact count lost to rounding is unknown until blocks catch up; halving
    // the tally makes the next halving come a little early, never late.
    this.additions >>>= 1;
  }

  /** Word offset of the block for `mixed`, with its counters brought up to the current epoch. */
  private freshBlock(mixed: number): number {
    const b = mixed & this.blockMask;
    const behind = this.epoch - (this.blockEpoch[b] as number);
    const start = b << BLOCK_SHIFT;
    if (behind !== 0) {
      this.blockEpoch[b] = this.epoch;
      const table = this.table;
      if (behind >= HALVINGS_TO_ZERO) {
        table.fill(0, start, start + WORDS_PER_BLOCK);
      } else {
        // Shift every nibble right by `behind`, dropping bits that cross into the nibble below.
        const keep = (0xf >>> behind) * 0x11111111;
        for (let w = start; w < start + WORDS_PER_BLOCK; w++) table[w] = ((table[w] as number) >>> behind) & keep;
      }
    }
    return start;
  }
}

function blocksFor(capacity: number): number {
  // 16 counters (8 bytes) per entry, as in Caffeine: 2 words per entry, 16 words per block.
  const entries = Number.isFinite(capacity) && capacity > 8 ? capacity : 8;
  const blocks = Math.ceil(entries / 8);
  return 2 ** Math.ceil(Math.log2(blocks));
}

function sampleSizeFor(capacity: number): number {
  const entries = Number.isFinite(capacity) && capacity > 1 ? capacity : 1;
  return SAMPLE_FACTOR * Math.ceil(entries);
}

/** Avalanches the caller's hash so the block index and counter positions are independent bits. */
function mix(hash: number): number {
  let h = hash | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h;
}

/**
 * A second hash for the four counter positions. Every output bit depends on every
 * input bit, so keys sharing a block (equal low bits) still scatter over its counters.
 */
function counterHash(mixed: number): number {
  let h = Math.imul(mixed, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
