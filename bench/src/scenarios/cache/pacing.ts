/**
 * An open-loop pacer: operations are issued on a schedule (`rate` per second
 * from the start), not when the previous one finished, so a slow reply shows
 * up as latency instead of silently lowering the offered load. A timer cannot
 * fire every 100 us, so each tick issues every operation that has come due
 * since the last one (the catch-up is what keeps the average rate exact).
 */

/** Operations due by `elapsedMs` at `ratePerSec`, capped at `total`, minus those already `issued`. */
export function dueNow(elapsedMs: number, ratePerSec: number, issued: number, total: number): number {
  if (elapsedMs < 0) return 0;
  const due = Math.min(total, Math.floor((elapsedMs * ratePerSec) / 1000) + 1);
  return Math.max(0, due - issued);
}

/** What a paced run did. */
export interface PacedRun {
  readonly issued: number;
  /** Operations whose promise rejected. */
  readonly errors: number;
  /** Wall ms from the first to the last issue. */
  readonly issueMs: number;
  /** Most operations in flight at once. */
  readonly maxInFlight: number;
}

/**
 * Issues `op(i)` for i in 0..total-1 at `ratePerSec`, stopping early after
 * `maxMs`; waits for every issued operation (bounded by `maxMs` again) before
 * resolving. `onIssue(i)` runs just before op i is called (the caller stamps
 * its issue time there).
 */
export async function runPaced(
  total: number,
  ratePerSec: number,
  maxMs: number,
  op: (i: number) => Promise<unknown>,
  onIssue: (i: number) => void = () => {},
): Promise<PacedRun> {
  const started = performance.now();
  let issued = 0;
  let errors = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const pending = new Set<Promise<unknown>>();
  while (issued < total) {
    const elapsed = performance.now() - started;
    if (elapsed > maxMs) break;
    const due = dueNow(elapsed, ratePerSec, issued, total);
    for (let n = 0; n < due; n++) {
      const i = issued++;
      onIssue(i);
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      const p: Promise<unknown> = op(i).then(
        () => {},
        () => {
          errors++;
        },
      );
      pending.add(p);
      void p.finally(() => {
        inFlight--;
        pending.delete(p);
      });
    }
    // setImmediate, not setTimeout(0): the 1 ms timer floor would batch 10 writes per tick at 10k/s
    await new Promise((resolve) => setImmediate(resolve));
  }
  const issueMs = performance.now() - started;
  const drained = Promise.all(pending);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, maxMs)))]);
  clearTimeout(timer);
  return { issued, errors, issueMs, maxInFlight };
}
