/** Shared helpers of the client tests that run nodes in this process: a cluster, a client, a TCP proxy. */
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { createNode, type ShoalNode } from '@shoal/node';
import type { Test } from 'tap';
import { connect, type ShoalClient } from '../src/index.js';

/** `count` nodes on 127.0.0.1:0 joined through the first, shut down at teardown. */
export async function cluster(t: Test, count: number, extra: Record<string, unknown> = {}): Promise<ShoalNode[]> {
  const nodes: ShoalNode[] = [];
  t.teardown(() => Promise.all(nodes.map((n) => n.shutdown())));
  nodes.push(await createNode({ port: 0, nodeId: 'n0', membership: 'local', antiEntropyIntervalMs: 0, ...extra }));
  for (let i = 1; i < count; i++) {
    nodes.push(
      await createNode({
        port: 0,
        nodeId: `n${i}`,
        seeds: [(nodes[0] as ShoalNode).address],
        membership: 'local',
        antiEntropyIntervalMs: 0,
        ...extra,
      }),
    );
  }
  return nodes;
}

/** A client of `node`, closed at teardown. */
export async function open(t: Test, node: ShoalNode, options: Record<string, unknown> = {}): Promise<ShoalClient> {
  const client = await connect({ nodes: [`ws://${node.address}`], timeout: 5000, ...options });
  t.teardown(() => client.close());
  return client;
}

/** A TCP proxy to `target` the test can cut (destroy every open pair) or freeze (stop forwarding, close nothing). */
export async function proxy(t: Test, target: string) {
  const [host, port] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = tcpConnect(Number(port), host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${address.port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    /** Stops forwarding without closing anything: requests through it get no reply. */
    freeze: () => {
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
  };
}
