import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import type { OutboxMessage } from '../../../src/log/outbox/outbox-store.js';
import { SqliteOutbox } from '../../../src/log/outbox/sqlite-outbox.js';
import { ManualClock } from '../../../src/store/clock.js';
import { MemoryOutbox } from './memory-outbox.js';
import { outboxStoreContract } from './outbox-store-contract.js';

/** A fresh database file in os.tmpdir(), removed at teardown. */
function tempDb(t: Test): { db: Database.Database; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-outbox-'));
  const file = join(dir, 'app.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  t.teardown(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db, file };
}

outboxStoreContract(t, 'SqliteOutbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-outbox-'));
  const db = new Database(join(dir, 'app.db'));
  const store = new SqliteOutbox(db);
  return {
    store,
    async write(messages: OutboxMessage[], commit: boolean) {
      const ids: string[] = [];
      try {
        db.transaction(() => {
          for (const m of messages) ids.push(store.enqueue(m));
          if (!commit) throw new Error('roll back');
        })();
      } catch (err) {
        if (commit) throw err;
      }
      return commit ? ids : [];
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

outboxStoreContract(t, 'MemoryOutbox (test fake)', () => {
  const store = new MemoryOutbox();
  return {
    store,
    async write(messages: OutboxMessage[], commit: boolean) {
      try {
        return store.transaction((tx) => {
          const ids = messages.map((m) => store.enqueue(m, tx));
          if (!commit) throw new Error('roll back');
          return ids;
        });
      } catch (err) {
        if (commit) throw err;
        return [];
      }
    },
    close() {},
  };
});

t.test('SqliteOutbox enqueue outside a transaction is refused and writes nothing', async (t) => {
  const { db } = tempDb(t);
  const outbox = new SqliteOutbox(db);
  t.throws(() => outbox.enqueue({ topic: 'orders', value: 1 }), { code: 'SHOAL_ARGUMENT_INVALID' });
  t.same(outbox.counts(), { pending: 0, sent: 0, failed: 0 });
});

t.test('SqliteOutbox enqueue joins the business transaction: both commit or neither', async (t) => {
  const { db } = tempDb(t);
  db.exec('CREATE TABLE orders (id TEXT PRIMARY KEY, total INTEGER NOT NULL)');
  const outbox = new SqliteOutbox(db);
  const place = db.transaction((id: string, total: number) => {
    db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run(id, total);
    return outbox.enqueue({ topic: 'orders', key: id, value: { id, total } });
  });
  place('o-1', 10);
  t.throws(() => place('o-1', 20), 'a duplicate order fails the transaction');
  t.throws(() =>
    db.transaction(() => {
      outbox.enqueue({ topic: 'orders', value: 'orphan' });
      db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run('o-2', null); // NOT NULL: fails
    })(),
  );
  t.same(db.prepare('SELECT id FROM orders').all(), [{ id: 'o-1' }]);
  t.same(
    outbox.pending(10).map((r) => r.value),
    [{ id: 'o-1', total: 10 }],
    'only the committed order has a message',
  );
});

t.test('SqliteOutbox refuses bad messages inside the transaction, failing it', async (t) => {
  const { db } = tempDb(t);
  const outbox = new SqliteOutbox(db);
  const bad: [unknown, string][] = [
    [{ topic: 'bad topic!', value: 1 }, 'SHOAL_ARGUMENT_INVALID'],
    [{ topic: 't', value: undefined }, 'SHOAL_VALUE_INVALID'],
    [{ topic: 't', value: { f: () => 1 } }, 'SHOAL_VALUE_INVALID'],
    [{ topic: 't', value: 1, key: 7 }, 'SHOAL_ARGUMENT_INVALID'],
    [{ topic: 't', value: 1, headers: { n: 1 } }, 'SHOAL_ARGUMENT_INVALID'],
    [null, 'SHOAL_ARGUMENT_INVALID'],
  ];
  for (const [message, code] of bad) {
    t.throws(() => db.transaction(() => outbox.enqueue(message as OutboxMessage))(), { code }, JSON.stringify(message));
  }
  t.same(outbox.counts(), { pending: 0, sent: 0, failed: 0 });
});

t.test('SqliteOutbox round-trips values msgpack carries that JSON would change', async (t) => {
  const { db } = tempDb(t);
  const outbox = new SqliteOutbox(db);
  const at = new Date(1_700_000_000_123);
  const value = { bytes: Buffer.from([0, 1, 255]), at, big: 2 ** 53 - 1, float: 0.1, text: 'ü€', list: [null, true] };
  db.transaction(() => outbox.enqueue({ topic: 't', value }))();
  const [row] = outbox.pending(1);
  const got = row?.value as typeof value;
  t.ok(Buffer.isBuffer(got.bytes), 'bytes stay bytes (JSON: {type, data})');
  t.same(got.bytes, value.bytes);
  t.ok(got.at instanceof Date && got.at.getTime() === at.getTime(), 'a Date stays a Date (JSON: a string)');
  t.same({ ...got, bytes: 0, at: 0 }, { ...value, bytes: 0, at: 0 });
});

t.test('SqliteOutbox validates the table name and keeps tables apart', async (t) => {
  const { db } = tempDb(t);
  for (const table of ['', 'drop table x', 'a"b', 'sqlite_master', '1abc', 'x'.repeat(64), 7]) {
    t.throws(() => new SqliteOutbox(db, { table: table as string }), { code: 'SHOAL_CONFIG_INVALID' }, String(table));
  }
  t.throws(() => new SqliteOutbox({} as Database.Database), { code: 'SHOAL_CONFIG_INVALID' });
  const a = new SqliteOutbox(db, { table: 'outbox_a' });
  const b = new SqliteOutbox(db, { table: 'Outbox_B2' });
  db.transaction(() => a.enqueue({ topic: 't', value: 'a' }))();
  t.same(b.pending(10), []);
  t.equal(a.pending(10).length, 1);
  t.equal(new SqliteOutbox(db, { table: 'outbox_a' }).pending(10).length, 1, 'a second instance reuses the table');
});

t.test('SqliteOutbox markFailed, requeueFailed, purgeSent and counts with a manual clock', async (t) => {
  const { db } = tempDb(t);
  const clock = new ManualClock(1_000_000);
  const outbox = new SqliteOutbox(db, { clock });
  const ids = db.transaction(() => [1, 2, 3].map((value) => outbox.enqueue({ topic: 't', value })))();
  outbox.markFailed(ids[0] as string, 'SHOAL_LOG_MESSAGE_TOO_LARGE: too big');
  outbox.markSent([ids[1] as string]);
  t.same(outbox.counts(), { pending: 1, sent: 1, failed: 1 });
  t.same(db.prepare('SELECT last_error AS e FROM shoal_outbox WHERE failed_at IS NOT NULL').get(), {
    e: 'SHOAL_LOG_MESSAGE_TOO_LARGE: too big',
  });
  t.equal(outbox.requeueFailed([ids[0] as string]), 1);
  t.same(
    outbox.pending(10).map((r) => r.id),
    [ids[0], ids[2]],
  );
  outbox.markFailed(ids[2] as string, 'x');
  t.equal(outbox.requeueFailed(), 1);
  clock.advance(1000);
  t.equal(outbox.purgeSent(1_000_000), 0, 'sent at the cutoff is kept');
  t.equal(outbox.purgeSent(1_000_001), 1);
  t.same(outbox.counts(), { pending: 2, sent: 0, failed: 0 });
  t.throws(() => outbox.pending(0), { code: 'SHOAL_ARGUMENT_INVALID' });
});

t.test('SqliteOutbox parks a row whose stored value no longer decodes', async (t) => {
  const { db } = tempDb(t);
  const outbox = new SqliteOutbox(db);
  const [bad, good] = db.transaction(() => [
    outbox.enqueue({ topic: 't', value: 1 }),
    outbox.enqueue({ topic: 't', value: 2 }),
  ])();
  db.prepare('UPDATE shoal_outbox SET value = ? WHERE id = ?').run(Buffer.from([0x92, 0x01]), Number(bad)); // an array of 2 holding 1
  const rows = outbox.pending(10);
  t.same(
    rows.map((r) => r.id),
    [good],
  );
  t.same(outbox.counts(), { pending: 1, sent: 0, failed: 1 });
});

t.test('SqliteOutbox rows written by one connection are read by another (relay in another process)', async (t) => {
  const { db, file } = tempDb(t);
  const writer = new SqliteOutbox(db);
  const other = new Database(file);
  t.teardown(() => other.close());
  const reader = new SqliteOutbox(other);
  const id = db.transaction(() => writer.enqueue({ topic: 't', value: 'x' }))();
  t.same(
    reader.pending(10).map((r) => r.id),
    [id],
  );
  reader.markSent([id]);
  t.same(writer.pending(10), []);
});
