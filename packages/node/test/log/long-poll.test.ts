/**
 * An append wakes every consumer long-polling its partition, not only some:
 * several groups wait on one partition, and each must get each message well
 * before its poll would have timed out (1 s).
 */
import t from 'tap';
import type { ShoalNode } from '../../src/index.js';
import { startCluster } from '../cluster/helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('every group waiting on a partition is woken by an append', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a, b, c] = nodes as [ShoalNode, ShoalNode, ShoalNode];
  await a.log.createTopic('wake', { partitions: 1 });
  const latencies = new Map<string, number[]>();
  const consumers = [a, b, c, b].map((node, i) => {
    const group = `g${i}`;
    latencies.set(group, []);
    return node.log.consume('wake', { group, from: 'earliest' }, async (m) => {
      latencies.get(group)?.push(Date.now() - (m.value as number));
    });
  });
  t.teardown(() => Promise.all(consumers.map((consumer) => consumer.close())));
  await sleep(1500); // every group is long-polling now
  for (let i = 0; i < 5; i++) {
    await a.log.append('wake', Date.now(), { key: 'k' });
    await sleep(400);
  }
  await sleep(1200);
  for (const [group, list] of latencies) {
    t.equal(list.length, 5, `${group} got every message`);
    const worst = Math.max(...list);
    t.ok(worst < 700, `${group}: slowest delivery ${worst} ms, before a poll timeout`);
  }
});
