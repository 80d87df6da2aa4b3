import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createNode } from '../../src/index.js';
import { eventually, startCluster } from '../cluster/helpers.js';

t.test(
  'MessageLog: an abrupt stop of a node under append load loses no acknowledged message, and a group gets every one',
  async (t) => {
    const nodes = await startCluster(t, 3, { requestTimeoutMs: 15_000 });
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    await a.log.createTopic('events', { partitions: 6 });
    const acked = new Set<number>();
    let stopped = false;
    const producers = [a, b].map(async (n, w) => {
      for (let i = 0; i < 600; i++) {
        const value = w * 10_000 + i;
        try {
          await n.log.append('events', value, { id: `e-${value}` });
          acked.add(value);
        } catch {
          // not acknowledged: may or may not exist
        }
        if (i === 150 && w === 0) {
          stopped = true;
          await c.shutdown();
        }
      }
    });
    const received = new Set<number>();
    const consumer = b.log.consume('events', { group: 'audit', from: 'earliest', concurrency: 8 }, (m) => {
      received.add(m.value as number);
    });
    t.teardown(() => consumer.close());
    await Promise.all(producers);
    t.ok(stopped);
    t.ok(acked.size > 1000, `${acked.size} appends acknowledged`);
    await eventually(
      t,
      'every acknowledged message is consumed',
      () => [...acked].every((v) => received.has(v)),
      40_000,
    );
    for (let p = 0; p < 6; p++) {
      const records = await a.log.read('events', p, 0, 10_000);
      const offsets = records.map((r) => r.offset);
      t.same(
        offsets,
        Array.from({ length: offsets.length }, (_, i) => i),
        `partition ${p} offsets are dense after the failover`,
      );
    }
  },
);

t.test(
  'MessageLog: a consumer that stops abruptly has its unacked messages redelivered to another member',
  async (t) => {
    const nodes = await startCluster(t, 2);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    await a.log.createTopic('tasks', { partitions: 2 });
    for (let i = 0; i < 40; i++) await a.log.append('tasks', i);
    const firstSeen: number[] = [];
    const hang = a.log.consume(
      'tasks',
      { group: 'g', from: 'earliest', ackTimeoutMs: 500, concurrency: 5 },
      async (m) => {
        firstSeen.push(m.value as number);
        await new Promise(() => {}); // never finishes: a consumer that died mid-message
      },
    );
    await eventually(t, 'the first member holds some messages', () => firstSeen.length > 0);
    void hang; // left running (hung handlers); its node's teardown stops it
    const done = new Set<number>();
    const rescuer = b.log.consume('tasks', { group: 'g', from: 'earliest', ackTimeoutMs: 500 }, (m) => {
      done.add(m.value as number);
    });
    t.teardown(() => rescuer.close());
    await eventually(t, 'every message is completed by the other member', () => done.size === 40, 30_000);
    t.ok(
      firstSeen.every((v) => done.has(v)),
      'what the hung member held was redelivered',
    );
  },
);

t.test('MessageLog: a node restarted on its dataDir recovers every acknowledged message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = await createNode({ port: 0, nodeId: 'solo', membership: 'local', dataDir: dir, replicas: 1 });
  await first.log.createTopic('ledger', { partitions: 2 });
  const receipts = [];
  for (let i = 0; i < 100; i++) receipts.push(await first.log.append('ledger', { i }, { key: `k${i % 5}` }));
  await first.shutdown();
  const again = await createNode({ port: 0, nodeId: 'solo', membership: 'local', dataDir: dir, replicas: 1 });
  t.teardown(() => again.shutdown());
  // the topic's options live in the cache (memory): created again with the same options
  await again.log.createTopic('ledger', { partitions: 2 });
  let found = 0;
  for (let p = 0; p < 2; p++) found += (await again.log.read('ledger', p, 0, 1000)).length;
  t.equal(found, 100, 'all 100 messages are back');
  const next = await again.log.append('ledger', 'after', { key: 'k0' });
  t.equal(
    next.offset,
    receipts.filter((r) => r.partition === next.partition).length,
    'offsets continue where they stopped',
  );
});

t.test('MessageLog: partitions move to a joining node without losing messages or offsets', async (t) => {
  const nodes = await startCluster(t, 2);
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  await a.log.createTopic('moving', { partitions: 8 });
  const counts = new Array(8).fill(0);
  for (let i = 0; i < 400; i++) {
    const r = await a.log.append('moving', i, { key: `k${i % 40}` });
    counts[r.partition]++;
  }
  const c = await createNode({
    port: 0,
    nodeId: 'n2',
    seeds: [b.address],
    membership: 'local',
    antiEntropyIntervalMs: 0,
  });
  t.teardown(() => c.shutdown());
  await eventually(t, 'the new node sees everyone', () => c.members().filter((m) => m.state === 'alive').length === 3);
  await eventually(
    t,
    'the new node leads some partitions',
    () => c.partitionTable().version > 0 && a.partitionTable().owners.length > 0,
  );
  for (let p = 0; p < 8; p++) {
    for (const n of [a, b, c]) {
      const records = await n.log.read('moving', p, 0, 1000);
      t.equal(records.length, counts[p], `partition ${p} read through ${n.id} has every message`);
    }
  }
  const after = await c.log.append('moving', 'new', { key: 'k0' });
  t.equal(after.offset, counts[after.partition], 'offsets continue after the move');
});
