/**
 * Options of one partition log, resolved once (defaults, validation of every
 * field naming it, freeze) so append and read never re-check them. Without
 * `dir` the log lives in memory only; with it, in segment files under `dir`.
 */
import { parseBytes, ShoalError } from '@shoal/protocol';
import { type Clock, systemClock } from '../../store/clock.js';
import { type LogFs, nodeLogFs } from './log-fs.js';

/**
 * When appended data is forced from the OS page cache to the device.
 * A `write()` that returned is in the page cache, so a process crash (kill -9, OOM, exception)
 * never loses it under any policy; only a power failure or kernel crash loses unsynced data:
 * - `'always'`: `append` returns after fdatasync: nothing acknowledged is lost.
 * - `'interval'`: fdatasync every `fsyncIntervalMs` off the event loop: up to that much is lost.
 * - `'never'`: the kernel writes back when it likes (Linux: ~30 s): up to that much is lost.
 */
export type FsyncPolicy = 'always' | 'interval' | 'never';

/** User options of `new PartitionLog(...)`. A memory-only log needs `maxMessages` or `maxBytes`. */
export interface PartitionLogOptions {
  /** Directory of this partition's segment files (created if missing). Default: none, memory only. */
  dir?: string;
  /** Retention: most messages kept. Default: unbounded. */
  maxMessages?: number;
  /** Retention: most bytes kept, bytes or size string (memory: sum of `LogRecord.size`; disk: segment file bytes). Default: unbounded. */
  maxBytes?: number | string;
  /** Retention: messages older than this (by timestamp) are removed, in ms. Default: no age limit. */
  maxAgeMs?: number;
  /** Largest message accepted (`LogRecord.size`), bytes or size string. Default '1mb', at most 1 GiB. */
  maxMessageBytes?: number | string;
  /** Disk: a segment file is rolled once the next frame would take it past this. Default '64mb', 1 KiB..1 GiB. */
  segmentBytes?: number | string;
  /** Disk: when data reaches the device, see `FsyncPolicy`. Default 'interval'. */
  fsync?: FsyncPolicy;
  /** Disk, 'interval' policy: ms between fdatasyncs of written segments. Default 100. */
  fsyncIntervalMs?: number;
  /** Disk: bytes of the newest records kept decoded in memory, so reads near the end never touch the disk. Default '8mb'. */
  tailCacheBytes?: number | string;
  /** Records per in-memory chunk (a power of two from 16 to 65536). Default 1024. */
  chunkRecords?: number;
  /** Memory mode: most records one `enforceRetention` call removes (bounds its pause). Default 65536. */
  maxRetentionWork?: number;
  /** Time source of default timestamps and of `enforceRetention()` without `now`. Default Date.now. */
  clock?: Clock;
  /** File system (tests inject a spy or a failing one). Default node:fs. */
  fs?: LogFs;
}

/** Complete, validated and frozen options. */
export interface ResolvedPartitionLogOptions {
  readonly dir: string | undefined;
  readonly maxMessages: number; // Infinity when unbounded
  readonly maxBytes: number; // Infinity when unbounded
  readonly maxAgeMs: number; // Infinity when unbounded
  readonly maxMessageBytes: number;
  readonly segmentBytes: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly tailCacheBytes: number;
  readonly chunkRecords: number; // power of two
  readonly maxRetentionWork: number;
  readonly clock: Clock;
  readonly fs: LogFs;
}

const KNOWN = new Set([
  'dir',
  'maxMessages',
  'maxBytes',
  'maxAgeMs',
  'maxMessageBytes',
  'segmentBytes',
  'fsync',
  'fsyncIntervalMs',
  'tailCacheBytes',
  'chunkRecords',
  'maxRetentionWork',
  'clock',
  'fs',
]);
const HINTS: Readonly<Record<string, string>> = {
  maxAge: 'maxAgeMs (a number of ms)',
  retentionMs: 'maxAgeMs',
  path: 'dir',
  directory: 'dir',
  segmentSize: 'segmentBytes',
};
const POLICIES: readonly FsyncPolicy[] = ['always', 'interval', 'never'];
const GIB = 1024 * 1024 * 1024;

