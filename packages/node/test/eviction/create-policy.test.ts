import t from 'tap';
import {
  createEvictionPolicy,
  type EvictionPolicyName,
  LfuPolicy,
  LruPolicy,
  NO_SLOT,
  TinyLfuPolicy,
} from '../../src/eviction/index.js';

t.test('createEvictionPolicy builds the policy named by the option', async (t) => {
  t.type(createEvictionPolicy('lru', 100), LruPolicy);
  t.type(createEvictionPolicy('lfu', 100), LfuPolicy);
  t.type(createEvictionPolicy('tinylfu', 100), TinyLfuPolicy);
  for (const name of ['lru', 'lfu', 'tinylfu'] as const) t.equal(createEvictionPolicy(name, 10).name, name);
  t.equal(NO_SLOT, 0xffffffff);
});

t.test('createEvictionPolicy accepts an unknown capacity hint', async (t) => {
  for (const name of ['lru', 'lfu', 'tinylfu'] as const) {
    for (const hint of [0, Number.POSITIVE_INFINITY, Number.NaN]) {
      const policy = createEvictionPolicy(name, hint);
      policy.resize(2);
      policy.insert(0, 1);
      policy.insert(1, 2);
      t.equal(policy.victim(1), 0, `${name} with hint ${hint}`);
    }
  }
});

t.test('createEvictionPolicy rejects an unknown name with a plain Error', async (t) => {
  const err = t.throws(() => createEvictionPolicy('fifo' as EvictionPolicyName, 10));
  t.equal((err as Error).constructor, Error);
  t.match((err as Error).message, /unknown eviction policy "fifo"/);
});
