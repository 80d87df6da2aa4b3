/**
 * The workloads of the `log` scenario, shared by the Shoal node worker and the
 * Redis tasks so both contenders replay the same thing: bursts (N messages in
 * batches of W in flight), counting arrivals on the receiving side, and an
 * open-loop producer at a fixed rate whose messages carry their intended send
 * time, read back by a latency recorder in another process. Every loop is
 * bounded by a count and a deadline.
 */
import { percentile } from '../../lib/stats.js';
import type { BurstParams } from './params.js';

/**
 * Microseconds on the system-wide monotonic clock (`process.hrtime` is
 * CLOCK_MONOTONIC on Linux), so stamps from two processes of one machine compare.
 */
export function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `Date.now()` reaches `at` (no-op if it is past). */
export function until(at: number): Promise<void> {
  const wait = at - Date.now();
  return wait > 0 ? sleep(wait) : Promise.resolve();
}

// ------------------------------------------------------------------ values

/** 'm': a measured message; 'w': a warm-up message (delivered and counted, not sampled). */
export type StampKind = 'm' | 'w';

/** `<kind><us>:` padded with '.' to exactly `bytes` characters. */
export function stampValue(kind: StampKind, us: number, bytes: number): string {
  const head = `${kind}${Math.round(us)}:`;
  if (head.length > bytes) throw new RangeError(`a stamp needs ${head.length} bytes, the value has ${bytes}`);
  return head.padEnd(bytes, '.');
}

/** The stamp of a value made by `stampValue`, or null for anything else (a probe). */
export function readStamp(value: unknown): { readonly kind: StampKind; readonly us: number } | null {
  if (typeof value !== 'string') return null;
  const kind = value[0];
  if (kind !== 'm' && kind !== 'w') return null;
  const end = value.indexOf(':');
  if (end < 2) return null;
  const us = Number(value.slice(1, end));
  return Number.isSafeInteger(us) ? { kind, us } : null;
}

/** The value of every burst message: a stamped value (stamp 0), so receivers can tell it from a probe. */
export const burstValue = (bytes: number): string => stampValue('m', 0, bytes);

// ------------------------------------------------------------------ bursts

/** What one batch of a burst produced. */
export interface BatchOutcome {
  readonly errors: number;
  readonly firstError: string | null;
}

