import { ShoalError } from '@shoal/protocol';
import t from 'tap';
import type { AppendReceipt } from '../../../src/log/message-log.js';
import {
  type OutboxPublisher,
  OutboxRelay,
  type OutboxRelayOptions,
  type RelayedMessage,
} from '../../../src/log/outbox/outbox-relay.js';
import type { OutboxMessage, OutboxRow } from '../../../src/log/outbox/outbox-store.js';
import type { AppendOptions } from '../../../src/log/topic-options.js';
import { ManualClock } from '../../../src/store/clock.js';
import { eventually } from '../../cluster/helpers.js';
import { MemoryOutbox } from './memory-outbox.js';

/** A log without sockets: dedupes by id like the real one; `fail` decides per call whether to throw. */
class FakeLog implements OutboxPublisher {
  readonly records: { topic: string; value: unknown; options: AppendOptions }[] = [];
  readonly calls: string[] = [];
  fail: (topic: string, value: unknown, options: AppendOptions) => Error | undefined = () => undefined;
  async append(topic: string, value: unknown, options: AppendOptions): Promise<AppendReceipt> {
    await Promise.resolve();
    this.calls.push(options.id as string);
    const err = this.fail(topic, value, options);
    if (err !== undefined) throw err;
    const seen = this.records.findIndex((r) => r.options.id === options.id);
    if (seen >= 0) return { partition: 0, offset: seen, duplicate: true };
    this.records.push({ topic, value, options });
    return { partition: 0, offset: this.records.length - 1, duplicate: false };
  }
}

function setup(rows: OutboxMessage[], options: Partial<OutboxRelayOptions> = {}) {
  const store = new MemoryOutbox();
  const ids = store.transaction((tx) => rows.map((m) => store.enqueue(m, tx)));
  const log = new FakeLog();
  const relay = new OutboxRelay({ store, log, idPrefix: 'ob1:', retryBackoffMs: 1, pollIntervalMs: 5, ...options });
  return { store, ids, log, relay };
}

const unavailable = () => new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', 'down');
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

t.test('OutboxRelay appends each row with idPrefix + row id, in row order per key, then marks it sent', async (t) => {
  const { store, ids, log, relay } = setup([
    { topic: 'orders', key: 'c1', value: 1, headers: { h: 'x' } },
    { topic: 'orders', key: 'c2', value: 2 },
    { topic: 'orders', key: 'c1', value: 3 },
    { topic: 'audit', value: 4 },
  ]);
  const events: RelayedMessage[] = [];
  relay.on('relayed', (m) => events.push(m));
  const r = await relay.flushOnce();
  t.same(r, { read: 4, relayed: 4, failed: 0, parked: 0 });
  t.same(
    log.records
      .map((x) => [x.topic, x.value, x.options.id, x.options.key, x.options.acks])
      .sort((a, b) => (a[1] as number) - (b[1] as number)),
    [
      ['orders', 1, `ob1:${ids[0]}`, 'c1', 'quorum'],
      ['orders', 2, `ob1:${ids[1]}`, 'c2', 'quorum'],
      ['orders', 3, `ob1:${ids[2]}`, 'c1', 'quorum'],
      ['audit', 4, `ob1:${ids[3]}`, undefined, 'quorum'],
    ],
  );
  t.same(
    log.records.filter((x) => x.options.key === 'c1').map((x) => x.value),
    [1, 3],
    'one key keeps its row order',
  );
  t.same(log.records[0]?.options.headers, { h: 'x' });
  t.same(store.pending(10), []);
  t.equal(events.length, 4);
  t.match(relay.stats, { polls: 1, relayed: 4, duplicates: 0, failures: 0 });
  t.same(await relay.flushOnce(), { read: 0, relayed: 0, failed: 0, parked: 0 });
});

t.test('OutboxRelay retries a failing append with backoff, then relays it', async (t) => {
  const { log, relay, store } = setup([{ topic: 't', value: 'x' }]);
  let failures = 2;
  log.fail = () => (failures-- > 0 ? unavailable() : undefined);
  t.same(await relay.flushOnce(), { read: 1, relayed: 1, failed: 0, parked: 0 });
  t.equal(relay.stats.retries, 2);
  t.equal(log.calls.length, 3, 'same id each time');
  t.equal(new Set(log.calls).size, 1);
  t.same(store.pending(10), []);
});

