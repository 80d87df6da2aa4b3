/**
 * Redelivery delay after a failed delivery: exponential with a cap and
 * jitter, so a failing consumer is retried soon at first and then ever less
 * often, and many messages failing together do not come back in one burst.
 */
import type { Random } from '../../membership/random.js';
import type { ResolvedBackoffOptions } from './group-partition-options.js';

/**
 * Delay in ms before the next delivery of a message whose `failures`-th delivery failed (≥ 1):
 * `min(maxMs, baseMs × factor^(failures−1)) × (1 − jitter × r)`, r uniform in [0, 1),
 * rounded up to whole ms, so the result lies in `(capped × (1 − jitter), capped]` for whole-ms settings.
 */
export function backoffDelay(failures: number, backoff: ResolvedBackoffOptions, random: Random): number {
  const exponent = Math.max(0, failures - 1);
  const capped = Math.min(backoff.maxMs, backoff.baseMs * backoff.factor ** exponent);
  if (backoff.jitter === 0) return capped;
  return Math.ceil(capped * (1 - backoff.jitter * random.next()));
}
