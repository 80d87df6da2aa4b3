import t from 'tap';
import { createNode } from '../../src/index.js';
import { eventually } from '../cluster/helpers.js';
import { type ChildNode, settled, spawnNode } from '../cluster/process-helpers.js';

async function post(node: ChildNode, topic: string, value: unknown, id: string): Promise<boolean> {
  try {
    const res = await fetch(`${node.http}/v1/topics/${topic}/messages?id=${encodeURIComponent(id)}`, {
      method: 'POST',
      body: JSON.stringify(value),
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    return res.status === 201 || res.status === 200;
  } catch {
    return false;
  }
}

t.test(
  'Log across processes: SIGKILL of a node during appends loses no acknowledged message; a group receives them all',
  async (t) => {
    const a = await spawnNode(t, 'q0');
    const [b, c] = await Promise.all([
      spawnNode(t, 'q1', ['--seeds', a.address]),
      spawnNode(t, 'q2', ['--seeds', a.address]),
    ]);
    await eventually(t, 'the 3 processes converge', () => settled([a, b, c], ['q0', 'q1', 'q2'], 2), 30_000);
    // this test process joins as a fourth member and consumes through its embedded node
    const local = await createNode({
      port: 0,
      nodeId: 'q-consumer',
      seeds: [a.address],
      membership: 'local',
      requestTimeoutMs: 15_000,
    });
    t.teardown(() => local.shutdown());
    await eventually(
      t,
      'the consumer node is in',
      () => settled([a, b, c], ['q0', 'q1', 'q2', 'q-consumer'], 2),
      30_000,
    );
    await local.log.createTopic('audit', { partitions: 4 });
    const received = new Set<number>();
    const consumer = local.log.consume('audit', { group: 'auditors', from: 'earliest', concurrency: 8 }, (m) => {
      received.add(m.value as number);
    });
    t.teardown(() => consumer.close());
    const acked = new Set<number>();
    let killed = false;
    const targets = () => (killed ? [a, b] : [a, b, c]);
    const workers = Array.from({ length: 6 }, async (_, w) => {
      for (let i = 0; i < 120; i++) {
        const value = w * 1000 + i;
        const nodes = targets();
        if (await post(nodes[(w + i) % nodes.length] as ChildNode, 'audit', value, `m-${value}`)) acked.add(value);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 800));
    c.process.kill('SIGKILL');
    killed = true;
    await Promise.all(workers);
    t.ok(acked.size > 300, `${acked.size} appends acknowledged`);
    await eventually(
      t,
      'every acknowledged message reaches the group',
      () => [...acked].every((v) => received.has(v)),
      60_000,
    );
    const lag = await (await fetch(`${a.http}/v1/topics/audit/groups/auditors/lag`)).json();
    t.ok(typeof (lag as { lag: number }).lag === 'number', 'lag is served over HTTP');
  },
);