t.test('OutboxRelay gives up a row after maxAttempts and holds back its key until a later poll', async (t) => {
  const { log, relay, store, ids } = setup(
    [
      { topic: 't', key: 'k', value: 1 },
      { topic: 't', key: 'k', value: 2 },
      { topic: 't', key: 'other', value: 3 },
    ],
    { maxAttempts: 3 },
  );
  const errors: Error[] = [];
  relay.on('error', (e) => errors.push(e));
  log.fail = (_t, value) => (value === 1 ? unavailable() : undefined);
  t.same(await relay.flushOnce(), { read: 3, relayed: 1, failed: 1, parked: 0 });
  t.equal(log.calls.filter((id) => id === `ob1:${ids[0]}`).length, 3, 'three attempts');
  t.same(
    store.pending(10).map((r) => r.value),
    [1, 2],
    'value 2 waits behind value 1',
  );
  t.equal(errors.length, 1);
  t.equal(relay.stats.lastError?.message, 'down');
  log.fail = () => undefined;
  await relay.flushOnce();
  t.same(
    log.records.map((r) => r.value),
    [3, 1, 2],
  );
});

t.test('OutboxRelay parks a row the log refuses for good; the rows behind it go on', async (t) => {
  const { log, relay, store } = setup([
    { topic: 't', key: 'k', value: 'huge' },
    { topic: 't', key: 'k', value: 'ok' },
  ]);
  log.fail = (_t, value) =>
    value === 'huge' ? new ShoalError('SHOAL_LOG_MESSAGE_TOO_LARGE', 'message 0 of 9 bytes exceeds') : undefined;
  const parked: OutboxRow[] = [];
  relay.on('parked', (row) => parked.push(row));
  t.same(await relay.flushOnce(), { read: 2, relayed: 1, failed: 0, parked: 1 });
  t.equal(log.calls.length, 2, 'a permanent error is not retried');
  t.same(
    parked.map((r) => r.value),
    ['huge'],
  );
  t.same(store.pending(10), []);
  t.match([...store.entries.values()][0], { reason: /^SHOAL_LOG_MESSAGE_TOO_LARGE: / });
});

t.test('OutboxRelay without markFailed keeps a refused row pending and its key blocked', async (t) => {
  const inner = new MemoryOutbox();
  inner.transaction((tx) => [
    inner.enqueue({ topic: 't', key: 'k', value: 'bad' }, tx),
    inner.enqueue({ topic: 't', key: 'k', value: 'ok' }, tx),
  ]);
  const store = {
    pending: (n: number) => inner.pending(n),
    markSent: (ids: readonly string[]) => inner.markSent(ids),
    enqueue: () => '',
  };
  const log = new FakeLog();
  log.fail = (_t, value) => (value === 'bad' ? new ShoalError('SHOAL_VALUE_INVALID', 'no') : undefined);
  const relay = new OutboxRelay({ store, log, idPrefix: 'p:' });
  t.same(await relay.flushOnce(), { read: 2, relayed: 0, failed: 1, parked: 0 });
  t.equal(inner.pending(10).length, 2);
});

t.test(
  'OutboxRelay: a failed markSent leaves rows pending; the next poll re-appends the same ids as duplicates',
  async (t) => {
    const { log, relay, store } = setup([
      { topic: 't', value: 'a' },
      { topic: 't', value: 'b' },
    ]);
    const markSent = store.markSent.bind(store);
    let crash = true;
    store.markSent = (ids) => {
      if (crash) {
        crash = false;
        throw new Error('crashed before markSent');
      }
      markSent(ids);
    };
    await t.rejects(relay.flushOnce(), { message: 'crashed before markSent' });
    t.equal(store.pending(10).length, 2);
    t.equal(relay.stats.failures, 1);
    t.same(await relay.flushOnce(), { read: 2, relayed: 2, failed: 0, parked: 0 });
    t.equal(log.records.length, 2, 'in the log once each');
    t.equal(relay.stats.duplicates, 2);
    t.same(store.pending(10), []);
  },
);