function invalid(option: string, message: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `${option}: ${message}`, { option });
}

function integerIn(value: unknown, option: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(option, `${JSON.stringify(value)} is not an integer from ${min} to ${max}`);
  }
  return value;
}

function bytesIn(value: unknown, option: string, min: number, max: number): number {
  const bytes = parseBytes(value, option);
  if (bytes < min || bytes > max) throw invalid(option, `${bytes} bytes is outside ${min}..${max}`);
  return bytes;
}

/** Applies defaults, validates every field and freezes the result. */
export function resolvePartitionLogOptions(options: PartitionLogOptions = {}): ResolvedPartitionLogOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) {
      const hint = HINTS[name] === undefined ? '' : ` (did you mean ${HINTS[name]}?)`;
      throw invalid(name, `unknown option${hint}`);
    }
  }
  const dir = options.dir;
  if (dir !== undefined && (typeof dir !== 'string' || dir.length === 0)) {
    throw invalid('dir', 'must be a non-empty path');
  }
  const unbounded = Number.POSITIVE_INFINITY;
  const maxMessages =
    options.maxMessages === undefined ? unbounded : integerIn(options.maxMessages, 'maxMessages', 1, 2 ** 52);
  const maxBytes = options.maxBytes === undefined ? unbounded : bytesIn(options.maxBytes, 'maxBytes', 1, 2 ** 52);
  if (dir === undefined && maxMessages === unbounded && maxBytes === unbounded) {
    throw invalid('maxMessages', 'a memory-only log needs a bound: set maxMessages, maxBytes or both (or dir)');
  }
  let maxAgeMs = unbounded;
  if (options.maxAgeMs !== undefined) {
    if (typeof options.maxAgeMs !== 'number' || !(options.maxAgeMs > 0)) {
      throw invalid('maxAgeMs', `${JSON.stringify(options.maxAgeMs)} is not a positive number of ms`);
    }
    maxAgeMs = options.maxAgeMs;
  }
  const fsync = options.fsync ?? 'interval';
  if (!POLICIES.includes(fsync))
    throw invalid('fsync', `${JSON.stringify(fsync)} is not one of ${POLICIES.join(', ')}`);
  const chunkRecords = integerIn(options.chunkRecords ?? 1024, 'chunkRecords', 16, 65536);
  if ((chunkRecords & (chunkRecords - 1)) !== 0) throw invalid('chunkRecords', `${chunkRecords} is not a power of two`);
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw invalid('clock', 'must have a now() method');
  const fs = options.fs ?? nodeLogFs;
  if (typeof fs?.writeSync !== 'function') throw invalid('fs', 'must implement LogFs');
  return Object.freeze({
    dir,
    maxMessages,
    maxBytes,
    maxAgeMs,
    // 1 GiB caps keep every in-segment position below 2^31 (they are stored in a Uint32Array)
    maxMessageBytes: bytesIn(options.maxMessageBytes ?? '1mb', 'maxMessageBytes', 1, GIB),
    segmentBytes: bytesIn(options.segmentBytes ?? '64mb', 'segmentBytes', 1024, GIB),
    fsync,
    fsyncIntervalMs: integerIn(options.fsyncIntervalMs ?? 100, 'fsyncIntervalMs', 1, 3_600_000),
    tailCacheBytes: bytesIn(options.tailCacheBytes ?? '8mb', 'tailCacheBytes', 0, 2 ** 52),
    chunkRecords,
    maxRetentionWork: integerIn(options.maxRetentionWork ?? 65_536, 'maxRetentionWork', 1, 2 ** 31),
    clock,
    fs,
  });
}
