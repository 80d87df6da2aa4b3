/**
 * The storage of one topic partition: an ordered run of messages with dense
 * 0-based offsets, in memory only or in segment files (segment-file.ts) with a
 * decoded tail kept in memory. The topic and replication layers build on it:
 * leaders `append`, followers `appendReplicated` and `truncateFrom`, consumers
 * `read` and `offsetForTimestamp`, an owner calls `enforceRetention` on a timer.
 *
 * Memory: every retained record sits in the RecordIndex. Disk: the index keeps
 * every record's frame position and running-max timestamp (12 bytes a record)
 * and the decoded records of the newest `tailCacheBytes`; reads below that go
 * to the segment file (one pread per segment touched), reads above never do.
 */
import { ShoalError } from '@shoal/protocol';
import { checkOffset, checkReplicatedBatch, measureInput, messageTooLarge } from './append-input.js';
import type {
  AppendInput,
  AppendResult,
  LogRecord,
  PartitionLogStats,
  ReadOptions,
  RecoveryStats,
  ReplicatedAppendResult,
  ReplicatedInput,
  RetentionResult,
} from './log-record.js';
import {
  type PartitionLogOptions,
  type ResolvedPartitionLogOptions,
  resolvePartitionLogOptions,
} from './partition-log-options.js';
import { FRAME_HEADER_BYTES, RecordCodec } from './record-codec.js';
import { RecordIndex } from './record-index.js';
import { SegmentReader } from './segment-reader.js';
import { ioError, SegmentSet } from './segment-set.js';

const DEFAULT_READ_MESSAGES = 1000;
const DEFAULT_READ_BYTES = 1024 * 1024;
const SEGMENTS_PER_RETENTION = 8; // bounds one enforceRetention call on disk (an unlink each)

/** One partition's log; see the module header. Call `open()` before use and `close()` after. */
export class PartitionLog {
  /** The resolved options. */
  readonly options: ResolvedPartitionLogOptions;
  readonly #index: RecordIndex;
  readonly #disk: SegmentSet | undefined;
  readonly #codec: RecordCodec | undefined;
  readonly #reader: SegmentReader | undefined;
  #state: 'new' | 'open' | 'closed' = 'new';
  #closed: Promise<void> | undefined;
  #bytes = 0; // memory mode: sum of retained record sizes
  #cachedFrom = 0; // disk mode: records from here to the end are held decoded
  #cachedBytes = 0; // disk mode: sum of their sizes
  #appended = 0;
  #recovery: RecoveryStats | undefined;
  // reused between appends (disk mode): frame positions and payload sizes of the batch
  readonly #positions: number[] = [];
  readonly #sizes: number[] = [];

  /** Validates `options` (SHOAL_CONFIG_INVALID naming the option); touches no file until `open()`. */
  constructor(options: PartitionLogOptions) {
    this.options = resolvePartitionLogOptions(options);
    const { dir, chunkRecords, segmentBytes, fsync, fsyncIntervalMs, fs } = this.options;
    this.#index = new RecordIndex(chunkRecords, dir !== undefined);
    if (dir !== undefined) {
      this.#disk = new SegmentSet({ dir, segmentBytes, fsync, fsyncIntervalMs, fs });
      this.#codec = new RecordCodec();
      this.#reader = new SegmentReader(this.#disk, this.#index, this.#codec);
    }
  }

  /**
   * Makes the log usable. On disk: recovers the directory (see `stats().recovery`: a torn or
   * corrupt tail is cut at the last good record) and loads the newest `tailCacheBytes` into
   * memory. Synchronous: it runs once, before the partition serves. Safe twice.
   */
  open(): this {
    if (this.#state === 'open') return this;
    if (this.#state === 'closed')
      throw new ShoalError('SHOAL_LOG_CLOSED', 'a closed log cannot reopen: create a new one');
    if (this.#disk !== undefined) {
      try {
        this.#recovery = this.#disk.recover(this.#index);
        this.#warmCache();
      } catch (err) {
        this.#state = 'closed'; // a failed open leaves nothing half-open: create a new log to retry
        this.#closed = this.#disk.close().catch(() => undefined);
        throw err;
      }
    }
    this.#state = 'open';
    return this;
  }

  /** First offset held (it rises with retention). */
  get startOffset(): number {
    return this.#index.startOffset;
  }

  /** Offset the next appended message gets. */
  get endOffset(): number {
    return this.#index.endOffset;
  }

  #checkOpen(): void {
    if (this.#state !== 'open') {
      throw new ShoalError('SHOAL_LOG_CLOSED', this.#state === 'new' ? 'the log is not open' : 'the log is closed');
    }
  }

  #checkWritable(): void {
    this.#checkOpen();
    const failure = this.#disk?.failure;
    if (failure !== undefined) throw failure;
  }

  /**
   * Appends messages at the end, all or none (a bad message throws before anything is stored).
   * Messages without a timestamp get the clock's time, read once per call. One write system call
   * for the batch on disk (plus one fdatasync under fsync 'always'). An empty batch returns
   * `{ baseOffset: endOffset, lastOffset: endOffset - 1 }`.
   */
  append(inputs: readonly AppendInput[]): AppendResult {
    this.#checkWritable();
    if (!Array.isArray(inputs)) throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'append takes an array of messages');
    const baseOffset = this.#index.endOffset;
    if (inputs.length > 0) this.#write(inputs, 0, this.options.clock.now());
    return { baseOffset, lastOffset: baseOffset + inputs.length - 1 };
  }

