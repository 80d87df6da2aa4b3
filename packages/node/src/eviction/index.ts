/** Eviction policies behind one interface, and the factory the store uses to pick one by name. */

export { createEvictionPolicy } from './create-policy.js';
export type { EvictionPolicy, EvictionPolicyName } from './eviction-policy.js';
export { NO_SLOT } from './eviction-policy.js';
export { hashKey } from './key-hash.js';
export { LfuPolicy, type LfuPolicyOptions } from './lfu-policy.js';
export { LruPolicy } from './lru-policy.js';
export { TinyLfuPolicy } from './tinylfu-policy.js';
