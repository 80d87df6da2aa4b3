/**
 * The 32-bit hash the ring runs on. Every placement decision (key → partition,
 * member → its preference order) goes through one injected `HashFunction`, so
 * tests can pass a hand-checkable hash and production passes xxhash32.
 * xxhash-wasm needs an async WebAssembly instantiation, hence `createXxHash32`.
 */
import { ShoalError } from '@shoal/protocol';
import xxhash from 'xxhash-wasm';

/** Maps a string to an unsigned 32-bit integer. Must be pure: the same input always gives the same output. */
export type HashFunction = (input: string) => number;

/**
 * Seed of the production hash. Part of the cluster protocol: changing it remaps
 * every key, so all nodes and clients must agree. 0 is xxh32's stock seed, so a
 * client in another language computes partitions with any standard xxh32.
 */
export const XXHASH32_SEED = 0;

type XxHashApi = Awaited<ReturnType<typeof xxhash>>;

// The compiled WebAssembly module is immutable and shared by every node in the
// process, so instantiating it once is safe (no per-node state lives here).
let api: Promise<XxHashApi> | undefined;

/**
 * Returns xxhash32 (xxhash-wasm `h32`) of the UTF-8 bytes of its input, with `seed`.
 * The WebAssembly module is instantiated on the first call and reused afterwards.
 */
export async function createXxHash32(seed: number = XXHASH32_SEED): Promise<HashFunction> {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', `seed: ${seed} is not an unsigned 32-bit integer`, { seed });
  }
  api ??= xxhash();
  const { h32 } = await api;
  return (input: string): number => h32(input, seed);
}
