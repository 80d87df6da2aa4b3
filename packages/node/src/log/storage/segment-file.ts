/**
 * One segment file of a partition log: an append-only run of frames holding
 * the records from `baseOffset` on, named after that offset so a directory
 * listing sorts segments in log order. Frames check themselves, so recovery
 * tells a torn or corrupt tail from good data with no other file to trust.
 *
 *   00000000000000001000.log                  name: base offset, 20 digits, zero-padded
 *
 *   position 0                                position 8 + n0
 *   v                                         v
 *   +--------+--------+-----------------------+--------+--------+------------- - -
 *   | length | crc32  | payload (n0 bytes)    | length | crc32  | payload ...
 *   | u32 BE | u32 BE | msgpack [1000, ts,    | u32 BE | u32 BE | [1001, ts, ...]
 *   |  = n0  |        |   value, key?, id?,   |  = n1  |        |
 *   |        |        |   headers?]           |        |        |
 *   +--------+--------+-----------------------+--------+--------+------------- - -
 *
 *   length  payload bytes, > 0                crc32  CRC-32 (IEEE) of the payload
 *   offsets inside the payloads run baseOffset, baseOffset + 1, ... with no gap
 *   a file ends on a frame boundary, unless a crash or power loss tore its last write
 *
 * Writes are positional (pwrite at `size`), so a failed partial write is simply
 * overwritten by the next one; the file is never opened O_APPEND.
 */
import { join } from 'node:path';
import { ShoalError } from '@shoal/protocol';
import { crc32 } from './crc32.js';
import type { LogFs } from './log-fs.js';
import type { RecoveryCut } from './log-record.js';
import { FRAME_HEADER_BYTES, type FrameHead, peekFrameHead } from './record-codec.js';

const NAME = /^(\d{20})\.log$/;
const SCAN_WINDOW_BYTES = 1024 * 1024;

/** What a recovery scan of one segment found. */
export interface SegmentScan {
  /** Bytes of whole, valid frames from the start of the file. */
  readonly validBytes: number;
  readonly fileBytes: number;
  readonly records: number;
  /** Why the scan stopped before the end of the file (null: it did not). */
  readonly cut: RecoveryCut | null;
}

/** One open segment file. */
export class SegmentFile {
  readonly baseOffset: number;
  readonly path: string;
  readonly #fs: LogFs;
  #fd: number; // -1 once closed
  /** Bytes of whole frames; the next write goes here. */
  size = 0;
  /** Offset after the last record (== baseOffset when empty). */
  nextOffset: number;
  /** Largest record timestamp (-Infinity when empty). */
  maxTimestamp = Number.NEGATIVE_INFINITY;
  /** Written since the last fdatasync started. */
  dirty = false;
  #syncsInFlight = 0;
  #closeWanted = false;

  private constructor(fs: LogFs, path: string, baseOffset: number, fd: number) {
    this.#fs = fs;
    this.path = path;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.#fd = fd;
  }

  /** `00000000000000001000.log` for base offset 1000. */
  static fileName(baseOffset: number): string {
    return `${String(baseOffset).padStart(20, '0')}.log`;
  }

  /** The base offset a segment file name stands for; undefined for any other file. */
  static parseFileName(name: string): number | undefined {
    const match = NAME.exec(name);
    if (match === null) return undefined;
    const base = Number(match[1]);
    return Number.isSafeInteger(base) ? base : undefined;
  }

  /** Creates an empty segment (replacing a stale file of the same name). */
  static create(fs: LogFs, dir: string, baseOffset: number): SegmentFile {
    const path = join(dir, SegmentFile.fileName(baseOffset));
    return new SegmentFile(fs, path, baseOffset, fs.openSync(path, 'w+'));
  }

  /** Opens an existing segment for recovery (`scan` sets size and offsets). */
  static open(fs: LogFs, dir: string, baseOffset: number): SegmentFile {
    const path = join(dir, SegmentFile.fileName(baseOffset));
    return new SegmentFile(fs, path, baseOffset, fs.openSync(path, 'r+'));
  }

  /** Writes `buf[start, end)` at `size` (whole frames) and advances `size`. */
  write(buf: Uint8Array, start: number, end: number): void {
    let done = start;
    while (done < end) done += this.#fs.writeSync(this.#fd, buf, done, end - done, this.size + (done - start));
    this.size += end - start;
    this.dirty = true;
  }

  /** Reads `length` bytes at `position` (all of them, or SHOAL_LOG_CORRUPT when the file is shorter). */
  read(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    this.#readFully(buf, length, position);
    return buf;
  }

