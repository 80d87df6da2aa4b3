import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import type { ShoalNode } from '../../../src/index.js';
import type { AppendReceipt } from '../../../src/log/message-log.js';
import { type OutboxPublisher, OutboxRelay } from '../../../src/log/outbox/outbox-relay.js';
import { SqliteOutbox } from '../../../src/log/outbox/sqlite-outbox.js';
import { eventually, startCluster } from '../../cluster/helpers.js';

/** An application database in os.tmpdir(): an orders table and its outbox, and `place` writing both in one transaction. */
function shopDb(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-outbox-'));
  const file = join(dir, 'shop.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE orders (id TEXT PRIMARY KEY, total INTEGER NOT NULL)');
  const outbox = new SqliteOutbox(db);
  const place = db.transaction((id: string, total: number, fail = false) => {
    db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run(id, total);
    const rowId = outbox.enqueue({ topic: 'orders', key: id, value: { id, total } });
    if (fail) throw new Error('payment declined'); // after both writes: the rollback must take both
    return rowId;
  });
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db, file, outbox, place };
}

/** What one consumer group saw of each message id. */
interface Seen {
  /** id -> the partition/offset pairs it was delivered at (one record per id, when nothing was duplicated) */
  records: Map<string, Set<string>>;
  /** id -> first deliveries (deliveries === 1) */
  first: Map<string, number>;
  /** handler runs in all */
  runs: number;
}

/** Consumes 'orders' as `group`, noting every delivery. */
function collect(t: Test, node: ShoalNode, group: string): Seen {
  const seen: Seen = { records: new Map(), first: new Map(), runs: 0 };
  const consumer = node.log.consume('orders', { group, from: 'earliest', concurrency: 8 }, (m) => {
    const id = m.id as string;
    seen.runs++;
    seen.records.set(id, (seen.records.get(id) ?? new Set()).add(`${m.partition}/${m.offset}`));
    if (m.deliveries === 1) seen.first.set(id, (seen.first.get(id) ?? 0) + 1);
  });
  t.teardown(() => consumer.close());
  return seen;
}

/** node.log, recording every receipt. */
function spy(node: ShoalNode): OutboxPublisher & { receipts: Map<string, AppendReceipt[]> } {
  const receipts = new Map<string, AppendReceipt[]>();
  return {
    receipts,
    async append(topic, value, options) {
      const r = await node.log.append(topic, value, options);
      receipts.set(options.id as string, [...(receipts.get(options.id as string) ?? []), r]);
      return r;
    },
  };
}

/**
 * Waits until the group has consumed `n` ids and has nothing left to deliver, then checks what the
 * outbox promises: the log holds `n` records, each id at exactly one offset, delivered once as a
 * first delivery. A redelivery of that same record (deliveries > 1) is the group's at-least-once,
 * which idempotent() absorbs, not a duplicate message; the test reports them as a comment.
 */
async function settled(t: Test, node: ShoalNode, group: string, seen: Seen, n: number) {
  await eventually(t, `${n} messages consumed`, () => seen.records.size === n, 20_000);
  await eventually(
    t,
    'nothing left to deliver',
    async () => (await node.log.lag('orders', group)).every((p) => p.lag === 0 && p.unacked === 0),
    20_000,
  );
  const lag = await node.log.lag('orders', group);
  t.equal(
    lag.reduce((s, p) => s + p.endOffset, 0),
    n,
    `the log holds ${n} messages`,
  );
  t.same(
    [...seen.records].filter(([, at]) => at.size !== 1),
    [],
    'each id at exactly one offset',
  );
  t.same(
    [...seen.first].filter(([, count]) => count !== 1),
    [],
    'each id delivered once (first deliveries)',
  );
  t.equal(seen.first.size, n);
  if (seen.runs > n) t.comment(`${seen.runs - n} redeliveries of the same records by the consumer group`);
}

t.test(
  'Outbox order and message commit together; the relay publishes each once; a consumer receives each once',
  async (t) => {
    const nodes = await startCluster(t, 3);
    const [a, b] = nodes as [ShoalNode, ShoalNode];
    await a.log.createTopic('orders', { partitions: 4 });
    const shop = shopDb(t);
    const relay = new OutboxRelay({ store: shop.outbox, log: a.log, idPrefix: 'shop:', pollIntervalMs: 20 });
    relay.start();
    t.teardown(() => relay.stop());
    const seen = collect(t, b, 'billing');
    const rowIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      rowIds.push(shop.place(`o-${i}`, i * 10));
      if (i % 4 === 0) t.throws(() => shop.place(`declined-${i}`, 1, true), { message: 'payment declined' });
    }
    relay.notify();
    await settled(t, b, 'billing', seen, 20);
    t.same([...seen.records.keys()].sort(), rowIds.map((id) => `shop:${id}`).sort(), 'ids are the prefixed row ids');
    t.equal((shop.db.prepare('SELECT COUNT(*) AS n FROM orders').get() as { n: number }).n, 20);
    t.same(shop.outbox.counts(), { pending: 0, sent: 20, failed: 0 });
    t.equal(relay.stats.relayed, 20);
    t.equal(relay.stats.duplicates, 0);
    const records = (await Promise.all([0, 1, 2, 3].map((p) => b.log.read('orders', p, 0, 100)))).flat();
    t.same(
      records.filter((r) => String((r.value as { id: string }).id).startsWith('declined')),
      [],
      'rolled-back orders published nothing',
    );
    const o7 = records.find((r) => (r.value as { id: string }).id === 'o-7');
    t.same([o7?.key, o7?.value], ['o-7', { id: 'o-7', total: 70 }], 'key and value as enqueued');
  },
);

