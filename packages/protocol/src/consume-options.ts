/** Checks and defaults of `consume` options, shared by the node's and the client's consumers. */
import type { ConsumeOptions } from './api.js';
import { ShoalError } from './errors.js';

/** Delivery settings a group's leader applies (the first consumer to reach it fixes them). */
export interface GroupSettings {
  ackTimeoutMs: number;
  maxDeliveries: number;
  maxUnacked: number;
}

/** Validates `consume(topic, options, handler)`; returns the handler concurrency and the group settings. */
export function resolveConsumeOptions(
  options: ConsumeOptions,
  handler: unknown,
): { concurrency: number; settings: GroupSettings } {
  if (typeof options?.group !== 'string' || options.group.length === 0 || options.group.length > 200) {
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'consume needs a group name of 1-200 characters');
  }
  if (typeof handler !== 'function') throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'consume needs a handler function');
  const int = (v: number | undefined, name: string, def: number) => {
    const n = v ?? def;
    if (!Number.isSafeInteger(n) || n < 1)
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `${name} must be a positive integer`);
    return n;
  };
  return {
    concurrency: int(options.concurrency, 'concurrency', 16),
    settings: {
      ackTimeoutMs: int(options.ackTimeoutMs, 'ackTimeoutMs', 30_000),
      maxDeliveries: int(options.maxDeliveries, 'maxDeliveries', 5),
      maxUnacked: int(options.maxUnacked, 'maxUnacked', 1000),
    },
  };
}