  /**
   * Appends records received from the leader, keeping their offsets and timestamps. The batch
   * must be dense (offsets n, n+1, ...). Records below `endOffset` are skipped as already held
   * (the log trusts offsets: a follower that may have diverged truncates first); a batch starting
   * past `endOffset` adds nothing and reports the gap.
   */
  appendReplicated(records: readonly ReplicatedInput[]): ReplicatedAppendResult {
    this.#checkWritable();
    if (!Array.isArray(records)) throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'appendReplicated takes an array');
    const end = this.#index.endOffset;
    if (records.length === 0) return { status: 'appended', appended: 0, skipped: 0, endOffset: end };
    const first = checkReplicatedBatch(records);
    if (first > end) return { status: 'gap', expectedOffset: end, receivedOffset: first };
    const skipped = Math.min(end - first, records.length);
    if (skipped < records.length) this.#write(records, skipped, Number.NaN);
    return { status: 'appended', appended: records.length - skipped, skipped, endOffset: this.#index.endOffset };
  }

  // Appends inputs[from..]; `now` is the default timestamp (NaN: replicated, each record has its own).
  #write(inputs: readonly AppendInput[], from: number, now: number): void {
    if (this.#disk === undefined) this.#writeMemory(inputs, from, now);
    else this.#writeDisk(inputs, from, now);
    this.#appended += inputs.length - from;
  }

