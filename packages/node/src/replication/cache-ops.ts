/**
 * Cache operations between nodes: the operation table lives in
 * @shoal/protocol (clients need it too); what only a node does with it is here.
 */
import type { Consistency } from '@shoal/protocol';

export type { Consistency } from '@shoal/protocol';
export { CACHE_OPS, type CacheOpName, type CacheOpSpec, isCacheOp } from '@shoal/protocol';

/** Owners that must acknowledge, out of `owners`, for a consistency level. */
export function requiredAcks(consistency: Consistency, owners: number): number {
  if (consistency === 'one') return 1;
  if (consistency === 'all') return owners;
  return Math.floor(owners / 2) + 1;
}
