/**
 * What a cache worker (cache-worker.ts) can be asked to do. One process holds
 * one cache instance (a Shoal node or a BentoCache instance) and answers
 * commands by name; the scenario (parent) drives several such processes.
 * Times cross processes as wall ms (latency.ts: wallNow).
 */
import type { ShoalNode } from '@shoal/node';
import { type BentoStart, type CacheContender, type ShoalStart, startBento, startShoal } from './contender.js';
import { wallNow } from './latency.js';
import { type PacedRun, runPaced } from './pacing.js';
import { measureLruReads, measureReads, type ReadResult, type ReadSpec } from './read-throughput.js';

/** The paced write workload of the invalidation-latency measurement. */
export interface WriteSpec {
  readonly keys: readonly string[];
  readonly ratePerSec: number;
  readonly maxMs: number;
  readonly valueBytes: number;
}

/** A stampede: `calls` concurrent read-throughs over `keys`, all started at wall time `startAt`. */
export interface StampedeSpec {
  readonly keys: readonly string[];
  readonly calls: number;
  /** Where this process starts in the key list, so processes do not all begin with the same key. */
  readonly offset: number;
  readonly startAt: number;
  /** How long the simulated database query takes. */
  readonly loaderMs: number;
}

export interface StampedeResult {
  readonly loaderCalls: number;
  readonly errors: number;
  /** Wall ms from startAt until the last call returned. */
  readonly ms: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The state of one worker process and its commands. */
export class WorkerCommands {
  private node: ShoalNode | undefined;
  private cache: CacheContender | undefined;
  private readonly drops = new Map<string, number>();
  private watching = false;

  async shoalStart(options: ShoalStart): Promise<{ id: string; address: string }> {
    const { node, contender } = await startShoal(options);
    this.node = node;
    this.cache = contender;
    return { id: node.id, address: node.address };
  }

  async bentoStart(options: BentoStart): Promise<null> {
    this.cache = await startBento(options);
    return null;
  }

  /** Alive members and a fingerprint of the partition table, to wait for a settled cluster. */
  shoalTable(): { alive: number; owners: string } {
    const node = this.requireNode();
    return {
      alive: node.members().filter((m) => m.state === 'alive').length,
      owners: JSON.stringify(node.partitionTable().owners),
    };
  }

  /** `count` keys `<prefix><n>` whose primary is `primary` in this node's table. */
  shoalKeys(args: { prefix: string; count: number; primary: string }): string[] {
    const node = this.requireNode();
    const keys: string[] = [];
    for (let n = 0; keys.length < args.count && n < args.count * 1000; n++) {
      const key = `${args.prefix}${n}`;
      if (node.primaryOf(key) === args.primary) keys.push(key);
    }
    return keys;
  }

  /** Starts (or restarts) recording the first drop of each key. */
  watch(): null {
    this.drops.clear();
    if (!this.watching) {
      this.watching = true;
      this.requireCache().onDrop((key) => {
        if (!this.drops.has(key)) this.drops.set(key, wallNow());
      });
    }
    return null;
  }

  /** This process's wall clock (for the parent's skew estimate). */
  clock(): number {
    return wallNow();
  }

  dropCount(): number {
    return this.drops.size;
  }

  /** Drop time of each key (NaN: never dropped). */
  dropTimes(keys: readonly string[]): Float64Array {
    return Float64Array.from(keys, (key) => this.drops.get(key) ?? Number.NaN);
  }

  async write(args: { key: string; value: string }): Promise<null> {
    await this.requireCache().set(args.key, args.value);
    return null;
  }

  /** Writes every key once, paced; returns each write's issue time. */
  async writePaced(spec: WriteSpec): Promise<{ writtenAt: Float64Array; run: PacedRun }> {
    const cache = this.requireCache();
    const value = 'v'.repeat(spec.valueBytes);
    const writtenAt = new Float64Array(spec.keys.length).fill(Number.NaN);
    const run = await runPaced(
      spec.keys.length,
      spec.ratePerSec,
      spec.maxMs,
      (i) => cache.set(spec.keys[i] as string, value),
      (i) => {
        writtenAt[i] = wallNow();
      },
    );
    return { writtenAt, run };
  }

  async stampede(spec: StampedeSpec): Promise<StampedeResult> {
    const cache = this.requireCache();
    let loaderCalls = 0;
    const loader = async () => {
      loaderCalls++;
      await sleep(spec.loaderMs);
      return 'row';
    };
    await sleep(Math.max(0, spec.startAt - wallNow()));
    let errors = 0;
    const calls: Promise<unknown>[] = [];
    for (let c = 0; c < spec.calls; c++) {
      const key = spec.keys[(spec.offset + c) % spec.keys.length] as string;
      calls.push(
        cache.getOrSet(key, loader).catch(() => {
          errors++;
        }),
      );
    }
    await Promise.all(calls);
    return { loaderCalls, errors, ms: wallNow() - spec.startAt };
  }

  async fill(args: { keys: readonly string[]; valueBytes: number }): Promise<null> {
    const cache = this.requireCache();
    const value = 'v'.repeat(args.valueBytes);
    for (let i = 0; i < args.keys.length; i += 200) {
      await Promise.all(args.keys.slice(i, i + 200).map((key) => cache.set(key, value)));
    }
    return null;
  }

  /**
   * Reads through this node's cache.get, with its near-cache hit ratio over
   * the timed rounds. `bypassNear`: every read names a consistency, which
   * routes it to the primary past the near cache (the same node, the same
   * keys, without the near cache).
   */
  async shoalReads(args: {
    spec: ReadSpec;
    bypassNear: boolean;
  }): Promise<ReadResult & { nearHitRatio: number | null }> {
    const node = this.requireNode();
    const near = args.bypassNear ? undefined : node.nearCache;
    const get = args.bypassNear
      ? (key: string) => node.cache.get(key, { consistency: 'one' })
      : (key: string) => node.cache.get(key);
    let before = near?.stats();
    const result = await measureReads(args.spec, get, () => {
      before = near?.stats();
    });
    const after = near?.stats();
    if (before === undefined || after === undefined) return { ...result, nearHitRatio: null };
    const hits = after.hits - before.hits;
    const misses = after.misses - before.misses;
    return { ...result, nearHitRatio: hits / Math.max(1, hits + misses) };
  }

  lruReads(args: { spec: ReadSpec; valueBytes: number }): Promise<ReadResult> {
    return measureLruReads(args.spec, 'v'.repeat(args.valueBytes));
  }

  async close(): Promise<null> {
    await this.cache?.close();
    return null;
  }

  private requireNode(): ShoalNode {
    if (this.node === undefined) throw new Error('no Shoal node in this worker (shoalStart first)');
    return this.node;
  }

  private requireCache(): CacheContender {
    if (this.cache === undefined) throw new Error('no cache in this worker (shoalStart or bentoStart first)');
    return this.cache;
  }
}
