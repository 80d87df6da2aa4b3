/**
 * The cache snapshot file format (version 1): a magic, then frames, each with
 * its own CRC, so a reader can stream the file and still refuse a corrupt or
 * truncated one before loading anything. Plain msgpack (no records
 * extension), like the wire, so any msgpack library can read it.
 *
 *   file    = "SHOALSNP" (8 bytes) | formatVersion u16 BE | frame... | trailer frame
 *   frame   = type u8 | length u32 BE | crc32(payload) u32 BE | payload (msgpack, `length` bytes)
 *   type 1  header  { formatVersion, scope, nodeId, writtenAt (wall ms), partitionCount }
 *   type 2  records [ [key, kind, value, ttlMs, version, origin], ... ]   up to RECORDS_PER_FRAME
 *   type 3  trailer { records, frames (records frames) }   last; without it the file is truncated
 *
 * `ttlMs` is the entry's remaining time to live when it was written (0 = none);
 * a loader expires it at writtenAt + ttlMs, so time spent on disk counts. A
 * hash travels as [field, value] pairs and a list as an array, as in replication.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { ShoalError } from '@shoal/protocol';
import { Packr } from 'msgpackr';
import { crc32 } from '../log/storage/crc32.js';
import type { EntryKind } from '../store/local-cache.js';

/** First bytes of every snapshot file. */
export const SNAPSHOT_MAGIC = Buffer.from('SHOALSNP', 'ascii');
/** The format this code writes; readers accept only versions they know. */
export const SNAPSHOT_FORMAT_VERSION = 1;
/** Records per records frame: big enough to amortise the frame, small enough to stream. */
export const RECORDS_PER_FRAME = 256;

export const FRAME_HEADER = 1;
export const FRAME_RECORDS = 2;
export const FRAME_TRAILER = 3;
const FRAME_PREFIX_BYTES = 9;
const MAX_FRAME_BYTES = 1024 * 1024 * 1024; // a records frame of 256 values of at most maxValueBytes each

/** Whose entries a snapshot holds. */
export type SnapshotScope = 'node' | 'cluster';

/** The header frame. */
export interface SnapshotHeader {
  formatVersion: number;
  scope: SnapshotScope;
  nodeId: string;
  writtenAt: number;
  partitionCount: number;
}

/** One entry in the file: [key, kind, value, ttlMs (0 = none), version, origin]. */
export type SnapshotRecord = [
  key: string,
  kind: EntryKind,
  value: unknown,
  ttlMs: number,
  version: number,
  origin: string,
];

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

/** Encodes one frame. */
export function encodeFrame(type: number, payload: unknown): Buffer {
  const body = packr.pack(payload);
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + body.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(body.length, 1);
  frame.writeUInt32BE(crc32(body), 5);
  body.copy(frame, FRAME_PREFIX_BYTES);
  return frame;
}

/** The bytes before the first frame. */
export function fileIntro(): Buffer {
  const intro = Buffer.alloc(SNAPSHOT_MAGIC.length + 2);
  SNAPSHOT_MAGIC.copy(intro, 0);
  intro.writeUInt16BE(SNAPSHOT_FORMAT_VERSION, SNAPSHOT_MAGIC.length);
  return intro;
}

/** Decodes a frame payload. */
export function decodePayload(payload: Uint8Array): unknown {
  return packr.unpack(payload);
}

function corrupt(file: string, reason: string, details: Record<string, unknown> = {}): ShoalError {
  return new ShoalError('SHOAL_SNAPSHOT_CORRUPT', `snapshot ${file} is corrupt: ${reason}`, {
    file,
    reason,
    ...details,
  });
}

/**
 * Streams the frames of `file`, checking magic, version and every CRC; the
 * trailer must come last and its counts must match. Throws SHOAL_SNAPSHOT_*.
 */
export async function* readFrames(
  file: string,
  chunkBytes = 1024 * 1024,
): AsyncGenerator<[type: number, payload: Buffer]> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new ShoalError('SHOAL_SNAPSHOT_IO_FAILED', `cannot open snapshot ${file}: ${(err as Error).message}`, {
      file,
    });
  }
  try {
    let buffer = Buffer.alloc(0);
    let position = 0;
    let eof = false;
    const fill = async (need: number): Promise<boolean> => {
      while (buffer.length < need && !eof) {
        const chunk = Buffer.allocUnsafe(Math.max(chunkBytes, need - buffer.length));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) eof = true;
        position += bytesRead;
        buffer = Buffer.concat([buffer, chunk.subarray(0, bytesRead)]);
      }
      return buffer.length >= need;
    };
    const introBytes = SNAPSHOT_MAGIC.length + 2;
    if (!(await fill(introBytes)) || !buffer.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) {
      throw corrupt(file, 'not a Shoal snapshot (bad magic)');
    }
    const version = buffer.readUInt16BE(SNAPSHOT_MAGIC.length);
    if (version !== SNAPSHOT_FORMAT_VERSION) {
      throw new ShoalError(
        'SHOAL_SNAPSHOT_VERSION',
        `snapshot ${file} has format version ${version}; this node reads ${SNAPSHOT_FORMAT_VERSION}`,
        { file, version },
      );
    }
    buffer = buffer.subarray(introBytes);
    let frames = 0;
    let records = 0;
    for (;;) {
      if (!(await fill(FRAME_PREFIX_BYTES))) {
        if (buffer.length === 0) throw corrupt(file, 'truncated: no trailer', { frames });
        throw corrupt(file, 'truncated frame header', { frames });
      }
      const type = buffer.readUInt8(0);
      const length = buffer.readUInt32BE(1);
      const expected = buffer.readUInt32BE(5);
      if (type < FRAME_HEADER || type > FRAME_TRAILER || length > MAX_FRAME_BYTES)
        throw corrupt(file, 'bad frame header', { frames, type, length });
      if (!(await fill(FRAME_PREFIX_BYTES + length))) throw corrupt(file, 'truncated frame', { frames });
      const payload = buffer.subarray(FRAME_PREFIX_BYTES, FRAME_PREFIX_BYTES + length);
      if (crc32(payload) !== expected) throw corrupt(file, 'checksum mismatch', { frames });
      buffer = buffer.subarray(FRAME_PREFIX_BYTES + length);
      if ((frames === 0) !== (type === FRAME_HEADER)) throw corrupt(file, 'the header must be the first frame only');
      frames++;
      if (type === FRAME_TRAILER) {
        const trailer = decodePayload(payload) as { records?: unknown; frames?: unknown };
        if (trailer.records !== records || trailer.frames !== frames - 2)
          throw corrupt(file, 'trailer counts do not match', { records, frames });
        if ((await fill(1)) || buffer.length > 0) throw corrupt(file, 'bytes after the trailer');
        return;
      }
      if (type === FRAME_RECORDS) {
        const list = decodePayload(payload);
        if (!Array.isArray(list)) throw corrupt(file, 'a records frame is not a list', { frames });
        records += list.length;
      }
      yield [type, payload];
    }
  } finally {
    await handle.close();
  }
}

const KINDS = new Set(['value', 'hash', 'list']);

/** Shape check of one record read back. */
export function isSnapshotRecord(r: unknown): r is SnapshotRecord {
  return (
    Array.isArray(r) &&
    r.length === 6 &&
    typeof r[0] === 'string' &&
    KINDS.has(r[1] as string) &&
    typeof r[3] === 'number' &&
    r[3] >= 0 &&
    typeof r[4] === 'number' &&
    typeof r[5] === 'string' &&
    (r[1] === 'value' || Array.isArray(r[2]))
  );
}
