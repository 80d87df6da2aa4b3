/**
 * Virtual time: a clock and timers that only move when told to. State-machine
 * tests advance it synchronously; the simulation and the gossip-cost benchmark
 * run minutes of cluster life in a second, letting promise chains settle
 * between timer firings as they would on a real event loop.
 */
import type { Clock } from '../store/clock.js';
import type { MembershipTimers, TimerHandle } from './timers.js';

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Clock and timers on virtual time (ms). Timers due at the same time run in scheduling order. */
export class VirtualScheduler implements Clock, MembershipTimers {
  private current: number;
  private seq = 0;
  private readonly heap: Entry[] = []; // binary min-heap on (at, seq)
  private readonly live = new Set<number>(); // seqs scheduled and neither run nor cleared

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const entry: Entry = { at: this.current + Math.max(0, ms), seq: ++this.seq, fn: callback };
    this.live.add(entry.seq);
    this.push(entry);
    return entry.seq;
  }

  clearTimeout(handle: TimerHandle): void {
    this.live.delete(handle as number);
  }

  /** Timers scheduled and not yet run or cleared. */
  get pending(): number {
    return this.live.size;
  }

  /** Moves time forward by `ms`, running due timers synchronously (no promise settles in between). */
  advance(ms: number): void {
    const end = this.current + ms;
    for (let e = this.popDue(end); e !== undefined; e = this.popDue(end)) this.fire(e);
    this.current = end;
  }

  /**
   * Moves time forward by `ms`; after each batch of timers due at the same
   * instant, waits for the promise chains they started to settle.
   */
  async run(ms: number): Promise<void> {
    const end = this.current + ms;
    await settle();
    for (let e = this.popDue(end); e !== undefined; e = this.popDue(end)) {
      this.fire(e);
      const at = e.at;
      for (let next = this.popDue(at); next !== undefined; next = this.popDue(at)) this.fire(next);
      await settle();
    }
    this.current = end;
  }

  /** Runs until `condition()` holds or `ms` of virtual time passed; returns whether it holds. */
  async runUntil(condition: () => boolean, ms: number, stepMs = 10): Promise<boolean> {
    const end = this.current + ms;
    while (!condition()) {
      if (this.current >= end) return false;
      await this.run(Math.min(stepMs, end - this.current));
    }
    return true;
  }

  private fire(e: Entry): void {
    this.current = e.at;
    e.fn();
  }

  private popDue(limit: number): Entry | undefined {
    while (this.heap.length > 0 && this.heap[0]!.at <= limit) {
      const top = this.pop();
      if (this.live.delete(top.seq)) return top;
    }
    return undefined;
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