  #readFully(buf: Buffer, length: number, position: number): void {
    let got = 0;
    while (got < length) {
      const n = this.#fs.readSync(this.#fd, buf, got, length - got, position + got);
      if (n === 0) {
        throw new ShoalError('SHOAL_LOG_CORRUPT', `segment ${this.path} is shorter than its index says`, {
          path: this.path,
          position: position + got,
        });
      }
      got += n;
    }
  }

  /** Bytes in the file now (whatever `size` says). */
  fileBytes(): number {
    return this.#fs.fstatSync(this.#fd).size;
  }

  /** Cuts the file to `bytes` (a frame boundary). */
  truncate(bytes: number): void {
    this.#fs.ftruncateSync(this.#fd, bytes);
    this.size = bytes;
    this.dirty = true;
  }

  /** fdatasync now, on this thread. */
  syncNow(): void {
    this.dirty = false;
    this.#fs.fdatasyncSync(this.#fd);
  }

  /** fdatasync on libuv's thread pool; a `close` meanwhile waits for it. */
  syncInBackground(done: (err: Error | null) => void): void {
    this.dirty = false;
    this.#syncsInFlight++;
    this.#fs.fdatasync(this.#fd, (err) => {
      this.#syncsInFlight--;
      if (this.#closeWanted && this.#syncsInFlight === 0) this.#closeFd();
      done(err);
    });
  }

  /** Closes the descriptor (after any background fdatasync). Safe twice. */
  close(): void {
    if (this.#fd < 0 || this.#closeWanted) return;
    if (this.#syncsInFlight > 0) this.#closeWanted = true;
    else this.#closeFd();
  }

  #closeFd(): void {
    const fd = this.#fd;
    this.#fd = -1;
    this.#fs.closeSync(fd);
  }

  /** Closes and deletes the file. */
  remove(): void {
    this.close();
    this.#fs.unlinkSync(this.path);
  }

  /**
   * Recovery: reads every frame from the start, checking length, crc and offset sequence, calls
   * `onFrame` for each good one and stops at the first bad one. Sets `size`, `nextOffset` and
   * `maxTimestamp` to what is good; cutting the rest off is the caller's decision.
   */
  scan(onFrame: (offset: number, timestamp: number, position: number) => void): SegmentScan {
    const fileBytes = this.fileBytes();
    let window = Buffer.allocUnsafe(Math.max(1, Math.min(fileBytes, SCAN_WINDOW_BYTES)));
    let windowStart = 0;
    let windowEnd = 0; // window holds file bytes [windowStart, windowEnd)
    const load = (position: number, bytes: number): number => {
      if (position < windowStart || position + bytes > windowEnd) {
        if (bytes > window.length) window = Buffer.allocUnsafe(bytes);
        const length = Math.min(window.length, fileBytes - position);
        this.#readFully(window, length, position);
        windowStart = position;
        windowEnd = position + length;
      }
      return position - windowStart;
    };
    const head: FrameHead = { offset: 0, timestamp: 0 };
    let position = 0;
    let expected = this.baseOffset;
    let maxTimestamp = Number.NEGATIVE_INFINITY;
    let cut: RecoveryCut | null = null;
    while (position < fileBytes) {
      if (fileBytes - position < FRAME_HEADER_BYTES) {
        cut = 'torn';
        break;
      }
      let at = load(position, FRAME_HEADER_BYTES);
      const length = window.readUInt32BE(at);
      // a zero length is a zero-filled tail (space allocated, data never written)
      if (length === 0 || position + FRAME_HEADER_BYTES + length > fileBytes) {
        cut = 'torn';
        break;
      }
      at = load(position, FRAME_HEADER_BYTES + length);
      const start = at + FRAME_HEADER_BYTES;
      if (crc32(window.subarray(start, start + length)) !== window.readUInt32BE(at + 4)) {
        cut = 'crc';
        break;
      }
      if (!peekFrameHead(window, start, start + length, head) || head.offset !== expected) {
        cut = 'offset';
        break;
      }
      onFrame(expected, head.timestamp, position);
      if (head.timestamp > maxTimestamp) maxTimestamp = head.timestamp;
      expected++;
      position += FRAME_HEADER_BYTES + length;
    }
    this.size = position;
    this.nextOffset = expected;
    this.maxTimestamp = maxTimestamp;
    return { validBytes: position, fileBytes, records: expected - this.baseOffset, cut };
  }
}
