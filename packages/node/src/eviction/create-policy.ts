/**
 * Builds an eviction policy from its configured name, so the store depends on
 * the `EvictionPolicy` interface only and a new policy is one file plus one case here.
 */
import type { EvictionPolicy, EvictionPolicyName } from './eviction-policy.js';
import { LfuPolicy } from './lfu-policy.js';
import { LruPolicy } from './lru-policy.js';
import { TinyLfuPolicy } from './tinylfu-policy.js';

/**
 * Creates the policy called `name`.
 *
 * @param capacityHint expected number of entries: sizes the policy's arrays up
 *   front and its frequency bookkeeping; 0 or a non-finite value when unknown
 *   (a store bounded by bytes), in which case everything follows `resize`.
 * @throws Error for a name that is not an {@link EvictionPolicyName} (the store
 *   validates names first, so this is a programming error).
 */
export function createEvictionPolicy(name: EvictionPolicyName, capacityHint: number): EvictionPolicy {
  switch (name) {
    case 'lru':
      // LruPolicy preallocates exactly its argument, which must be a finite length.
      return new LruPolicy(Number.isFinite(capacityHint) && capacityHint > 0 ? Math.ceil(capacityHint) : 0);
    case 'lfu':
      return new LfuPolicy(capacityHint);
    case 'tinylfu':
      return new TinyLfuPolicy(capacityHint);
    default:
      throw new Error(`unknown eviction policy ${JSON.stringify(name)}: expected lru, lfu or tinylfu`);
  }
}
