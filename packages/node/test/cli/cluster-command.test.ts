import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import t, { type Test } from 'tap';
import { eventually } from '../cluster/helpers.js';

const bin = new URL('../../src/cli/main.js', import.meta.url).pathname;

/** Runs `shoal args`; resolves with the child and the first stdout line starting with `ready `. */
async function run(t: Test, args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const out: string[] = [];
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 40 s: ${stderr}`)), 40_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      out.push(line);
      if (line.startsWith('ready ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as Record<string, unknown>);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${stderr}`));
    });
  });
  return { child, ready, out, stderr: () => stderr };
}

const exited = (child: ChildProcess): Promise<[number | null]> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve([child.exitCode])
    : (once(child, 'exit') as Promise<[number | null]>);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('shoal cluster --nodes 3 starts a joined cluster, prints its nodes, and forwards SIGTERM to them', async (t) => {
  const { child, ready, out } = await run(t, [
    'cluster',
    '--nodes',
    '3',
    '--membership',
    'local',
    '--log-level',
    'warn',
  ]);
  const nodes = ready.nodes as { id: string; http: string; dashboard: string; pid: number }[];
  t.equal(nodes.length, 3);
  t.teardown(() => {
    for (const n of nodes) if (alive(n.pid)) process.kill(n.pid, 'SIGKILL');
  });
  t.same(
    nodes.map((n) => n.id),
    ['node-0', 'node-1', 'node-2'],
  );
  for (const n of nodes) {
    t.ok(
      out.some((l) => l.startsWith(`${n.id} ${n.http}  dashboard ${n.dashboard}`)),
      `${n.id} is announced with its address and dashboard`,
    );
  }
  await eventually(
    t,
    'every node sees the 3 members alive',
    async () => {
      const infos = await Promise.all(
        nodes.map(async (n) => {
          try {
            return (await (await fetch(`${n.http}/v1/cluster`)).json()) as { members: { state: string }[] };
          } catch {
            return undefined;
          }
        }),
      );
      return infos.every((i) => i?.members.filter((m) => m.state === 'alive').length === 3);
    },
    30_000,
  );
  child.kill('SIGTERM');
  const [code] = await exited(child);
  t.equal(code, 0, 'the cluster command exits 0 once its nodes left gracefully');
  t.same(
    nodes.filter((n) => alive(n.pid)).map((n) => n.id),
    [],
    'no node outlives it',
  );
});

t.test(
  'shoal cluster: Ctrl-C at a terminal (SIGINT to its process group) makes every node leave gracefully',
  async (t) => {
    const child = spawn(
      process.execPath,
      [bin, 'cluster', '--nodes', '2', '--membership', 'local', '--log-level', 'warn'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        detached: true, // a process group of its own, like a shell job
      },
    );
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const ready = await new Promise<{ nodes: { pid: number }[] }>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith('ready ')) resolve(JSON.parse(line.slice(6)) as { nodes: { pid: number }[] });
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    t.teardown(() => {
      for (const n of ready.nodes) if (alive(n.pid)) process.kill(n.pid, 'SIGKILL');
    });
    process.kill(-(child.pid as number), 'SIGINT');
    const [code] = await exited(child);
    t.equal(code, 0, 'every node exited 0: each got one signal and left gracefully');
    t.same(
      ready.nodes.filter((n) => alive(n.pid)),
      [],
    );
  },
);

t.test('shoal cluster rejects bad options before starting anything', async (t) => {
  const child = spawn(process.execPath, [bin, 'cluster', '--nodes', '40'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = await exited(child);
  t.equal(code, 2);
  t.match(stderr, /--nodes: 40 is not an integer from 1 to 16/);
});
