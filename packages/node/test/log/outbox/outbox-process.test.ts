/**
 * The SQLite outbox through a real crash: a relay in a child process (fixtures/outbox-relay-member.ts,
 * itself a cluster node) appends every pending row and is SIGKILLed before it marks them sent. A new
 * relay in this process, on its own connection to the same database file, finds the rows still pending,
 * re-appends them and gets each first offset back as a duplicate: the log holds each row once and a
 * consumer group sees each once, although the relay's node died with the appends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import t from 'tap';
import type { ShoalNode } from '../../../src/index.js';
import type { AppendReceipt } from '../../../src/log/message-log.js';
import { OutboxRelay } from '../../../src/log/outbox/outbox-relay.js';
import { SqliteOutbox } from '../../../src/log/outbox/sqlite-outbox.js';
import { eventually, startCluster } from '../../cluster/helpers.js';

const fixture = new URL('../fixtures/outbox-relay-member.js', import.meta.url).pathname;
const ROWS = 12;

t.test(
  'Outbox relay process SIGKILLed between publish and mark-as-sent: the next relay re-appends as duplicates, each row is stored and consumed once',
  async (t) => {
    const nodes = await startCluster(t, 3, { requestTimeoutMs: 15_000 });
    const [a, b, c] = nodes as [ShoalNode, ShoalNode, ShoalNode];
    await a.log.createTopic('orders', { partitions: 4 });

    const dir = mkdtempSync(join(tmpdir(), 'shoal-outbox-kill-'));
    const file = join(dir, 'shop.db');
    const db = new Database(file);
    t.teardown(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE orders (id TEXT PRIMARY KEY, total INTEGER NOT NULL)');
    const outbox = new SqliteOutbox(db);
    const place = db.transaction((id: string, total: number) => {
      db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run(id, total);
      outbox.enqueue({ topic: 'orders', key: id, value: { id, total } });
    });
    for (let i = 0; i < ROWS; i++) place(`o-${i}`, i * 10);

    const child: ChildProcess = spawn(process.execPath, [fixture, a.address], { stdio: ['pipe', 'pipe', 'pipe'] });
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const first = new Map<string, AppendReceipt>();
    let marking: string[] = [];
    let ready = false;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('ready ')) ready = true;
      else if (line.startsWith('receipt ')) {
        const { id, ...r } = JSON.parse(line.slice('receipt '.length)) as AppendReceipt & { id: string };
        first.set(id, r);
      } else if (line.startsWith('marking ')) marking = JSON.parse(line.slice('marking '.length)) as string[];
    });
    await eventually(t, 'the relay process is ready', () => ready || child.exitCode !== null, 30_000);
    t.ok(ready, `the relay process started ${stderr}`);
    await eventually(
      t,
      'the relay process joins and every table agrees',
      () =>
        nodes.every(
          (n) =>
            n.members().filter((m) => m.state === 'alive').length === 4 &&
            JSON.stringify(n.partitionTable().owners) === JSON.stringify(a.partitionTable().owners),
        ),
      30_000,
    );

    child.stdin?.write(`relay ${JSON.stringify({ file, idPrefix: 'shop:' })}\n`);
    await eventually(
      t,
      'the relay process appended every row and is marking them sent',
      () => marking.length === ROWS,
      30_000,
    );
    t.equal(first.size, ROWS, 'every append was acknowledged to the relay process');
    t.ok(child.kill('SIGKILL'), 'the relay process is SIGKILLed by its pid');
    await new Promise((resolve) => child.once('exit', resolve));
    t.equal(outbox.counts().pending, ROWS, 'no row was marked sent');

    const seen = new Map<string, Set<string>>();
    const consumer = c.log.consume('orders', { group: 'billing', from: 'earliest', concurrency: 8 }, (m) => {
      const id = m.id as string;
      seen.set(id, (seen.get(id) ?? new Set()).add(`${m.partition}/${m.offset}`));
    });
    t.teardown(() => consumer.close());

    const db2 = new Database(file);
    t.teardown(() => db2.close());
    const again = new Map<string, AppendReceipt>();
    const relay = new OutboxRelay({
      store: new SqliteOutbox(db2),
      idPrefix: 'shop:',
      pollIntervalMs: 50,
      log: {
        async append(topic, value, options) {
          const r = await b.log.append(topic, value, options);
          again.set(options.id as string, r);
          return r;
        },
      },
    });
    relay.start();
    t.teardown(() => relay.stop());
    await eventually(t, 'the new relay marked every row sent', () => outbox.counts().sent === ROWS, 60_000);
    for (const [id, r] of first) {
      const b2 = again.get(id);
      t.same(
        [b2?.duplicate, b2?.partition, b2?.offset],
        [true, r.partition, r.offset],
        `${id}: re-appended as a duplicate of the first offset`,
      );
    }
    await eventually(t, 'the group consumed every row', () => seen.size === ROWS, 30_000);
    await eventually(
      t,
      'nothing left to deliver',
      async () => (await c.log.lag('orders', 'billing')).every((p) => p.lag === 0 && p.unacked === 0),
      30_000,
    );
    const stored = (await c.log.lag('orders', 'billing')).reduce((s, p) => s + p.endOffset, 0);
    t.equal(stored, ROWS, 'the log holds each row once');
    t.same(
      [...seen].filter(([, at]) => at.size !== 1),
      [],
      'each row at exactly one offset',
    );
    await relay.stop();
    await consumer.close();
  },
);
