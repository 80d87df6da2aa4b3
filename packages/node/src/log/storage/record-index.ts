/**
 * The in-memory columns of one partition's log, by offset, in fixed-size
 * chunks: a lookup is one subtraction, one shift and two array reads (O(1)),
 * dropping the head drops whole chunks (O(1) amortised, no copying), and an
 * append allocates nothing but a new chunk every `chunkRecords` records.
 *
 *   chunks:  [ head chunk   ][ chunk         ][ tail chunk    ]
 *   offsets:  chunkBase ...   +chunkRecords     ... end-1 | free
 *             ^ startOffset may sit inside the head chunk
 *   per chunk: records[]      the decoded records (null: none held, disk mode)
 *              maxTimestamps  running max of timestamps up to each offset (sorted, so searchable)
 *              positions      byte position of the record's frame in its segment (disk mode)
 */
import type { LogRecord } from './log-record.js';

interface Chunk {
  records: (LogRecord | undefined)[] | null; // null when no record of the chunk is held (disk mode)
  readonly maxTimestamps: Float64Array; // non-decreasing across the whole index
  readonly positions: Uint32Array | null; // disk mode only
}

/** Dense per-offset storage of records, running-max timestamps and (disk mode) frame positions. */
export class RecordIndex {
  readonly #size: number; // records per chunk, a power of two
  readonly #shift: number;
  readonly #mask: number;
  readonly #withPositions: boolean;
  #chunks: (Chunk | undefined)[] = []; // chunks[head] holds chunkBase; entries before head are dropped
  #head = 0;
  #chunkBase: number; // offset of slot 0 of chunks[head]
  #start: number;
  #end: number;
  #lastMaxTimestamp = Number.NEGATIVE_INFINITY;

  /** `chunkRecords` must be a power of two; `withPositions` keeps frame positions (disk mode). */
  constructor(chunkRecords: number, withPositions: boolean, startOffset = 0) {
    this.#size = chunkRecords;
    this.#shift = 31 - Math.clz32(chunkRecords);
    this.#mask = chunkRecords - 1;
    this.#withPositions = withPositions;
    this.#chunkBase = startOffset;
    this.#start = startOffset;
    this.#end = startOffset;
  }

  /** First offset held. */
  get startOffset(): number {
    return this.#start;
  }

  /** Offset the next `push` takes. */
  get endOffset(): number {
    return this.#end;
  }

  #chunk(offset: number): Chunk {
    return this.#chunks[this.#head + ((offset - this.#chunkBase) >>> this.#shift)]!;
  }

  /** Adds the record at `endOffset` (`record` may be undefined in disk mode: not held in memory). */
  push(record: LogRecord | undefined, timestamp: number, position: number): void {
    const rel = this.#end - this.#chunkBase;
    const index = this.#head + (rel >>> this.#shift);
    let chunk = this.#chunks[index];
    if (chunk === undefined) {
      chunk = {
        records: record === undefined ? null : new Array(this.#size),
        maxTimestamps: new Float64Array(this.#size),
        positions: this.#withPositions ? new Uint32Array(this.#size) : null,
      };
      this.#chunks[index] = chunk;
    }
    const slot = rel & this.#mask;
    if (record !== undefined) {
      if (chunk.records === null) chunk.records = new Array(this.#size);
      chunk.records[slot] = record;
    }
    if (timestamp > this.#lastMaxTimestamp) this.#lastMaxTimestamp = timestamp;
    chunk.maxTimestamps[slot] = this.#lastMaxTimestamp;
    if (chunk.positions !== null) chunk.positions[slot] = position;
    this.#end++;
  }

  /** The record held at `offset` (undefined when not held). Caller keeps start <= offset < end. */
  record(offset: number): LogRecord | undefined {
    return this.#chunk(offset).records?.[(offset - this.#chunkBase) & this.#mask];
  }

  /** Holds `record` at `offset` (warming the disk-mode cache). */
  setRecord(offset: number, record: LogRecord): void {
    const chunk = this.#chunk(offset);
    if (chunk.records === null) chunk.records = new Array(this.#size);
    chunk.records[(offset - this.#chunkBase) & this.#mask] = record;
  }

  /** Stops holding the record at `offset`; the chunk's array goes once its last slot is released. */
  releaseRecord(offset: number): void {
    const chunk = this.#chunk(offset);
    if (chunk.records === null) return;
    const slot = (offset - this.#chunkBase) & this.#mask;
    if (slot === this.#mask) chunk.records = null;
    else chunk.records[slot] = undefined;
  }

  /** Largest timestamp at or before `offset`. */
  maxTimestamp(offset: number): number {
    return this.#chunk(offset).maxTimestamps[(offset - this.#chunkBase) & this.#mask]!;
  }

  /** Position of the frame of `offset` in its segment (disk mode). */
  position(offset: number): number {
    return this.#chunk(offset).positions![(offset - this.#chunkBase) & this.#mask]!;
  }

  /** First offset whose timestamp, or an earlier record's, is >= `ms`; `endOffset` when none. O(log n). */
  firstAtOrAfter(ms: number): number {
    let lo = this.#start;
    let hi = this.#end;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.maxTimestamp(mid) >= ms) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Forgets offsets below `newStart` (<= endOffset). Work: chunks dropped + slots cleared in the head chunk. */
  trimHead(newStart: number): void {
    while (newStart - this.#chunkBase >= this.#size && this.#head < this.#chunks.length) {
      this.#chunks[this.#head++] = undefined;
      this.#chunkBase += this.#size;
    }
    const chunk = this.#chunks[this.#head];
    if (chunk?.records) for (let o = Math.max(this.#start, this.#chunkBase); o < newStart; o++) this.releaseRecord(o);
    if (this.#head === this.#chunks.length) this.#chunkBase = newStart; // everything went: realign
    this.#start = newStart;
    if (newStart === this.#end) this.#lastMaxTimestamp = Number.NEGATIVE_INFINITY;
    // compact the dropped prefix once it is at least half the array: O(1) amortised per chunk
    if (this.#head >= 32 && this.#head * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Forgets offsets from `newEnd` (startOffset <= newEnd <= endOffset) on. */
  truncate(newEnd: number): void {
    // only the chunk holding newEnd keeps slots to clear; the chunks after it go whole
    const kept = newEnd < this.#end && (newEnd - this.#chunkBase) & this.#mask ? this.#chunk(newEnd) : undefined;
    if (kept?.records) {
      const chunkEnd = newEnd - ((newEnd - this.#chunkBase) & this.#mask) + this.#size;
      for (let o = newEnd; o < Math.min(chunkEnd, this.#end); o++)
        kept.records[(o - this.#chunkBase) & this.#mask] = undefined;
    }
    this.#chunks.length = this.#head + Math.ceil((newEnd - this.#chunkBase) / this.#size);
    this.#end = newEnd;
    this.#lastMaxTimestamp = newEnd > this.#start ? this.maxTimestamp(newEnd - 1) : Number.NEGATIVE_INFINITY;
  }

  /** Forgets everything; the next push takes `offset`. */
  reset(offset: number): void {
    this.#chunks = [];
    this.#head = 0;
    this.#chunkBase = offset;
    this.#start = offset;
    this.#end = offset;
    this.#lastMaxTimestamp = Number.NEGATIVE_INFINITY;
  }
}
