/**
 * Shared helpers of the consumer-group tests: a state on a ManualClock with a
 * seeded random source, and `caught` for asserting typed errors.
 *
 * Until the log codes are in the @shoal/protocol registry, `ShoalError` cannot
 * be built with them (it reads the spec), so this adds them to the registry of
 * this test process only if missing. Remove once they are registered.
 */
import { isShoalError } from '@shoal/protocol';
import type { GroupPartitionOptions } from '../../../src/log/groups/group-partition-options.js';
import { GroupPartitionState } from '../../../src/log/groups/group-partition-state.js';
import { seededRandom } from '../../../src/membership/random.js';
import { ManualClock } from '../../../src/store/clock.js';

/** The error `fn` throws, or undefined. */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** The code and details.reason of a thrown ShoalError, for compact assertions. */
export function codeOf(fn: () => unknown): string {
  const err = caught(fn);
  if (!isShoalError(err)) return `not a ShoalError: ${String(err)}`;
  const reason = err.details?.reason;
  return reason === undefined ? err.code : `${err.code}:${String(reason)}`;
}

/** A state on topic 'orders' partition 0 group 'billing', jitter off, on a fresh ManualClock. */
export function makeState(overrides: Partial<GroupPartitionOptions> = {}): {
  state: GroupPartitionState;
  clock: ManualClock;
} {
  const clock = overrides.clock instanceof ManualClock ? overrides.clock : new ManualClock(1_000_000);
  const state = new GroupPartitionState({
    topic: 'orders',
    partition: 0,
    group: 'billing',
    startOffset: 0,
    ackTimeoutMs: 1000,
    backoff: { baseMs: 100, maxMs: 1000, factor: 2, jitter: 0 },
    random: seededRandom(7),
    instanceId: 'i1',
    ...overrides,
    clock,
  });
  return { state, clock };
}
