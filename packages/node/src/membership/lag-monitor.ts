/**
 * Event-loop lag measurement, the input that lets a node notice its own stalls
 * (GC, CPU-bound work) before it blames peers for them. Behind an interface so
 * tests and the simulation report the stalls they inject.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Measures how late this process's event loop runs. */
export interface LagMonitor {
  /** Starts measuring (idempotent). */
  start(): void;
  /** Stops measuring and releases resources (idempotent). */
  stop(): void;
  /** Largest event-loop delay since the previous call (or start), in ms; resets the window. */
  takeMaxLagMs(): number;
}

/** A monitor that never reports lag. */
export const noLagMonitor: LagMonitor = { start() {}, stop() {}, takeMaxLagMs: () => 0 };

/**
 * The default monitor: `perf_hooks.monitorEventLoopDelay`, which samples the
 * loop every `resolutionMs` from libuv and costs nothing on the JS side.
 */
export function createEventLoopLagMonitor(resolutionMs = 10): LagMonitor {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  let running = false;
  return {
    start() {
      if (running) return;
      running = true;
      histogram.reset();
      histogram.enable();
    },
    stop() {
      if (!running) return;
      running = false;
      histogram.disable();
    },
    takeMaxLagMs() {
      if (!running || histogram.count === 0) return 0;
      // The histogram records the whole sampling delay; the lag is what exceeds the resolution.
      const lag = Math.max(0, histogram.max / 1e6 - resolutionMs);
      histogram.reset();
      return lag;
    },
  };
}