t.test('OutboxRelay start polls, drains full batches, notify wakes it, stop twice leaves no timer', async (t) => {
  const before = timers();
  const { log, relay, store } = setup(
    Array.from({ length: 25 }, (_, i) => ({ topic: 't', value: i })),
    { batchSize: 10, pollIntervalMs: 60_000 },
  );
  relay.start();
  relay.start();
  t.equal(relay.isRunning, true);
  await eventually(t, 'all 25 relayed in back-to-back polls', () => log.records.length === 25, 5000);
  store.transaction((tx) => store.enqueue({ topic: 't', value: 'late' }, tx));
  relay.notify();
  await eventually(t, 'notify relays without waiting a minute', () => log.records.length === 26, 5000);
  await relay.stop();
  await relay.stop();
  t.equal(relay.isRunning, false);
  t.equal(timers(), before, 'no timer left');
});

t.test('OutboxRelay stop cuts a retry wait short and the row stays pending', async (t) => {
  const before = timers();
  const { log, relay, store } = setup([{ topic: 't', value: 1 }], {
    retryBackoffMs: 60_000,
    maxRetryBackoffMs: 60_000,
  });
  log.fail = () => unavailable();
  relay.start();
  await eventually(t, 'first attempt made', () => log.calls.length === 1, 5000);
  const started = Date.now();
  await relay.stop();
  t.ok(Date.now() - started < 2000, 'stop did not wait for the backoff');
  t.equal(store.pending(10).length, 1);
  t.equal(timers(), before, 'no timer left');
});

t.test('OutboxRelay keeps polling through store failures with backoff and recovers', async (t) => {
  const { log, relay, store } = setup([{ topic: 't', value: 1 }], { maxRetryBackoffMs: 20 });
  const pending = store.pending.bind(store);
  let failures = 3;
  store.pending = (n) => {
    if (failures-- > 0) throw new Error('database is locked');
    return pending(n);
  };
  relay.start();
  t.teardown(() => relay.stop());
  await eventually(t, 'relayed after the store recovered', () => log.records.length === 1, 5000);
  t.equal(relay.stats.failures, 3);
  t.equal(relay.stats.lastError?.message, 'database is locked');
});

t.test('OutboxRelay purges sent rows older than retainSentMs, at most once per purgeIntervalMs', async (t) => {
  const clock = new ManualClock(Date.now() + 10_000);
  const { relay, store } = setup([{ topic: 't', value: 1 }], { clock, retainSentMs: 5000, purgeIntervalMs: 1000 });
  await relay.flushOnce(); // relays; the purge in the same poll finds it sent at "now - 10s"
  t.equal(relay.stats.purged, 1);
  t.equal(store.entries.size, 0);
  store.transaction((tx) => store.enqueue({ topic: 't', value: 2 }, tx));
  await relay.flushOnce();
  t.equal(store.entries.size, 1, 'within purgeIntervalMs: no purge');
  clock.advance(1000);
  await relay.flushOnce();
  t.equal(store.entries.size, 0);
  const keep = setup([{ topic: 't', value: 1 }], { clock, retainSentMs: Number.POSITIVE_INFINITY });
  await keep.relay.flushOnce();
  t.equal(keep.store.entries.size, 1, 'Infinity keeps sent rows');
});

t.test('OutboxRelay options are validated, naming the option', async (t) => {
  const store = new MemoryOutbox();
  const log = new FakeLog();
  const bad: [Partial<OutboxRelayOptions>, string][] = [
    [{ idPrefix: undefined }, 'idPrefix'],
    [{ idPrefix: '' }, 'idPrefix'],
    [{ idPrefix: 'x'.repeat(201) }, 'idPrefix'],
    [{ batchSize: 0 }, 'batchSize'],
    [{ pollIntervalMs: 1.5 }, 'pollIntervalMs'],
    [{ maxAttempts: 0 }, 'maxAttempts'],
    [{ retainSentMs: -1 }, 'retainSentMs'],
    [{ acks: 'all' as 'quorum' }, 'acks'],
    [{ store: {} as MemoryOutbox }, 'store'],
    [{ log: {} as FakeLog }, 'log'],
  ];
  for (const [o, option] of bad) {
    t.throws(() => new OutboxRelay({ store, log, idPrefix: 'p:', ...o } as OutboxRelayOptions), {
      code: 'SHOAL_CONFIG_INVALID',
      details: { option },
    });
  }
  const relay = new OutboxRelay({ store, log, idPrefix: 'p:' });
  t.ok(Object.isFrozen(relay.options));
  t.match(relay.options, { batchSize: 100, pollIntervalMs: 500, maxAttempts: 5, acks: 'quorum' });
});
