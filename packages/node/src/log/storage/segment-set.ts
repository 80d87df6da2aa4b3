/**
 * The segment files of one partition log: which one takes writes, when to
 * roll to a new one, when data is forced to the device, which files retention
 * and truncation delete, and the recovery scan on open.
 *
 * Why synchronous writes: an append is encoded into one buffer and handed to
 * the kernel with one pwrite (~10-50 us into the page cache). Doing it inline
 * keeps appends in order and makes "append returned" mean "a process crash
 * cannot lose it" with no write queue to reason about. Only fdatasync can take
 * milliseconds: the 'interval' policy runs it on libuv's thread pool, and
 * 'always' runs it inline because its promise is that `append` returns once
 * the data is on the device (batch appends to amortise it: one fsync per call).
 *
 * What a failure loses: a process crash (kill -9, OOM, uncaught exception)
 * loses nothing `append` returned for under any policy, since the data is in
 * the OS page cache once pwrite returns. A power failure or kernel crash loses
 * what was not yet fdatasync'ed: nothing acknowledged under 'always', up to
 * `fsyncIntervalMs` (plus one sync's duration) under 'interval', the kernel's writeback
 * delay (Linux: ~30 s) under 'never'. Either way recovery cuts the torn tail.
 */
import { ShoalError } from '@shoal/protocol';
import type { LogFs } from './log-fs.js';
import type { RecoveryCut, RecoveryStats } from './log-record.js';
import type { FsyncPolicy } from './partition-log-options.js';
import type { RecordIndex } from './record-index.js';
import { SegmentFile } from './segment-file.js';

/** What a SegmentSet needs from the log's options. */
export interface SegmentSetOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly fs: LogFs;
}

/** Wraps a file-system failure (a ShoalError, e.g. SHOAL_LOG_CORRUPT, passes through). */
export function ioError(err: unknown, action: string, details: Record<string, unknown>): ShoalError {
  if (err instanceof ShoalError) return err;
  const reason = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message;
  return new ShoalError('SHOAL_LOG_IO_FAILED', `${action} failed: ${reason}`, { ...details, reason }, { cause: err });
}

interface SegmentState {
  size: number;
  nextOffset: number;
  maxTimestamp: number;
}

/** The ordered segment files of one partition under one directory. */
export class SegmentSet {
  readonly #options: SegmentSetOptions;
  readonly #fs: LogFs;
  #segments: SegmentFile[] = []; // ascending base offsets, contiguous; the last takes writes
  #bytes = 0; // sum of segment sizes
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined; // background fdatasyncs in flight
  #failure: ShoalError | undefined; // once set, writes are refused until the log is reopened
  #closed: Promise<void> | undefined;
  /** fdatasync calls made (both policies). */
  fsyncs = 0;
  // Plan of the batch being encoded: part 0 continues the active segment, each further part starts a new one.
  #planSize = 0; // size the segment of the current part will have
  #planUsed = 0; // batch bytes planned
  readonly #partStart: number[] = []; // batch byte where each part starts
  readonly #partBase: number[] = []; // base offset of each new part's segment (part 0: unused)
  readonly #partMaxTimestamp: number[] = [];

  constructor(options: SegmentSetOptions) {
    this.#options = options;
    this.#fs = options.fs;
  }

  /** The oldest segment. */
  get first(): SegmentFile {
    return this.#segments[0]!;
  }

  /** The segment taking writes. */
  get active(): SegmentFile {
    return this.#segments[this.#segments.length - 1]!;
  }

  get count(): number {
    return this.#segments.length;
  }

  /** Bytes of all segment files. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Why writes are refused, once a write or fdatasync failed (undefined while healthy). */
  get failure(): ShoalError | undefined {
    return this.#failure;
  }

  /** The segment holding `offset` (first.baseOffset <= offset < active.nextOffset). O(log segments). */
  segmentOf(offset: number): SegmentFile {
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.#segments[lo]!;
  }

