import t, { type Test } from 'tap';
import type { ShoalNode } from '../../src/index.js';
import type { ConsumedMessage } from '../../src/log/consumer.js';
import { type IdempotencyCache, idempotent } from '../../src/log/idempotent-consumer.js';
import { eventually, startCluster } from '../cluster/helpers.js';

/** A topic of one partition holding `values`, appended with ids `<topic>-<i>` (or none when `withIds` is false). */
async function topicWith(node: ShoalNode, topic: string, values: unknown[], withIds = true) {
  await node.log.createTopic(topic, { partitions: 1 });
  for (const [i, v] of values.entries()) await node.log.append(topic, v, withIds ? { id: `${topic}-${i}` } : {});
}

/** Consumes `topic` from the start with `handler`; closes at teardown. */
function consume(t: Test, node: ShoalNode, topic: string, handler: (m: ConsumedMessage) => unknown, concurrency = 4) {
  const consumer = node.log.consume(topic, { group: 'g', from: 'earliest', concurrency, maxDeliveries: 10 }, handler);
  t.teardown(() => consumer.close());
  return consumer;
}

async function drained(t: Test, node: ShoalNode, topic: string) {
  await eventually(
    t,
    `${topic} fully acked`,
    async () => (await node.log.lag(topic, 'g')).every((p) => p.lag === 0 && p.unacked === 0),
    20_000,
  );
}

const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

t.test(
  'idempotent skips redeliveries of processed messages (ack lost after the marker), with and without ids',
  async (t) => {
    const [a, b] = (await startCluster(t, 2)) as [ShoalNode, ShoalNode];
    await topicWith(a, 'pay', ['p0', 'p1', 'p2']);
    await a.log.append('pay', 'anonymous-3'); // no producer id: keyed by partition and offset
    await a.log.append('pay', 'anonymous-4');
    const effects = new Map<string, number>();
    const handle = idempotent((m) => void count(effects, m.value as string), {
      cache: b.cache,
      ttl: '1h',
      keyPrefix: 'pay/g:',
    });
    const deliveries = new Map<string, number>();
    consume(t, b, 'pay', async (m) => {
      count(deliveries, m.value as string);
      await handle(m);
      if (m.deliveries === 1 && m.offset % 2 === 0) throw new Error('crashed before the ack'); // redelivered
      if (m.deliveries === 1) m.nack(1); // redelivered too, at once
    });
    await eventually(t, 'every message redelivered and skipped', () => handle.stats.skipped === 5, 20_000);
    await drained(t, b, 'pay');
    t.same([...effects.values()], [1, 1, 1, 1, 1], 'one side effect per message');
    t.same(
      [...deliveries.values()].every((n) => n >= 2),
      true,
      'each delivered at least twice',
    );
    t.match(handle.stats, { processed: 5, skipped: 5, released: 0 });
    t.equal(await b.cache.get('pay/g:pay-0'), 'done');
    t.equal(await b.cache.get('pay/g:p0@3'), 'done', 'an id-less message is keyed p<partition>@<offset>');
  },
);

t.test('idempotent releases the lease when the handler throws or nacks: the redelivery runs it again', async (t) => {
  const [a] = (await startCluster(t, 2)) as [ShoalNode, ShoalNode];
  await topicWith(a, 'jobs', ['throws-once', 'nacks-once', 'fine']);
  const completed = new Map<string, number>();
  const attempts = new Map<string, number>();
  const handle = idempotent(
    (m) => {
      const v = m.value as string;
      const n = count(attempts, v).get(v) as number;
      if (v === 'throws-once' && n === 1) throw new Error('no side effect committed');
      if (v === 'nacks-once' && n === 1) return m.nack(1);
      count(completed, v);
    },
    { cache: a.cache, ttl: 60_000, keyPrefix: 'jobs/g:' },
  );
  consume(t, a, 'jobs', handle);
  await eventually(t, 'all three completed', () => completed.size === 3, 20_000);
  await drained(t, a, 'jobs');
  t.same(Object.fromEntries(completed), { 'throws-once': 1, 'nacks-once': 1, fine: 1 });
  t.same(Object.fromEntries(attempts), { 'throws-once': 2, 'nacks-once': 2, fine: 1 });
  t.match(handle.stats, { processed: 3, released: 2, skipped: 0 });
});

