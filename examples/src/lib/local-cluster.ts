/**
 * What every example starts with: a few Shoal nodes in this process on
 * 127.0.0.1 (free ports), joined and agreeing on the partition table, and one
 * `close()` that stops them all. Real nodes over real sockets: the examples
 * run the same code a deployment does, only on one machine.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNode, type NodeOptions, type ShoalNode } from '@shoal/node';

/** Nodes of an example cluster, first one is the seed. */
export interface LocalCluster {
  nodes: ShoalNode[];
  close(): Promise<void>;
}

/** Starts `count` nodes and waits (bounded) until they see each other and share a table. */
export async function startLocalCluster(count: number, options: NodeOptions = {}): Promise<LocalCluster> {
  const base: NodeOptions = { host: '127.0.0.1', port: 0, membership: 'local', antiEntropyIntervalMs: 0, ...options };
  const nodes: ShoalNode[] = [await createNode({ ...base, nodeId: 'node-0' })];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.shutdown()));
  };
  try {
    const seed = (nodes[0] as ShoalNode).address;
    for (let i = 1; i < count; i++) nodes.push(await createNode({ ...base, nodeId: `node-${i}`, seeds: [seed] }));
    await until('the nodes to agree on the partition table', () => {
      const table = JSON.stringify(nodes[0]?.partitionTable().owners);
      return nodes.every(
        (n) =>
          n.members().filter((m) => m.state === 'alive').length === count &&
          JSON.stringify(n.partitionTable().owners) === table,
      );
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes, close };
}

/** Polls `condition` every 10 ms until true; throws after `timeoutMs`. */
export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** True when the module at `url` is the program node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(url);
}

/** Runs `main` when the module is executed directly and prints its result. */
export function runIfMain(url: string, main: () => Promise<unknown>): void {
  if (!isMain(url)) return;
  main().then(
    (result) => console.log('result', JSON.stringify(result, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