t.test('Outbox a rolled-back transaction publishes nothing', async (t) => {
  const nodes = await startCluster(t, 2);
  const a = nodes[0] as ShoalNode;
  await a.log.createTopic('orders', { partitions: 2 });
  const shop = shopDb(t);
  for (let i = 0; i < 5; i++) t.throws(() => shop.place(`x-${i}`, 1, true));
  const relay = new OutboxRelay({ store: shop.outbox, log: a.log, idPrefix: 'shop:' });
  t.same(await relay.flushOnce(), { read: 0, relayed: 0, failed: 0, parked: 0 });
  t.same(
    (await a.log.lag('orders', 'g')).map((p) => p.endOffset),
    [0, 0],
  );
  t.equal((shop.db.prepare('SELECT COUNT(*) AS n FROM orders').get() as { n: number }).n, 0);
});

t.test(
  'Outbox crash between publish and mark-as-sent: the re-append returns the first offset and the consumer sees it once',
  async (t) => {
    const nodes = await startCluster(t, 3);
    const [a, b, c] = nodes as [ShoalNode, ShoalNode, ShoalNode];
    await a.log.createTopic('orders', { partitions: 4 });
    const shop = shopDb(t);
    for (let i = 0; i < 10; i++) shop.place(`o-${i}`, i);
    const markSent = shop.outbox.markSent.bind(shop.outbox);
    let crashes = 1;
    const store = Object.assign(Object.create(shop.outbox) as SqliteOutbox, {
      markSent(ids: readonly string[]) {
        if (crashes-- > 0) throw new Error('process died before markSent');
        markSent(ids);
      },
    });
    const log = spy(b);
    const relay = new OutboxRelay({ store, log, idPrefix: 'shop:' });
    await t.rejects(relay.flushOnce(), { message: 'process died before markSent' });
    t.equal(shop.outbox.counts().pending, 10, 'all rows still pending');
    const seen = collect(t, c, 'billing');
    t.same(await relay.flushOnce(), { read: 10, relayed: 10, failed: 0, parked: 0 });
    t.equal(relay.stats.duplicates, 10);
    for (const [id, [first, again]] of log.receipts) {
      t.same(
        [again?.duplicate, again?.partition, again?.offset],
        [true, first?.partition, first?.offset],
        `${id}: duplicate at the first offset`,
      );
    }
    await settled(t, c, 'billing', seen, 10);
    t.same(shop.outbox.counts(), { pending: 0, sent: 10, failed: 0 });
  },
);

t.test(
  'Outbox relay killed after the append and before markSent: a new relay on a new connection does not duplicate',
  async (t) => {
    const nodes = await startCluster(t, 3);
    const [a, b] = nodes as [ShoalNode, ShoalNode];
    await a.log.createTopic('orders', { partitions: 4 });
    const shop = shopDb(t);
    for (let i = 0; i < 8; i++) shop.place(`o-${i}`, i);
    // relay 1 freezes forever inside markSent, as a process killed at that instant would
    let release!: (err: Error) => void;
    const frozen = new Promise<void>((_, reject) => {
      release = reject;
    });
    const store1 = Object.assign(Object.create(shop.outbox) as SqliteOutbox, { markSent: () => frozen });
    const log1 = spy(a);
    const relay1 = new OutboxRelay({ store: store1, log: log1, idPrefix: 'shop:' });
    const dead = relay1.flushOnce();
    t.teardown(async () => {
      release(new Error('killed'));
      await dead.catch(() => {});
      await relay1.stop();
    });
    await eventually(t, 'relay 1 appended all 8', () => log1.receipts.size === 8, 20_000);
    t.equal(shop.outbox.counts().pending, 8, 'nothing marked sent');

    const db2 = new Database(shop.file);
    t.teardown(() => db2.close());
    const log2 = spy(b);
    const relay2 = new OutboxRelay({ store: new SqliteOutbox(db2), log: log2, idPrefix: 'shop:', pollIntervalMs: 20 });
    const seen = collect(t, b, 'billing');
    relay2.start();
    t.teardown(() => relay2.stop());
    await eventually(t, 'relay 2 marked all sent', () => shop.outbox.counts().sent === 8, 20_000);
    for (const [id, [r]] of log2.receipts) {
      const [first] = log1.receipts.get(id) ?? [];
      t.same([r?.duplicate, r?.offset], [true, first?.offset], `${id}: deduped to relay 1's offset`);
    }
    await settled(t, b, 'billing', seen, 8);
  },
);
