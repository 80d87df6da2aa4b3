/**
 * Reads records back from segment files, for offsets the tail cache no longer
 * holds (consumers far behind, warming the cache after a restart). The index
 * knows every frame's position, so a read of k records in one segment is one
 * pread of exactly their bytes, then a crc check and decode of each frame.
 */

import type { LogRecord } from './log-record.js';
import { FRAME_HEADER_BYTES, type RecordCodec } from './record-codec.js';
import type { RecordIndex } from './record-index.js';
import { ioError, type SegmentSet } from './segment-set.js';

/** Positional reads of records from the segment files of one log. */
export class SegmentReader {
  readonly #segments: SegmentSet;
  readonly #index: RecordIndex;
  readonly #codec: RecordCodec;
  /** Records read from files so far. */
  records = 0;

  constructor(segments: SegmentSet, index: RecordIndex, codec: RecordCodec) {
    this.#segments = segments;
    this.#index = index;
    this.#codec = codec;
  }

  /** Payload bytes of record `offset` on disk, from its frame's position and the next one's. */
  frameSize(offset: number): number {
    const segment = this.#segments.segmentOf(offset);
    const next = offset + 1 < segment.nextOffset ? this.#index.position(offset + 1) : segment.size;
    return next - this.#index.position(offset) - FRAME_HEADER_BYTES;
  }

  /**
   * Appends to `out` the records from `offset` (before `stop`, within the segment holding `offset`)
   * that fit `maxMessages` (counting what `out` holds) and `maxBytes` (counting `bytes`, already
   * read; the first record of a read always fits), with one pread. Returns the new byte total.
   * Throws SHOAL_LOG_CORRUPT for a frame that fails its check, SHOAL_LOG_IO_FAILED if the read fails.
   */
  readRun(
    offset: number,
    stop: number,
    maxMessages: number,
    maxBytes: number,
    out: LogRecord[],
    bytes: number,
  ): number {
    const index = this.#index;
    const segment = this.#segments.segmentOf(offset);
    const last = Math.min(stop, segment.nextOffset);
    const start = index.position(offset);
    let end = start;
    let count = out.length;
    let o = offset;
    for (; o < last && count < maxMessages; o++, count++) {
      const next = o + 1 < segment.nextOffset ? index.position(o + 1) : segment.size;
      const size = next - end - FRAME_HEADER_BYTES;
      if (count > 0 && bytes + size > maxBytes) break;
      bytes += size;
      end = next;
    }
    if (o === offset) return bytes;
    let buf: Buffer;
    try {
      buf = segment.read(start, end - start);
    } catch (err) {
      throw ioError(err, 'read', { segment: segment.path, offset });
    }
    let position = 0;
    for (let x = offset; x < o; x++) {
      const record = this.#codec.decodeFrame(buf, position, x, { segment: segment.path, offset: x });
      out.push(record);
      position += FRAME_HEADER_BYTES + record.size;
    }
    this.records += o - offset;
    return bytes;
  }
}