  #writeMemory(inputs: readonly AppendInput[], from: number, now: number): void {
    const index = this.#index;
    const base = index.endOffset;
    let added = 0;
    try {
      for (let i = from; i < inputs.length; i++) {
        const input = inputs[i]!;
        const size = measureInput(input, i, this.options.maxMessageBytes);
        const timestamp = input.timestamp ?? now;
        const record: LogRecord = {
          offset: index.endOffset,
          timestamp,
          key: input.key,
          id: input.id,
          headers: input.headers,
          value: input.value,
          size,
        };
        index.push(record, timestamp, 0);
        added += size;
      }
    } catch (err) {
      index.truncate(base); // all or none
      throw err;
    }
    this.#bytes += added;
  }

  #writeDisk(inputs: readonly AppendInput[], from: number, now: number): void {
    const disk = this.#disk!;
    const codec = this.#codec!;
    const { maxMessageBytes } = this.options;
    const base = this.#index.endOffset;
    codec.resetBatch();
    disk.beginBatch();
    this.#positions.length = 0;
    this.#sizes.length = 0;
    for (let i = from; i < inputs.length; i++) {
      const input = inputs[i]!;
      measureInput(input, i, Number.POSITIVE_INFINITY); // checks only: the exact size is the encoding's
      const offset = base + i - from;
      const timestamp = input.timestamp ?? now;
      const size = codec.appendFrame(offset, timestamp, input.value, input.key, input.id, input.headers);
      if (size > maxMessageBytes) throw messageTooLarge(size, maxMessageBytes, i);
      this.#positions.push(disk.place(FRAME_HEADER_BYTES + size, offset, timestamp));
      this.#sizes.push(size);
    }
    const end = base + inputs.length - from;
    disk.commit(codec.batch, codec.used, end);
    for (let i = from; i < inputs.length; i++) {
      const input = inputs[i]!;
      const timestamp = input.timestamp ?? now;
      const size = this.#sizes[i - from]!;
      const record: LogRecord = {
        offset: this.#index.endOffset,
        timestamp,
        key: input.key,
        id: input.id,
        headers: input.headers,
        value: input.value,
        size,
      };
      this.#index.push(record, timestamp, this.#positions[i - from]!);
      this.#cachedBytes += size;
    }
    this.#trimCache();
  }

  // Disk mode: stops holding the oldest cached records until the cache fits tailCacheBytes.
  #trimCache(): void {
    const index = this.#index;
    while (this.#cachedBytes > this.options.tailCacheBytes && this.#cachedFrom < index.endOffset) {
      this.#uncache();
    }
  }

  #uncache(): void {
    this.#cachedBytes -= this.#index.record(this.#cachedFrom)!.size;
    this.#index.releaseRecord(this.#cachedFrom++);
  }

  /**
   * Records from `fromOffset` on, up to `maxMessages` and `maxBytes` (but at least one when any is
   * there). `fromOffset === endOffset` returns `[]` (caught up). Throws
   * SHOAL_LOG_OFFSET_OUT_OF_RANGE, with `startOffset` and `endOffset` in its details, for an offset
   * below the start (removed by retention) or past the end.
   */
  read(fromOffset: number, options: ReadOptions = {}): LogRecord[] {
    this.#checkOpen();
    checkOffset(fromOffset, 'fromOffset');
    const maxMessages = options.maxMessages ?? DEFAULT_READ_MESSAGES;
    const maxBytes = options.maxBytes ?? DEFAULT_READ_BYTES;
    if (!Number.isSafeInteger(maxMessages) || maxMessages < 1) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'maxMessages must be a positive integer', { maxMessages });
    }
    if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'maxBytes must be a non-negative number', { maxBytes });
    }
    this.#checkRange(fromOffset);
    const index = this.#index;
    const out: LogRecord[] = [];
    let offset = fromOffset;
    let bytes = 0;
    while (this.#disk !== undefined && offset < this.#cachedFrom && out.length < maxMessages) {
      const before = out.length;
      bytes = this.#reader!.readRun(offset, this.#cachedFrom, maxMessages, maxBytes, out, bytes);
      if (out.length === before) return out; // maxBytes reached
      offset += out.length - before;
    }
    const end = index.endOffset;
    for (; offset < end && out.length < maxMessages; offset++) {
      const record = index.record(offset)!;
      if (out.length > 0 && bytes + record.size > maxBytes) break;
      out.push(record);
      bytes += record.size;
    }
    return out;
  }

  #checkRange(offset: number): void {
    const { startOffset, endOffset } = this.#index;
    if (offset < startOffset || offset > endOffset) {
      const where = offset < startOffset ? 'below the start (removed by retention)' : 'past the end';
      throw new ShoalError(
        'SHOAL_LOG_OFFSET_OUT_OF_RANGE',
        `offset ${offset} is ${where} of [${startOffset}, ${endOffset})`,
        {
          offset,
          startOffset,
          endOffset,
        },
      );
    }
  }

  // After recovery: decodes the newest records, up to tailCacheBytes, into memory.
  #warmCache(): void {
    const index = this.#index;
    const reader = this.#reader!;
    let from = index.endOffset;
    let bytes = 0;
    while (from > index.startOffset) {
      const size = reader.frameSize(from - 1);
      if (bytes + size > this.options.tailCacheBytes) break;
      bytes += size;
      from--;
    }
    const records: LogRecord[] = [];
    for (let offset = from; offset < index.endOffset; offset = from + records.length) {
      reader.readRun(offset, index.endOffset, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, records, 0);
    }
    for (const record of records) index.setRecord(record.offset, record);
    this.#cachedFrom = from;
    this.#cachedBytes = bytes;
    reader.records = 0;
  }

  /**
   * Drops every record from `offset` on (a follower cutting its diverged tail); `endOffset` becomes
   * `offset`. Nothing happens when `offset >= endOffset`; an offset below the start empties the log,
   * which then starts at `offset` (as `resetTo`).
   */
  truncateFrom(offset: number): void {
    this.#checkWritable();
    checkOffset(offset, 'offset');
    const index = this.#index;
    if (offset >= index.endOffset) return;
    if (offset < index.startOffset) {
      this.resetTo(offset);
      return;
    }
    if (this.#disk === undefined) {
      for (let o = offset; o < index.endOffset; o++) this.#bytes -= index.record(o)!.size;
    } else {
      const maxTimestamp = offset > index.startOffset ? index.maxTimestamp(offset - 1) : Number.NEGATIVE_INFINITY;
      this.#disk.truncateFrom(offset, index.position(offset), maxTimestamp);
      for (let o = Math.max(offset, this.#cachedFrom); o < index.endOffset; o++) {
        this.#cachedBytes -= index.record(o)!.size;
      }
      this.#cachedFrom = Math.min(this.#cachedFrom, offset);
    }
    index.truncate(offset);
  }

  /**
   * Drops every record and makes `offset` both start and end: a follower whose leader no longer
   * has the follower's end offset (retention passed it) restarts at the leader's start.
   */
  resetTo(offset: number): void {
    this.#checkWritable();
    checkOffset(offset, 'offset');
    this.#disk?.resetTo(offset);
    this.#index.reset(offset);
    this.#bytes = 0;
    this.#cachedFrom = offset;
    this.#cachedBytes = 0;
  }

  /**
   * First offset whose timestamp is >= `ms` (replay from a time); `endOffset` when none is. With
   * timestamps that go backwards (producer clocks), it is the first offset at or after which some
   * retained record's timestamp reached `ms`. O(log n).
   */
  offsetForTimestamp(ms: number): number {
    this.#checkOpen();
    if (typeof ms !== 'number' || Number.isNaN(ms)) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'offsetForTimestamp takes a number of ms', { ms });
    }
    return this.#index.firstAtOrAfter(ms);
  }

  /**
   * Removes what `maxMessages`, `maxBytes` and `maxAgeMs` no longer allow, oldest first, with
   * bounded work (`maxRetentionWork` records in memory, a few whole segments on disk; `more`
   * says to call again). Memory: exact, per record. Disk: whole segments, once none of a segment's
   * records is among what the limits keep, so the log holds at least the limits and at most about
   * one segment more (Kafka's rule); an expired active segment is rolled first so it can go.
   */
  enforceRetention(now: number = this.options.clock.now()): RetentionResult {
    this.#checkWritable();
    return this.#disk === undefined ? this.#retainMemory(now) : this.#retainDisk(now);
  }

  #retainMemory(now: number): RetentionResult {
    const index = this.#index;
    const { maxMessages, maxBytes, maxAgeMs, maxRetentionWork } = this.options;
    const end = index.endOffset;
    const countLimit = end - maxMessages; // offsets below it exceed maxMessages
    const cutoff = now - maxAgeMs;
    let offset = index.startOffset;
    let bytes = this.#bytes;
    const expired = (o: number) => o < countLimit || bytes > maxBytes || index.maxTimestamp(o) < cutoff;
    let work = 0;
    for (; offset < end && work < maxRetentionWork && expired(offset); offset++, work++) {
      bytes -= index.record(offset)!.size;
    }
    const removedMessages = offset - index.startOffset;
    index.trimHead(offset);
    this.#bytes = bytes;
    return { removedMessages, removedSegments: 0, more: offset < end && expired(offset) };
  }

  #retainDisk(now: number): RetentionResult {
    const disk = this.#disk!;
    const index = this.#index;
    const cutoff = now - this.options.maxAgeMs;
    const expired = () => {
      const segment = disk.first;
      return (
        index.endOffset - segment.nextOffset >= this.options.maxMessages ||
        disk.bytes - segment.size >= this.options.maxBytes ||
        segment.maxTimestamp < cutoff
      );
    };
    let removedSegments = 0;
    let removedMessages = 0;
    while (removedSegments < SEGMENTS_PER_RETENTION && expired()) {
      if (disk.count === 1) {
        if (disk.active.size === 0) break;
        disk.roll(); // the whole log expired: keep an empty segment at the end
      }
      const next = disk.first.nextOffset;
      try {
        disk.deleteFirst();
      } catch (err) {
        throw ioError(err, 'retention', { segment: disk.first.path });
      }
      while (this.#cachedFrom < next) this.#uncache();
      removedMessages += next - index.startOffset;
      index.trimHead(next);
      removedSegments++;
    }
    return { removedMessages, removedSegments, more: removedSegments === SEGMENTS_PER_RETENTION && expired() };
  }

  /** Sizes and counters (cheap: no walk). */
  stats(): PartitionLogStats {
    const index = this.#index;
    const messages = index.endOffset - index.startOffset;
    const disk = this.#disk;
    return {
      startOffset: index.startOffset,
      endOffset: index.endOffset,
      messages,
      bytes: disk === undefined ? this.#bytes : disk.bytes,
      segments: disk?.count ?? 0,
      cachedMessages: disk === undefined ? messages : index.endOffset - this.#cachedFrom,
      cachedBytes: disk === undefined ? this.#bytes : this.#cachedBytes,
      appended: this.#appended,
      diskReads: this.#reader?.records ?? 0,
      fsyncs: disk?.fsyncs ?? 0,
      recovery: this.#recovery,
    };
  }

  /**
   * Stops taking calls (they throw SHOAL_LOG_CLOSED), fdatasyncs unsynced data (unless fsync is
   * 'never') and closes the files. Safe twice: both calls get the same promise.
   */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#state = 'closed';
    this.#closed = this.#disk?.close() ?? Promise.resolve();
    return this.#closed;
  }
}
