/**
 * Store operations per second of one node over the last minutes, sampled
 * once a second from its counters, so a dashboard opened now can plot the
 * recent past. A fixed ring of numbers: constant memory, one counter read per
 * sample, nothing on the request path.
 */

/** The history as `GET /v1/node` serves it. */
export interface OpsRates {
  /** Time of the newest sample, ms since the epoch (this node's clock). */
  endAt: number;
  /** Spacing of the samples, in ms. */
  intervalMs: number;
  /** Operations per second, oldest first; one per interval. */
  values: number[];
}

/** Samples a monotonic operation count into per-second rates. */
export class OpsHistory {
  private readonly values: Float64Array; // ring of rates
  private next = 0; // ring index of the next write
  private count = 0;
  private lastTotal: number | undefined;
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param readTotal the count to follow (undefined while unavailable)
   * @param capacity samples kept (300 = five minutes at one a second)
   */
  constructor(
    private readonly readTotal: () => number | undefined,
    private readonly capacity = 300,
    readonly intervalMs = 1000,
  ) {
    this.values = new Float64Array(capacity);
  }

  /** Starts sampling every `intervalMs` (an unref'd timer: it never keeps a process alive). */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.sample(Date.now()), this.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling. Safe twice. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample at `now` (ms): the rate since the previous one. */
  sample(now: number): void {
    const total = this.readTotal();
    if (total === undefined) return;
    if (this.lastTotal !== undefined && now > this.lastAt) {
      this.values[this.next] = Math.max(0, ((total - this.lastTotal) * 1000) / (now - this.lastAt));
      this.next = (this.next + 1) % this.capacity;
      this.count = Math.min(this.capacity, this.count + 1);
    }
    this.lastTotal = total;
    this.lastAt = now;
  }

  /** The kept rates, oldest first. */
  rates(): OpsRates {
    const values: number[] = [];
    for (let i = this.count; i > 0; i--) {
      values.push(Math.round((this.values[(this.next - i + this.capacity) % this.capacity] as number) * 10) / 10);
    }
    return { endAt: this.lastAt, intervalMs: this.intervalMs, values };
  }
}