  /**
   * Opens the directory: scans every segment in offset order, pushing each good frame into `index`
   * (reset to the first segment's base), cuts the first bad frame and everything after it (the
   * rest of its file and every later file: keeping them would leave a hole in the offsets), and
   * creates segment 0 in an empty directory.
   */
  recover(index: RecordIndex): RecoveryStats {
    const started = performance.now();
    const { dir } = this.#options;
    let scanned = 0;
    let records = 0;
    let truncatedBytes = 0;
    let droppedSegments = 0;
    let droppedBytes = 0;
    let cut: RecoveryCut | null = null;
    let cutOffset: number | null = null;
    try {
      this.#fs.mkdirSync(dir, { recursive: true });
      const bases = this.#fs
        .readdirSync(dir)
        .map((name) => SegmentFile.parseFileName(name))
        .filter((base): base is number => base !== undefined)
        .sort((a, b) => a - b);
      for (const base of bases) {
        const segment = SegmentFile.open(this.#fs, dir, base);
        const previous = this.#segments[this.#segments.length - 1];
        if (cut === null && previous !== undefined && base !== previous.nextOffset) {
          cut = 'gap';
          cutOffset = previous.nextOffset;
        }
        if (cut !== null) {
          droppedBytes += segment.fileBytes();
          droppedSegments++;
          segment.remove();
          continue;
        }
        if (previous === undefined) index.reset(base);
        this.#segments.push(segment);
        const scan = segment.scan((_offset, timestamp, position) => index.push(undefined, timestamp, position));
        scanned++;
        records += scan.records;
        this.#bytes += scan.validBytes;
        if (scan.cut !== null) {
          cut = scan.cut;
          cutOffset = segment.nextOffset;
          truncatedBytes = scan.fileBytes - scan.validBytes;
          segment.truncate(scan.validBytes);
        }
      }
      if (this.#segments.length === 0) {
        index.reset(0);
        this.#segments.push(SegmentFile.create(this.#fs, dir, 0));
        this.#syncDirectory();
      } else if (cut !== null && this.#options.fsync !== 'never') {
        this.active.syncNow();
        this.fsyncs++;
        this.#syncDirectory();
      }
    } catch (err) {
      for (const segment of this.#segments) segment.close();
      this.#segments = [];
      throw ioError(err, 'recovery', { dir });
    }
    this.#startTimer();
    const durationMs = performance.now() - started;
    return { segments: scanned, records, truncatedBytes, droppedSegments, droppedBytes, cut, cutOffset, durationMs };
  }

  /** Starts planning a batch of frames (see `place`, `commit`). */
  beginBatch(): void {
    this.#planSize = this.active.size;
    this.#planUsed = 0;
    this.#partStart.length = 0;
    this.#partBase.length = 0;
    this.#partMaxTimestamp.length = 0;
    this.#partStart.push(0);
    this.#partBase.push(Number.NaN);
    this.#partMaxTimestamp.push(Number.NEGATIVE_INFINITY);
  }

  /**
   * Places the next frame of the batch (`frameBytes` long, holding `offset`) and returns its position
   * in the segment it will land in: a new segment starts when the frame would take a non-empty one
   * past `segmentBytes` (a frame larger than that gets a segment of its own).
   */
  place(frameBytes: number, offset: number, timestamp: number): number {
    if (this.#planSize > 0 && this.#planSize + frameBytes > this.#options.segmentBytes) {
      this.#partStart.push(this.#planUsed);
      this.#partBase.push(offset);
      this.#partMaxTimestamp.push(Number.NEGATIVE_INFINITY);
      this.#planSize = 0;
    }
    const position = this.#planSize;
    this.#planSize += frameBytes;
    this.#planUsed += frameBytes;
    const part = this.#partMaxTimestamp.length - 1;
    if (timestamp > this.#partMaxTimestamp[part]!) this.#partMaxTimestamp[part] = timestamp;
    return position;
  }

  /**
   * Writes the planned batch `batch[0, used)`, whose records end before `endOffset`: one pwrite per
   * segment it touches (rolling as planned), then fdatasync under 'always'. On failure it undoes
   * the batch (files cut back, new files deleted) and throws SHOAL_LOG_IO_FAILED; if even the undo
   * fails, the set refuses further writes (reopening recovers a clean tail).
   */
  commit(batch: Buffer, used: number, endOffset: number): void {
    const active = this.active;
    const before: SegmentState = {
      size: active.size,
      nextOffset: active.nextOffset,
      maxTimestamp: active.maxTimestamp,
    };
    const parts = this.#partStart.length;
    const created: SegmentFile[] = [];
    try {
      for (let part = 0; part < parts; part++) {
        let segment = active;
        if (part > 0) {
          segment = this.#roll(this.#partBase[part]!);
          created.push(segment);
        }
        const from = this.#partStart[part]!;
        const to = part + 1 < parts ? this.#partStart[part + 1]! : used;
        segment.write(batch, from, to);
        this.#bytes += to - from;
        segment.nextOffset = part + 1 < parts ? this.#partBase[part + 1]! : endOffset;
        segment.maxTimestamp = Math.max(segment.maxTimestamp, this.#partMaxTimestamp[part]!);
      }
    } catch (err) {
      const failure = ioError(err, 'append', { dir: this.#options.dir, segment: this.active.path });
      if (!this.#undo(active, before, created)) this.#failure = failure;
      throw failure;
    }
    if (this.#options.fsync !== 'always') return;
    try {
      for (const segment of [active, ...created]) {
        segment.syncNow();
        this.fsyncs++;
      }
    } catch (err) {
      // after a failed fdatasync the kernel may have dropped the pages: refuse writes until reopened
      this.#failure = ioError(err, 'fdatasync', { dir: this.#options.dir, segment: this.active.path });
      this.#undo(active, before, created);
      throw this.#failure;
    }
  }

  // Cuts a failed batch back out; false when that failed too.
  #undo(active: SegmentFile, before: SegmentState, created: SegmentFile[]): boolean {
    try {
      for (const segment of created) {
        this.#segments.pop();
        this.#bytes -= segment.size;
        segment.remove();
      }
      this.#bytes -= active.size - before.size;
      active.truncate(before.size);
      active.nextOffset = before.nextOffset;
      active.maxTimestamp = before.maxTimestamp;
      return true;
    } catch {
      return false;
    }
  }

  /** Starts an empty segment at the active one's end (age retention rolls a stale active segment). */
  roll(): void {
    this.#roll(this.active.nextOffset);
  }

  #roll(baseOffset: number): SegmentFile {
    const segment = SegmentFile.create(this.#fs, this.#options.dir, baseOffset);
    this.#segments.push(segment);
    this.#syncDirectory();
    return segment;
  }

  /** Deletes the oldest segment (never the active one). */
  deleteFirst(): void {
    if (this.#segments.length < 2) return;
    const segment = this.#segments.shift()!;
    this.#bytes -= segment.size;
    segment.remove();
  }

  /**
   * Drops every record from `offset` (< active.nextOffset) on: later files are deleted, the file
   * holding it is cut at `position` (its frame's position) and becomes the active one.
   */
  truncateFrom(offset: number, position: number, maxTimestamp: number): void {
    try {
      while (this.#segments.length > 1 && this.active.baseOffset > offset) {
        const segment = this.#segments.pop()!;
        this.#bytes -= segment.size;
        segment.remove();
      }
      const active = this.active;
      this.#bytes -= active.size - position;
      active.truncate(position);
      active.nextOffset = offset;
      active.maxTimestamp = offset > active.baseOffset ? maxTimestamp : Number.NEGATIVE_INFINITY;
      this.#syncAfterChange();
    } catch (err) {
      this.#failure = ioError(err, 'truncate', { dir: this.#options.dir, offset });
      throw this.#failure;
    }
  }

  /** Deletes every segment and starts an empty one at `offset`. */
  resetTo(offset: number): void {
    try {
      for (const segment of this.#segments) segment.remove();
      this.#segments = [];
      this.#bytes = 0;
      this.#segments.push(SegmentFile.create(this.#fs, this.#options.dir, offset));
      this.#syncAfterChange();
    } catch (err) {
      this.#failure = ioError(err, 'reset', { dir: this.#options.dir, offset });
      throw this.#failure;
    }
  }

  // A truncation must be as durable as the appends it undoes, or a power loss brings diverged records back.
  #syncAfterChange(): void {
    if (this.#options.fsync === 'always') {
      this.active.syncNow();
      this.fsyncs++;
    }
    this.#syncDirectory();
  }

  // Makes created and deleted file names durable (the file's data needs its own fdatasync).
  #syncDirectory(): void {
    if (this.#options.fsync === 'never' || process.platform === 'win32') return;
    const fd = this.#fs.openSync(this.#options.dir, 'r');
    try {
      this.#fs.fsyncSync(fd);
    } finally {
      this.#fs.closeSync(fd);
    }
  }

  #startTimer(): void {
    if (this.#options.fsync !== 'interval') return;
    this.#timer = setInterval(() => this.syncDirty(), this.#options.fsyncIntervalMs);
    this.#timer.unref();
  }

  /**
   * fdatasyncs every segment written since its last sync, off the event loop ('interval' policy;
   * the timer calls it). A failure makes the set refuse further writes (fsync errors are not
   * retryable: the kernel may already have dropped the pages). Resolves when the syncs finish.
   */
  syncDirty(): Promise<void> {
    if (this.#syncing !== undefined) return this.#syncing;
    const dirty = this.#segments.filter((segment) => segment.dirty);
    if (dirty.length === 0) return Promise.resolve();
    this.#syncing = new Promise((resolve) => {
      let pending = dirty.length;
      for (const segment of dirty) {
        segment.syncInBackground((err) => {
          this.fsyncs++;
          if (err !== null) this.#failure ??= ioError(err, 'fdatasync', { segment: segment.path });
          if (--pending === 0) {
            this.#syncing = undefined;
            resolve();
          }
        });
      }
    });
    return this.#syncing;
  }

  /**
   * Stops the timer, waits for background syncs, fdatasyncs what is still unsynced (unless
   * `fsync` is 'never') and closes every file. Safe twice.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#syncing !== undefined) await this.#syncing;
    let error: ShoalError | undefined;
    for (const segment of this.#segments) {
      try {
        if (segment.dirty && this.#options.fsync !== 'never' && this.#failure === undefined) {
          segment.syncNow();
          this.fsyncs++;
        }
      } catch (err) {
        error ??= ioError(err, 'fdatasync on close', { segment: segment.path });
      }
      try {
        segment.close();
      } catch (err) {
        error ??= ioError(err, 'close', { segment: segment.path });
      }
    }
    if (error !== undefined) throw error;
  }
}
