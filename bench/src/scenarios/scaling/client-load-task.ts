/**
 * Worker task of the throughput-vs-nodes part (run by runTask in its own
 * process, so the load never shares a node's event loop): the closed-loop
 * get/set load of cluster/load.ts through @shoal/client, connected to one
 * node (which it learns the cluster from, routing each key to its owner).
 */
import { connect } from '@shoal/client';
import { type LoadResult, type LoadSpec, runLoad } from '../cluster/load.js';

export interface ClientLoadInput {
  /** A node's `host:port`; the client connects to `ws://<address>/v1/client`. */
  readonly address: string;
  readonly spec: LoadSpec;
}

/** Runs the load through one client. */
export async function shoalClientLoad(input: ClientLoadInput): Promise<LoadResult> {
  const client = await connect<string>({ nodes: [`ws://${input.address}`], timeout: 10_000 });
  try {
    return await runLoad(
      { get: (key) => client.cache.get(key), set: (key, value) => client.cache.set(key, value) },
      input.spec,
    );
  } finally {
    await client.close();
  }
}