t.test(
  "idempotent: a crashed holder's processing marker delays the message until the lease ends, then it runs (never skipped)",
  async (t) => {
    const [a, b] = (await startCluster(t, 2)) as [ShoalNode, ShoalNode];
    await topicWith(a, 'crash', ['half-done']);
    // what a consumer killed inside the handler leaves behind: a live lease and no 'done'
    const started = Date.now(); // before the set: the marker's 300 ms count from a later instant
    await a.cache.set('crash/g:crash-0', 'processing', { ttl: 300 });
    let ranAt = 0;
    const handle = idempotent(
      () => {
        ranAt = Date.now();
      },
      { cache: b.cache, ttl: '1h', lease: 300, keyPrefix: 'crash/g:' },
    );
    consume(t, b, 'crash', handle);
    await eventually(t, 'the message ran once the lease expired', () => handle.stats.processed === 1, 20_000);
    await drained(t, b, 'crash');
    t.ok(handle.stats.deferred >= 1, `deferred ${handle.stats.deferred} time(s) while the lease lived`);
    t.ok(ranAt - started >= 299, `it ran after the lease, not before (${ranAt - started} ms)`);
    t.equal(handle.stats.skipped, 0, 'at-least-once: a processing marker is never taken for done');
  },
);

t.test(
  'idempotent: two deliveries of one id at once run the handler once; the lease is renewed past its length',
  async (t) => {
    const [a] = (await startCluster(t, 2)) as [ShoalNode, ShoalNode];
    await a.log.createTopic('dup', { partitions: 1 });
    // the same business event appended twice under different producer ids (a retry past the dedupe window)
    await a.log.append('dup', { orderId: 'o-1', attempt: 1 }, { id: 'x-1' });
    await a.log.append('dup', { orderId: 'o-1', attempt: 2 }, { id: 'x-2' });
    let effects = 0;
    const handle = idempotent(
      async () => {
        effects++;
        // hold the lease well past its 150 ms: only renewal keeps the other copy waiting
        await eventually(t, 'the other copy was deferred twice', () => handle.stats.deferred >= 2, 20_000);
      },
      {
        cache: a.cache,
        ttl: '1h',
        lease: 150,
        keyPrefix: 'dup/g:',
        idOf: (m) => (m.value as { orderId: string }).orderId,
      },
    );
    consume(t, a, 'dup', handle, 2);
    await eventually(t, 'the copy was skipped after the first finished', () => handle.stats.skipped === 1, 20_000);
    await drained(t, a, 'dup');
    t.equal(effects, 1, 'one side effect');
    t.match(handle.stats, { processed: 1, skipped: 1 });
    t.equal(await a.cache.get('dup/g:o-1'), 'done');
    t.ok((await a.cache.ttl('dup/g:o-1')) > 60_000, "'done' keeps its ttl (a late renewal did not cut it)");
  },
);

t.test(
  'idempotent: a cache failure before the handler redelivers (nothing skipped on a guess); after it, acks',
  async (t) => {
    const down = new Error('cache unreachable');
    const markers = new Map<string, unknown>();
    let failSet = (_k: string, _v: unknown) => false;
    const cache: IdempotencyCache = {
      async set(k, v, o) {
        if (failSet(k, v)) throw down;
        if (o?.nx && markers.has(k)) return false;
        markers.set(k, v);
        return true;
      },
      async get(k) {
        return markers.get(k);
      },
      async delete(k) {
        return markers.delete(k);
      },
    };
    const errors: unknown[] = [];
    let runs = 0;
    const handle = idempotent(
      () => {
        runs++;
      },
      { cache, ttl: 1000, onError: (err) => errors.push(err) },
    );
    const message = (id: string): ConsumedMessage => ({
      extend: async () => {},
      value: 1,
      key: undefined,
      id,
      headers: {},
      partition: 0,
      offset: 0,
      timestamp: 0,
      deliveries: 1,
      nack() {},
    });
    failSet = (_k, v) => v === 'processing';
    await t.rejects(handle(message('a')), down);
    t.equal(runs, 0);
    failSet = (_k, v) => v === 'done';
    await handle(message('a'));
    t.equal(runs, 1);
    t.same(errors, [down], 'reported, and the message is acked');
    t.equal(markers.get('shoal:idem:a'), 'processing', 'the lease will expire on its own');
  },
);

t.test('idempotent validates its options, naming the option', async (t) => {
  const cache = { set: async () => true, get: async () => undefined, delete: async () => true };
  const h = () => {};
  const bad = (option: string) => ({ code: 'SHOAL_CONFIG_INVALID', details: { option } });
  t.throws(() => idempotent(h, { cache } as never), bad('ttl'));
  t.throws(() => idempotent(h, { cache: {} as IdempotencyCache, ttl: 1 }), bad('cache'));
  t.throws(() => idempotent(h, { cache, ttl: 'soon' }), bad('ttl'));
  t.throws(() => idempotent(h, { cache, ttl: 0 }), bad('ttl'));
  t.throws(() => idempotent(h, { cache, ttl: 1, lease: 1 }), bad('lease'));
  t.throws(() => idempotent(h, { cache, ttl: 1, idOf: 'id' as never }), bad('idOf'));
  t.throws(() => idempotent('h' as never, { cache, ttl: 1 }), bad('handler'));
  t.type(idempotent(h, { cache, ttl: '10m' }).stats, 'object');
});
