import t from 'tap';
import { LfuPolicy } from '../../src/eviction/lfu-policy.js';
import { LruPolicy } from '../../src/eviction/lru-policy.js';
import { TinyLfuPolicy } from '../../src/eviction/tinylfu-policy.js';
import { policyContract } from './policy-contract.js';

t.test('LruPolicy meets the eviction policy contract', (t) => policyContract(t, (capacity) => new LruPolicy(capacity)));

t.test('LfuPolicy meets the eviction policy contract', (t) => policyContract(t, (capacity) => new LfuPolicy(capacity)));

t.test('LfuPolicy meets the eviction policy contract while aging every few accesses', (t) =>
  policyContract(t, (capacity) => new LfuPolicy(capacity, { agingPeriod: 7 })),
);

t.test('TinyLfuPolicy meets the eviction policy contract', (t) =>
  policyContract(t, (capacity) => new TinyLfuPolicy(capacity)),
);

t.test('TinyLfuPolicy meets the eviction policy contract with an unknown capacity hint', (t) =>
  policyContract(t, () => new TinyLfuPolicy(Number.POSITIVE_INFINITY)),
);
