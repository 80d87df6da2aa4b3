/**
 * An append wakes every consumer long-polling its partition, not only some:
 * several groups wait on one partition, and each must get each message well
 * before its poll would have timed out (1 s).
 */
import t from 'tap';
import type { ShoalNode } from '../../src/index.js';
import { eventually, startCluster } from '../cluster/helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('every group waiting on a partition is woken by an append', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a, b, c] = nodes as [ShoalNode, ShoalNode, ShoalNode];
  await a.log.createTopic('wake', { partitions: 1 });
  const latencies = new Map<string, number[]>();
  const ready = new Set<string>();
  const consumers = [a, b, c, b].map((node, i) => {
    const group = `g${i}`;
    latencies.set(group, []);
    return node.log.consume('wake', { group, from: 'earliest' }, async (m) => {
      if (m.value === 'ready') ready.add(group);
      else latencies.get(group)?.push(Date.now() - (m.value as number));
    });
  });
  t.teardown(() => Promise.all(consumers.map((consumer) => consumer.close())));
  // a first message every group has received: each is now in its fetch loop
  await a.log.append('wake', 'ready', { key: 'k' });
  await eventually(t, 'every group got the first message', () => ready.size === 4);
  for (let i = 1; i <= 5; i++) {
    // a steady producer: one message every 300 ms, so each append finds the groups long-polling again
    await sleep(300);
    await a.log.append('wake', Date.now(), { key: 'k' });
    await eventually(t, `every group got message ${i}`, () => [...latencies.values()].every((l) => l.length >= i));
  }
  for (const [group, list] of latencies) {
    t.equal(list.length, 5, `${group} got every message`);
    const worst = Math.max(...list);
    t.ok(worst < 700, `${group}: slowest delivery ${worst} ms, before a poll timeout`);
  }
});
