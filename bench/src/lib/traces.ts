/**
 * Synthetic cache access traces: arrays of key ids in [0, keySpace), each a
 * pure function of its spec (seeded), so every contender and every worker
 * process replays the same accesses. Shapes follow the classic cache-policy
 * literature: skewed popularity (Zipf), a hot set polluted by repeated scans
 * (where LRU is weakest), and a working set that moves (where pure frequency
 * is weakest).
 */
import { Prng } from './prng.js';
import { ZipfGenerator } from './zipf.js';

/** Zipf popularity over the whole key space; ranks are mapped to key ids by a seeded permutation. */
export interface ZipfTraceSpec {
  readonly kind: 'zipf';
  readonly keySpace: number;
  readonly length: number;
  readonly seed: number;
  /** Skew exponent (0.8 mild, 0.99 typical web cache). */
  readonly s: number;
}

/**
 * A hot set read with Zipf popularity, interrupted at a fixed period by a full
 * sequential scan of a larger, disjoint key range (the same range every time).
 *
 *   |--- hot (Zipf) ---|scan 0..R-1|--- hot ---|scan 0..R-1| ...
 */
export interface LoopScanTraceSpec {
  readonly kind: 'loop-scan';
  readonly keySpace: number;
  readonly length: number;
  readonly seed: number;
  /** Hot set size as a fraction of the key space. */
  readonly hotFraction: number;
  /** Skew of popularity inside the hot set. */
  readonly hotS: number;
  /** Scanned range size as a fraction of the key space (disjoint from the hot set). */
  readonly scanFraction: number;
  /** Hot accesses between two scans. */
  readonly hotRun: number;
}

/**
 * A hot set read with Zipf popularity that jumps to a new random region of the
 * key space every `shiftEvery` accesses; `noise` of the accesses are uniform
 * over the whole key space.
 */
export interface ShiftingTraceSpec {
  readonly kind: 'shifting';
  readonly keySpace: number;
  readonly length: number;
  readonly seed: number;
  readonly hotFraction: number;
  readonly hotS: number;
  readonly shiftEvery: number;
  /** Fraction of accesses drawn uniformly from the whole key space. */
  readonly noise: number;
}

export type TraceSpec = ZipfTraceSpec | LoopScanTraceSpec | ShiftingTraceSpec;

/** Builds the trace a spec describes. */
export function generateTrace(spec: TraceSpec): Uint32Array {
  if (!Number.isSafeInteger(spec.keySpace) || spec.keySpace < 2) throw new RangeError('trace: keySpace must be >= 2');
  if (!Number.isSafeInteger(spec.length) || spec.length < 1) throw new RangeError('trace: length must be >= 1');
  switch (spec.kind) {
    case 'zipf':
      return zipfTrace(spec);
    case 'loop-scan':
      return loopScanTrace(spec);
    case 'shifting':
      return shiftingTrace(spec);
  }
}

function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function zipfTrace(spec: ZipfTraceSpec): Uint32Array {
  const rng = new Prng(spec.seed);
  // Hot keys scattered over the id space, so hash-based structures see no pattern.
  const rankToKey = rng.shuffle(identity(spec.keySpace));
  const zipf = new ZipfGenerator(spec.keySpace, spec.s, rng);
  const trace = new Uint32Array(spec.length);
  for (let i = 0; i < trace.length; i++) trace[i] = rankToKey[zipf.next()] as number;
  return trace;
}

function loopScanTrace(spec: LoopScanTraceSpec): Uint32Array {
  const rng = new Prng(spec.seed);
  const hotSize = Math.max(1, Math.round(spec.keySpace * spec.hotFraction));
  const scanSize = Math.max(1, Math.round(spec.keySpace * spec.scanFraction));
  if (hotSize + scanSize > spec.keySpace) throw new RangeError('trace: hot set and scan range exceed the key space');
  const ids = rng.shuffle(identity(spec.keySpace));
  const zipf = new ZipfGenerator(hotSize, spec.hotS, rng);
  const trace = new Uint32Array(spec.length);
  let i = 0;
  while (i < trace.length) {
    for (let h = 0; h < spec.hotRun && i < trace.length; h++) trace[i++] = ids[zipf.next()] as number;
    for (let k = 0; k < scanSize && i < trace.length; k++) trace[i++] = ids[hotSize + k] as number;
  }
  return trace;
}

function shiftingTrace(spec: ShiftingTraceSpec): Uint32Array {
  const rng = new Prng(spec.seed);
  const hotSize = Math.max(1, Math.round(spec.keySpace * spec.hotFraction));
  const ids = rng.shuffle(identity(spec.keySpace));
  const zipf = new ZipfGenerator(hotSize, spec.hotS, rng);
  const trace = new Uint32Array(spec.length);
  let base = 0;
  for (let i = 0; i < trace.length; i++) {
    if (i % spec.shiftEvery === 0) base = rng.nextInt(spec.keySpace - hotSize + 1);
    trace[i] =
      rng.nextFloat() < spec.noise ? (ids[rng.nextInt(spec.keySpace)] as number) : (ids[base + zipf.next()] as number);
  }
  return trace;
}
