/**
 * Shoal nodes as child processes of the built `shoal` binary, for client
 * tests that kill and restart them for real (the node package's process
 * helpers, reduced to what the client tests need). Every child is registered
 * for teardown and killed by its own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Test } from 'tap';

const bin = new URL('../../../node/dist/src/cli/main.js', import.meta.url).pathname;

/** A node in a child process. */
export interface ChildNode {
  id: string;
  address: string;
  http: string;
  url: string;
  process: ChildProcess;
}

/** Starts `shoal start` as a child; resolves on its ready line. */
export async function spawnNode(t: Test, id: string, extra: string[] = []): Promise<ChildNode> {
  const args = [bin, 'start', '--node-id', id, '--membership', 'local', '--log-level', 'error'];
  if (!extra.includes('--port')) args.push('--port', '0');
  const child = spawn(process.execPath, [...args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
  const address = ready.address as string;
  return { id, address, http: ready.http as string, url: `ws://${address}`, process: child };
}

/** SIGKILLs a child and waits for it to be gone. */
export async function kill(node: ChildNode): Promise<void> {
  if (node.process.exitCode !== null || node.process.signalCode !== null) return;
  const gone = new Promise((resolve) => node.process.once('exit', resolve));
  node.process.kill('SIGKILL');
  await gone;
}

/** True when every node sees exactly `alive` alive, they agree on the table and nothing is rebalancing. */
export async function settled(nodes: readonly ChildNode[], alive: readonly string[]): Promise<boolean> {
  const infos = await Promise.all(
    nodes.map(async (n) => {
      try {
        const res = await fetch(`${n.http}/v1/cluster`, { signal: AbortSignal.timeout(2000) });
        return res.status === 200
          ? ((await res.json()) as {
              members: { id: string; state: string }[];
              owners: string[][];
              rebalancing: { syncing: number };
            })
          : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  if (infos.some((i) => i === undefined)) return false;
  const want = [...alive].sort().join();
  const first = JSON.stringify(infos[0]?.owners);
  return infos.every(
    (i) =>
      i !== undefined &&
      i.members
        .filter((m) => m.state === 'alive')
        .map((m) => m.id)
        .sort()
        .join() === want &&
      JSON.stringify(i.owners) === first &&
      i.rebalancing.syncing === 0,
  );
}

/** Polls `condition` every 25 ms; fails the test with `what` after `timeoutMs`. */
export async function eventually(
  t: Test,
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      t.fail(`timed out waiting for: ${what}`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}
