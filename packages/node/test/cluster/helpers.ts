/** Shared helpers of the cluster tests: start nodes on 127.0.0.1:0 and wait on conditions with deadlines. */
import type { Test } from 'tap';
import { createNode, type NodeOptions, type ShoalNode } from '../../src/index.js';

/** Polls `condition` every 20 ms until true; fails the test with `what` after `timeoutMs`. */
export async function eventually(
  t: Test,
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) {
      t.fail(`timed out waiting for: ${what}`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts `count` nodes in this process, each joining through the first; registers teardown. */
export async function startCluster(t: Test, count: number, options: NodeOptions = {}): Promise<ShoalNode[]> {
  const nodes: ShoalNode[] = [];
  const first = await createNode({ port: 0, nodeId: 'n0', membership: 'local', antiEntropyIntervalMs: 0, ...options });
  nodes.push(first);
  t.teardown(() => Promise.all(nodes.map((n) => n.shutdown())));
  for (let i = 1; i < count; i++) {
    nodes.push(
      await createNode({
        port: 0,
        nodeId: `n${i}`,
        seeds: [first.address],
        membership: 'local',
        antiEntropyIntervalMs: 0,
        ...options,
      }),
    );
  }
  await converged(t, nodes);
  return nodes;
}

/** Waits until every node sees exactly the given nodes alive and they agree on the table. */
export async function converged(t: Test, nodes: readonly ShoalNode[], timeoutMs = 15_000) {
  const ids = nodes.map((n) => n.id).sort();
  return eventually(
    t,
    `membership of ${ids.join(',')} converges`,
    () =>
      nodes.every((n) => {
        const alive = n
          .members()
          .filter((m) => m.state === 'alive')
          .map((m) => m.id)
          .sort();
        return (
          alive.join() === ids.join() &&
          JSON.stringify(n.partitionTable().owners) === JSON.stringify(nodes[0]?.partitionTable().owners)
        );
      }),
    timeoutMs,
  );
}
