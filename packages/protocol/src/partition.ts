/**
 * Key → partition, as every node computes it: xxhash32 (seed 0) of the key's
 * UTF-8 bytes, modulo the cluster's partition count. It lives here, in plain
 * synchronous JavaScript, so the client routes a key to the same partition as
 * the nodes (which hash with xxhash-wasm) without depending on @shoal/node;
 * a node test checks both agree on many keys.
 */

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const round = (acc: number, lane: number) => Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
const readU32 = (b: Uint8Array, i: number) =>
  ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24)) >>> 0;

/** xxhash32 of `bytes[0..length)` with `seed`, as an unsigned 32-bit integer. */
export function xxhash32Bytes(bytes: Uint8Array, length = bytes.length, seed = 0): number {
  let i = 0;
  let h: number;
  if (length >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    for (; i <= length - 16; i += 16) {
      v1 = round(v1, readU32(bytes, i));
      v2 = round(v2, readU32(bytes, i + 4));
      v3 = round(v3, readU32(bytes, i + 8));
      v4 = round(v4, readU32(bytes, i + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + length) | 0;
  for (; i <= length - 4; i += 4) h = Math.imul(rotl((h + Math.imul(readU32(bytes, i), P3)) | 0, 17), P4);
  for (; i < length; i++) h = Math.imul(rotl((h + Math.imul(bytes[i] as number, P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

const encoder = new TextEncoder();
// keys are at most a few KB; one reusable buffer keeps hashing allocation-free
let scratch = new Uint8Array(1024);

/** xxhash32 (seed 0) of the UTF-8 bytes of `key`: the hash every node places keys with. */
export function hashKeyForPartition(key: string): number {
  // UTF-8 takes at most 3 bytes per UTF-16 unit
  if (key.length * 3 > scratch.length) scratch = new Uint8Array(key.length * 3);
  // ASCII keys (the usual ones) are their own UTF-8: copying them is about half the cost of a native encodeInto call
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    if (unit > 0x7f) {
      const { written } = encoder.encodeInto(key, scratch);
      return xxhash32Bytes(scratch, written, 0);
    }
    scratch[i] = unit;
  }
  return xxhash32Bytes(scratch, key.length, 0);
}

/** The partition (0 .. partitionCount - 1) that owns `key` in a cluster of `partitionCount` partitions. */
export function partitionOf(key: string, partitionCount: number): number {
  return hashKeyForPartition(key) % partitionCount;
}