/** What a burst measured on the sending side. */
export interface BurstResult {
  /** Messages sent (errors included). */
  readonly sent: number;
  readonly errors: number;
  readonly firstError: string | null;
  /** monoUs() at the first send and after the last batch completed. */
  readonly startUs: number;
  readonly endUs: number;
  /** Successful messages per second over [startUs, endUs]. */
  readonly perSec: number;
  /** True when the time cap ended the burst before its count. */
  readonly capped: boolean;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Awaits a batch of promises and counts the rejections. */
export async function settleBatch(batch: readonly Promise<unknown>[]): Promise<BatchOutcome> {
  const settled = await Promise.allSettled(batch);
  let errors = 0;
  let firstError: string | null = null;
  for (const s of settled) {
    if (s.status === 'fulfilled') continue;
    errors++;
    firstError ??= message(s.reason);
  }
  return { errors, firstError };
}

/** `sent` messages in `elapsedUs` as a rate (0 for an empty window). */
export function ratePerSec(count: number, elapsedUs: number): number {
  return elapsedUs > 0 ? (count * 1e6) / elapsedUs : 0;
}

/**
 * Sends `spec.messages` in batches of `spec.window` (each batch awaited whole), stopping at `spec.maxMs`;
 * first, untimed, batches through `warmBatch` for `spec.warmupMs` or `spec.warmupMessages`.
 */
export async function runBurst(
  spec: BurstParams,
  sendBatch: (count: number) => Promise<BatchOutcome>,
  warmBatch?: (count: number) => Promise<BatchOutcome>,
): Promise<BurstResult> {
  if (warmBatch !== undefined) {
    const warmDeadline = performance.now() + (spec.warmupMs ?? 0);
    const total = spec.warmupMessages ?? 0;
    for (let warmed = 0; warmed < total && performance.now() < warmDeadline; warmed += spec.window) {
      await warmBatch(Math.min(spec.window, total - warmed)).catch(() => undefined);
    }
  }
  const deadline = performance.now() + spec.maxMs;
  const startUs = monoUs();
  let sent = 0;
  let errors = 0;
  let firstError: string | null = null;
  while (sent < spec.messages && performance.now() < deadline) {
    const n = Math.min(spec.window, spec.messages - sent);
    let outcome: BatchOutcome;
    try {
      outcome = await sendBatch(n);
    } catch (err) {
      outcome = { errors: n, firstError: message(err) };
    }
    sent += n;
    errors += outcome.errors;
    firstError ??= outcome.firstError;
  }
  const endUs = monoUs();
  return {
    sent,
    errors,
    firstError,
    startUs,
    endUs,
    perSec: ratePerSec(sent - errors, endUs - startUs),
    capped: sent < spec.messages,
  };
}

// ------------------------------------------------------------------ arrivals

/** When a receiver stops: at `target` messages, `idleMs` after the last one, or `maxMs` after it started. */
export interface ArrivalSpec {
  readonly target: number;
  readonly idleMs: number;
  readonly maxMs: number;
}

/** What a receiver counted. */
export interface ArrivalResult {
  readonly count: number;
  /** monoUs() when counting started, at the first and at the last message (null: none came). */
  readonly startUs: number;
  readonly firstUs: number | null;
  readonly lastUs: number | null;
  readonly reason: 'target' | 'idle' | 'deadline';
}

/** Counts messages as they arrive; `done` resolves once by the spec's first stop condition. */
export class ArrivalCounter {
  count = 0;
  readonly startUs = monoUs();
  private firstUs: number | null = null;
  private lastUs: number | null = null;
  private resolve!: (r: ArrivalResult) => void;
  private readonly timer: NodeJS.Timeout;
  readonly done: Promise<ArrivalResult>;

  constructor(private readonly spec: ArrivalSpec) {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
    this.timer = setInterval(() => this.check(), Math.max(5, Math.min(50, spec.idleMs / 4)));
    if (spec.target <= 0) this.finish('target');
  }

  /** One message arrived. */
  hit(): void {
    const now = monoUs();
    this.firstUs ??= now;
    this.lastUs = now;
    if (++this.count === this.spec.target) this.finish('target');
  }

  private check(): void {
    const now = monoUs();
    if (this.lastUs !== null && now - this.lastUs > this.spec.idleMs * 1000) this.finish('idle');
    else if (now - this.startUs > this.spec.maxMs * 1000) this.finish('deadline');
  }

