/**
 * Records to segment frames and back (the frame layout is drawn in
 * segment-file.ts). A payload is the plain msgpack array
 * `[offset, timestamp, value, key?, id?, headers?]` (trailing absent fields
 * left out, absent middle ones nil): any msgpack library can read a segment,
 * and offset and timestamp come first so recovery reads them without decoding
 * the value. Frames of one append are encoded into one reused batch buffer,
 * which the segment writes with one system call.
 */
import { ShoalError } from '@shoal/protocol';
import { Packr } from 'msgpackr';
import { crc32 } from './crc32.js';
import type { LogRecord } from './log-record.js';

/** Bytes before each payload: u32 length + u32 crc32, big-endian. */
export const FRAME_HEADER_BYTES = 8;

const INITIAL_BATCH_BYTES = 64 * 1024;
const KEPT_BATCH_BYTES = 4 * 1024 * 1024; // a batch buffer grown past this is released after use

/** Offset and timestamp read from the front of a payload. */
export interface FrameHead {
  offset: number;
  timestamp: number;
}

/** Encodes frames into a batch buffer and decodes them back. One per log (the batch is reused). */
export class RecordCodec {
  // Plain msgpack (no records extension), as on the wire: a segment is readable without Shoal.
  readonly #packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });
  #batch = Buffer.allocUnsafe(INITIAL_BATCH_BYTES);
  #used = 0;

  /** The frames encoded since `resetBatch`, in `batch[0, used)`. */
  get batch(): Buffer {
    return this.#batch;
  }

  get used(): number {
    return this.#used;
  }

  /** Starts a new batch (releasing an oversized buffer from the previous one). */
  resetBatch(): void {
    if (this.#batch.length > KEPT_BATCH_BYTES) this.#batch = Buffer.allocUnsafe(INITIAL_BATCH_BYTES);
    this.#used = 0;
  }

  /**
   * Appends one record's frame to the batch and returns its payload size. Throws SHOAL_VALUE_INVALID
   * when msgpack refuses the value (callers check the value first; this is the last line).
   */
  appendFrame(
    offset: number,
    timestamp: number,
    value: unknown,
    key: string | undefined,
    id: string | undefined,
    headers: Record<string, string> | undefined,
  ): number {
    const fields =
      headers !== undefined
        ? [offset, timestamp, value, key ?? null, id ?? null, headers]
        : id !== undefined
          ? [offset, timestamp, value, key ?? null, id]
          : key !== undefined
            ? [offset, timestamp, value, key]
            : [offset, timestamp, value];
    let payload: Buffer;
    try {
      payload = this.#packr.pack(fields);
    } catch (err) {
      throw new ShoalError(
        'SHOAL_VALUE_INVALID',
        `value cannot be encoded: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
    const frameEnd = this.#used + FRAME_HEADER_BYTES + payload.length;
    if (frameEnd > this.#batch.length) {
      const grown = Buffer.allocUnsafe(Math.max(frameEnd, this.#batch.length * 2));
      this.#batch.copy(grown, 0, 0, this.#used);
      this.#batch = grown;
    }
    this.#batch.writeUInt32BE(payload.length, this.#used);
    this.#batch.writeUInt32BE(crc32(payload), this.#used + 4);
    payload.copy(this.#batch, this.#used + FRAME_HEADER_BYTES);
    this.#used = frameEnd;
    return payload.length;
  }

  /**
   * Decodes the frame at `buf[pos]` (header included), checking its crc and that it holds
   * `expectedOffset`. Throws SHOAL_LOG_CORRUPT otherwise (`where` goes into the details).
   */
  decodeFrame(buf: Buffer, pos: number, expectedOffset: number, where: Record<string, unknown>): LogRecord {
    const length = buf.readUInt32BE(pos);
    const start = pos + FRAME_HEADER_BYTES;
    const payload = buf.subarray(start, start + length);
    if (payload.length !== length || crc32(payload) !== buf.readUInt32BE(pos + 4)) {
      throw new ShoalError('SHOAL_LOG_CORRUPT', `frame of offset ${expectedOffset} fails its crc check`, where);
    }
    const fields = this.#packr.unpack(payload) as unknown[];
    if (!Array.isArray(fields) || fields.length < 3 || fields[0] !== expectedOffset) {
      throw new ShoalError('SHOAL_LOG_CORRUPT', `frame does not hold offset ${expectedOffset}`, where);
    }
    return {
      offset: expectedOffset,
      timestamp: fields[1] as number,
      key: (fields[3] ?? undefined) as string | undefined,
      id: (fields[4] ?? undefined) as string | undefined,
      headers: (fields[5] ?? undefined) as Record<string, string> | undefined,
      value: fields[2],
      size: length,
    };
  }
}

// Bytes after the type byte of a msgpack number; -1 when `t` does not start a number.
function numberWidth(t: number): number {
  if (t <= 0x7f || t >= 0xe0) return 0; // positive and negative fixint
  switch (t) {
    case 0xcc:
    case 0xd0:
      return 1;
    case 0xcd:
    case 0xd1:
      return 2;
    case 0xca:
    case 0xce:
    case 0xd2:
      return 4;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 8;
    default:
      return -1;
  }
}

// The msgpack number at buf[p], whose type byte `t` has passed numberWidth.
function readNumber(buf: Buffer, p: number, t: number): number {
  switch (t) {
    case 0xcc:
      return buf.readUInt8(p + 1);
    case 0xcd:
      return buf.readUInt16BE(p + 1);
    case 0xce:
      return buf.readUInt32BE(p + 1);
    case 0xcf:
      return Number(buf.readBigUInt64BE(p + 1));
    case 0xd0:
      return buf.readInt8(p + 1);
    case 0xd1:
      return buf.readInt16BE(p + 1);
    case 0xd2:
      return buf.readInt32BE(p + 1);
    case 0xd3:
      return Number(buf.readBigInt64BE(p + 1));
    case 0xca:
      return buf.readFloatBE(p + 1);
    case 0xcb:
      return buf.readDoubleBE(p + 1);
    default:
      return t <= 0x7f ? t : t - 0x100;
  }
}

/**
 * Reads offset and timestamp from the front of the payload in `buf[start, end)` without decoding the
 * rest (recovery reads every frame of every segment). False when the payload does not start as a
 * record does.
 */
export function peekFrameHead(buf: Buffer, start: number, end: number, out: FrameHead): boolean {
  if (start >= end) return false;
  const t = buf[start]!;
  let p: number;
  if (t >= 0x93 && t <= 0x9f) p = start + 1;
  else if (t === 0xdc) p = start + 3;
  else if (t === 0xdd) p = start + 5;
  else return false;
  if (p >= end) return false;
  const offsetWidth = numberWidth(buf[p]!);
  if (offsetWidth < 0 || p + 1 + offsetWidth >= end) return false;
  const offset = readNumber(buf, p, buf[p]!);
  p += 1 + offsetWidth;
  const timestampWidth = numberWidth(buf[p]!);
  if (timestampWidth < 0 || p + 1 + timestampWidth > end) return false;
  const timestamp = readNumber(buf, p, buf[p]!);
  if (!Number.isSafeInteger(offset) || offset < 0 || Number.isNaN(timestamp)) return false;
  out.offset = offset;
  out.timestamp = timestamp;
  return true;
}
