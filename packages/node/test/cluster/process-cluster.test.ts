import t, { type Test } from 'tap';
import { eventually } from './helpers.js';
import { type ChildNode, clusterInfo, settled, spawnNode, verify, writeLoad } from './process-helpers.js';

type Tap = Test;

async function threeNodes(t: Tap): Promise<ChildNode[]> {
  const a = await spawnNode(t, 'p0');
  const [b, c] = await Promise.all([
    spawnNode(t, 'p1', ['--seeds', a.address]),
    spawnNode(t, 'p2', ['--seeds', a.address]),
  ]);
  const nodes = [a, b, c];
  await eventually(t, 'the 3 processes converge', () => settled(nodes, ['p0', 'p1', 'p2'], 2), 30_000);
  return nodes;
}

t.test('Process cluster: SIGKILL of one node under write load loses no acknowledged write', async (t) => {
  const nodes = await threeNodes(t);
  const [a, b, c] = nodes as [ChildNode, ChildNode, ChildNode];
  let killed = false;
  const load = writeLoad(() => (killed ? [a, b] : nodes), {
    keys: 400,
    maxWrites: 4000,
    maxMs: 6000,
    stop: () => false,
    concurrency: 8,
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  c.process.kill('SIGKILL');
  killed = true;
  const { acked, uncertain, writes } = await load;
  t.ok(writes > 200, `${writes} writes issued, ${acked.size} keys acknowledged`);
  await eventually(
    t,
    'survivors agree p2 is dead and every partition has 2 live copies',
    () => settled([a, b], ['p0', 'p1'], 2),
    30_000,
  );
  const info = await clusterInfo(a);
  t.equal(info?.members.find((m) => m.id === 'p2')?.state, 'dead');
  const bad = await verify([a, b], acked, uncertain);
  t.same(bad.slice(0, 10), [], 'every acknowledged write reads back from every survivor');
});

t.test('Process cluster: a node paused past the failure timeout comes back, refutes and rejoins', async (t) => {
  const nodes = await threeNodes(t);
  const [a, b, c] = nodes as [ChildNode, ChildNode, ChildNode];
  let paused = false;
  const load = writeLoad(() => (paused ? [a, b] : nodes), {
    keys: 300,
    maxWrites: 4000,
    maxMs: 5000,
    stop: () => false,
    concurrency: 6,
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  c.process.kill('SIGSTOP');
  paused = true;
  await eventually(
    t,
    'the others declare the paused node dead',
    async () => {
      const info = await clusterInfo(a);
      return info?.members.find((m) => m.id === 'p2')?.state === 'dead';
    },
    30_000,
  );
  const { acked, uncertain } = await load;
  c.process.kill('SIGCONT');
  await eventually(t, 'all three alive again and settled', () => settled(nodes, ['p0', 'p1', 'p2'], 2), 40_000);
  const bad = await verify(nodes, acked, uncertain);
  t.same(bad.slice(0, 10), [], 'every acknowledged write reads back from every node, the resumed one included');
});

t.test('Process cluster: a killed node restarted with the same id rejoins and gets its share back', async (t) => {
  const nodes = await threeNodes(t);
  const [a, b, c] = nodes as [ChildNode, ChildNode, ChildNode];
  const { acked, uncertain } = await writeLoad(() => nodes, {
    keys: 300,
    maxWrites: 600,
    maxMs: 5000,
    stop: () => false,
    concurrency: 6,
  });
  c.process.kill('SIGKILL');
  await eventually(t, 'p2 declared dead', () => settled([a, b], ['p0', 'p1'], 2), 30_000);
  const again = await spawnNode(t, 'p2', ['--seeds', `${a.address},${b.address}`]);
  const all = [a, b, again];
  await eventually(
    t,
    'the restarted node is alive everywhere and settled',
    () => settled(all, ['p0', 'p1', 'p2'], 2),
    40_000,
  );
  const info = await clusterInfo(again);
  t.ok((info?.owners.filter((o) => o.includes('p2')).length ?? 0) > 100, 'it owns partitions again');
  const bad = await verify(all, acked, uncertain);
  t.same(bad.slice(0, 10), [], 'every acknowledged write reads back, through the restarted node too');
});

t.test('Process cluster: SIGTERM makes a node leave gracefully under load, losing no acknowledged write', async (t) => {
  const nodes = await threeNodes(t);
  const [a, b, c] = nodes as [ChildNode, ChildNode, ChildNode];
  let leaving = false;
  const load = writeLoad(() => (leaving ? [a, b] : nodes), {
    keys: 300,
    maxWrites: 3000,
    maxMs: 4000,
    stop: () => false,
    concurrency: 6,
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const exited = new Promise<number | null>((resolve) => c.process.once('exit', (code) => resolve(code)));
  c.process.kill('SIGTERM');
  leaving = true;
  const { acked, uncertain } = await load;
  t.equal(await exited, 0, 'the node exited cleanly after handing off');
  await eventually(
    t,
    'the others see it left and settle',
    async () => {
      const info = await clusterInfo(a);
      return info?.members.find((m) => m.id === 'p2')?.state === 'left' && (await settled([a, b], ['p0', 'p1'], 2));
    },
    30_000,
  );
  const bad = await verify([a, b], acked, uncertain);
  t.same(bad.slice(0, 10), [], 'every acknowledged write reads back from the remaining nodes');
});
