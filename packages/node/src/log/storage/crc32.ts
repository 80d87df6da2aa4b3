/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) of segment frames. Node has
 * `zlib.crc32` since 20.15 (native, ~1 GB/s); older Node 20 releases get the
 * table-driven fallback below, which yields the same values (a test checks it).
 */
import * as zlib from 'node:zlib';

/** CRC-32 of `data`, continuing from `initial` (default 0). */
export type Crc32 = (data: Uint8Array, initial?: number) => number;

function makeTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const TABLE = makeTable(); // immutable after construction

/** Table-driven CRC-32, one byte per step. */
export function tableCrc32(data: Uint8Array, initial = 0): number {
  let c = ~initial;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// A namespace import, so a Node without zlib.crc32 loads this module and takes the fallback.
const native = (zlib as { crc32?: Crc32 }).crc32;

/** The CRC-32 segments use: zlib's when Node has it, else `tableCrc32`. */
export const crc32: Crc32 = typeof native === 'function' ? native : tableCrc32;
