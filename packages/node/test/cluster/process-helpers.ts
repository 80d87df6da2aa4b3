/**
 * Cluster nodes as child processes of the built `shoal` binary, for tests that
 * kill, pause and restart them for real. Readiness comes from the `ready`
 * line; every child is registered for teardown and ended by its pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Test } from 'tap';

const bin = new URL('../../src/cli/main.js', import.meta.url).pathname;

/** A node running in a child process. */
export interface ChildNode {
  id: string;
  address: string;
  http: string;
  process: ChildProcess;
}

/** Starts `shoal start` as a child; resolves when it prints its ready line. */
export async function spawnNode(t: Test, id: string, extra: string[] = []): Promise<ChildNode> {
  const child = spawn(
    process.execPath,
    [bin, 'start', '--port', '0', '--node-id', id, '--membership', 'local', '--log-level', 'warn', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} not ready in 20 s: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('ready ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as Record<string, string>);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${id} exited with ${code}: ${stderr}`));
    });
  });
  return { id, address: ready.address as string, http: ready.http as string, process: child };
}

/** JSON of GET `path` on a node, or undefined when it does not answer. */
export async function getJson(node: ChildNode, path: string, timeoutMs = 2000): Promise<unknown> {
  try {
    const res = await fetch(`${node.http}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.status === 200 ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}

/** PUT a JSON value; true when the node acknowledged it. */
export async function put(node: ChildNode, key: string, value: unknown, timeoutMs = 12_000): Promise<boolean> {
  try {
    const res = await fetch(`${node.http}/v1/keys/${encodeURIComponent(key)}`, {
      method: 'PUT',
      body: JSON.stringify(value),
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

interface ClusterInfo {
  members: { id: string; state: string }[];
  owners: string[][];
  rebalancing: { syncing: number; handingOff: number };
}

/** The node's /v1/cluster view. */
export const clusterInfo = (node: ChildNode) => getJson(node, '/v1/cluster') as Promise<ClusterInfo | undefined>;

/**
 * True when every node in `nodes` sees exactly `alive` as its alive members,
 * all agree on the table, every partition has `replicas` live owners, and no
 * rebalancing is pending.
 */
export async function settled(
  nodes: readonly ChildNode[],
  alive: readonly string[],
  replicas: number,
): Promise<boolean> {
  const infos = await Promise.all(nodes.map(clusterInfo));
  if (infos.some((i) => i === undefined)) return false;
  const want = [...alive].sort().join();
  const first = JSON.stringify(infos[0]?.owners);
  return infos.every(
    (info) =>
      info !== undefined &&
      info.members
        .filter((m) => m.state === 'alive')
        .map((m) => m.id)
        .sort()
        .join() === want &&
      JSON.stringify(info.owners) === first &&
      info.owners.every((o) => o.length === Math.min(replicas, alive.length) && o.every((id) => alive.includes(id))) &&
      info.rebalancing.syncing === 0,
  );
}

/**
 * Writes keys round-robin through `targets()` until `stop()` or the bounds;
 * records the last acknowledged value and any unacknowledged later attempt
 * per key (such a write may or may not have landed).
 */
export async function writeLoad(
  targets: () => readonly ChildNode[],
  options: { keys: number; maxWrites: number; maxMs: number; stop: () => boolean; concurrency: number },
): Promise<{ acked: Map<string, number>; uncertain: Map<string, number[]>; writes: number; failures: number }> {
  const acked = new Map<string, number>();
  const uncertain = new Map<string, number[]>();
  let next = 0;
  let failures = 0;
  const deadline = Date.now() + options.maxMs;
  const worker = async (w: number) => {
    while (next < options.maxWrites && Date.now() < deadline && !options.stop()) {
      const n = next++;
      // each worker owns its own keys, so acknowledgements per key are ordered
      const key = `load:${w}:${n % Math.ceil(options.keys / options.concurrency)}`;
      const nodes = targets();
      const node = nodes[n % nodes.length] as ChildNode;
      if (await put(node, key, n)) {
        acked.set(key, n);
        uncertain.delete(key);
      } else {
        failures++;
        uncertain.set(key, [...(uncertain.get(key) ?? []), n]);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  return { acked, uncertain, writes: next, failures };
}

/** Reads every acked key through each node; returns the keys whose value is neither the last ack nor a later attempt. */
export async function verify(
  nodes: readonly ChildNode[],
  acked: ReadonlyMap<string, number>,
  uncertain: ReadonlyMap<string, number[]>,
): Promise<string[]> {
  const bad: string[] = [];
  for (const node of nodes) {
    for (const [key, value] of acked) {
      const got = await getJson(node, `/v1/keys/${encodeURIComponent(key)}`, 5000);
      if (got !== value && !(uncertain.get(key) ?? []).includes(got as number))
        bad.push(`${node.id}:${key}=${String(got)} (acked ${value})`);
    }
  }
  return bad;
}