  private finish(reason: ArrivalResult['reason']): void {
    clearInterval(this.timer);
    this.resolve({ count: this.count, startUs: this.startUs, firstUs: this.firstUs, lastUs: this.lastUs, reason });
  }
}

// ------------------------------------------------------------------ fixed rate and latency

/** An open-loop producer: `ratePerSec` messages a second for `warmupMs + durationMs`, from `startAt` (Date.now()). */
export interface RateSpec {
  readonly startAt: number;
  readonly ratePerSec: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly valueBytes: number;
}

export interface RateResult {
  /** Messages sent (warm-up included); the receiver expects this many. */
  readonly sent: number;
  readonly warmup: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly lateStartMs: number;
  /** Sends still unsettled when the producer gave up waiting for them. */
  readonly unsettled: number;
}

/** Messages due `elapsedMs` into a run at `ratePerSec`. */
export function dueCount(elapsedMs: number, ratePerSec: number): number {
  return elapsedMs <= 0 ? 0 : Math.floor((elapsedMs * ratePerSec) / 1000);
}

/** Messages a rate spec sends in all, and in its warm-up. */
export function rateTotals(spec: Pick<RateSpec, 'ratePerSec' | 'warmupMs' | 'durationMs'>): {
  total: number;
  warmup: number;
} {
  return {
    total: dueCount(spec.warmupMs + spec.durationMs, spec.ratePerSec),
    warmup: dueCount(spec.warmupMs, spec.ratePerSec),
  };
}

/**
 * Sends at the rate without waiting for replies. Each message carries its
 * intended send time, not the moment the loop got to it, so a stalled producer
 * shows up as latency (no coordinated omission).
 */
export async function runFixedRate(
  spec: RateSpec,
  send: (value: string) => Promise<unknown>,
  settleTimeoutMs = 10_000,
): Promise<RateResult> {
  const { total, warmup } = rateTotals(spec);
  await until(spec.startAt);
  const lateStartMs = Math.max(0, Date.now() - spec.startAt);
  const t0 = performance.now();
  const t0Us = monoUs();
  const hardStop = t0 + spec.warmupMs + spec.durationMs + 5000;
  const pending = new Set<Promise<unknown>>();
  let sent = 0;
  let errors = 0;
  let firstError: string | null = null;
  while (sent < total && performance.now() < hardStop) {
    const due = Math.min(total, dueCount(performance.now() - t0, spec.ratePerSec));
    for (; sent < due; sent++) {
      const intendedUs = t0Us + (sent * 1e6) / spec.ratePerSec;
      const p = send(stampValue(sent < warmup ? 'w' : 'm', intendedUs, spec.valueBytes)).then(
        () => {
          pending.delete(p);
        },
        (err: unknown) => {
          pending.delete(p);
          errors++;
          firstError ??= message(err);
        },
      );
      pending.add(p);
    }
    await sleep(1);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, settleTimeoutMs);
  });
  await Promise.race([Promise.all(pending), timeout]);
  clearTimeout(timer);
  return { sent, warmup: Math.min(sent, warmup), errors, firstError, lateStartMs, unsettled: pending.size };
}

/** Latency percentiles of one run, ms. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** Percentiles of latency samples (ms); null without samples. */
export function summarizeLatency(samplesMs: readonly number[]): LatencySummary | null {
  if (samplesMs.length === 0) return null;
  const sorted = Float64Array.from(samplesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const list = Array.from(sorted);
  return {
    count: sorted.length,
    p50: percentile(list, 50),
    p90: percentile(list, 90),
    p99: percentile(list, 99),
    p999: percentile(list, 99.9),
    max: sorted[sorted.length - 1] as number,
    mean: sum / sorted.length,
  };
}

/** Records send-to-receive latency of stamped values; warm-up and unstamped values are counted, not sampled. */
export class LatencyRecorder {
  readonly samplesMs: number[] = [];
  warmup = 0;
  unstamped = 0;

  add(value: unknown, nowUs = monoUs()): void {
    const stamp = readStamp(value);
    if (stamp === null) this.unstamped++;
    else if (stamp.kind === 'w') this.warmup++;
    else this.samplesMs.push((nowUs - stamp.us) / 1000);
  }
}

/** What a latency receiver reports. */
export interface LatencyResult extends ArrivalResult {
  readonly latency: LatencySummary | null;
  readonly warmup: number;
  readonly unstamped: number;
}

/** Counter and recorder together: the receiving side of the latency test. */
export function latencyReceiver(spec: ArrivalSpec): {
  receive(value: unknown): void;
  done: Promise<LatencyResult>;
} {
  const counter = new ArrivalCounter(spec);
  const recorder = new LatencyRecorder();
  return {
    receive(value) {
      recorder.add(value);
      counter.hit();
    },
    done: counter.done.then((r) => ({
      ...r,
      latency: summarizeLatency(recorder.samplesMs),
      warmup: recorder.warmup,
      unstamped: recorder.unstamped,
    })),
  };
}
