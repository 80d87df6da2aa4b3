/**
 * `shoal cluster --nodes N`: a local multi-process cluster to try things out.
 * Starts N `shoal start` children on free ports, each seeded with the ones
 * before it, prints where each serves, forwards SIGINT/SIGTERM to every child
 * by its pid, and exits once they all have (with the worst exit code).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ShoalError } from '@shoal/protocol';
import { parseStartOptions } from './start-options.js';

const OWN_FLAGS = ['--port', '--node-id', '--seeds'];

/** The `--help` text of `shoal cluster`. */
export function clusterHelp(): string {
  return `Usage: shoal cluster [--nodes N] [start options]

Starts N local nodes (default 3, at most 16) as child processes on free ports,
joined into one cluster. Every other option is passed to each \`shoal start\`
(--port, --node-id and --seeds are chosen here). Ctrl-C leaves gracefully.
`;
}

/** Node count and the options forwarded to each child, validated. */
export function parseClusterArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { nodes: number; forward: string[] } {
  const forward: string[] = [];
  let nodes = 3;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] = arg.split('=', 2) as [string, string | undefined];
    if (name === '--nodes') {
      const text = inline ?? argv[++i] ?? '';
      if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 16) {
        throw new ShoalError('SHOAL_CONFIG_INVALID', `--nodes: ${text || '(missing)'} is not an integer from 1 to 16`, {
          option: 'nodes',
        });
      }
      nodes = Number(text);
    } else if (OWN_FLAGS.includes(name)) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `${name}: shoal cluster chooses it for each node`, {
        option: name.slice(2),
      });
    } else forward.push(arg);
  }
  parseStartOptions(forward, env); // fail once, here, rather than N times in the children
  return { nodes, forward };
}

interface Started {
  id: string;
  child: ChildProcess;
  ready: Record<string, unknown>;
}

function startChild(bin: string, id: string, seeds: readonly string[], forward: readonly string[]): Promise<Started> {
  const args = [bin, 'start', '--port', '0', '--node-id', id, ...forward];
  if (seeds.length > 0) args.push('--seeds', seeds.join(','));
  // own process group: a terminal's Ctrl-C reaches the children once, through us, not twice (a second
  // signal would make them skip the graceful leave)
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('ready '))
        resolve({ id, child, ready: JSON.parse(line.slice(6)) as Record<string, unknown> });
    });
    child.once('exit', (code, signal) => reject(new Error(`${id} exited before it was ready (${signal ?? code})`)));
  });
}

/** Runs `shoal cluster`; resolves with the exit code once every child has exited. */
export async function runCluster(argv: readonly string[], bin: string): Promise<number> {
  const { nodes, forward } = parseClusterArgs(argv, process.env);
  const started: Started[] = [];
  const children: ChildProcess[] = [];
  let signals = 0;
  const forwardSignal = (signal: NodeJS.Signals) => {
    signals++;
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    }
  };
  process.on('SIGINT', () => forwardSignal('SIGINT'));
  process.on('SIGTERM', () => forwardSignal('SIGTERM'));
  const exits = (child: ChildProcess) =>
    new Promise<number>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? 1);
      else child.once('exit', (code) => resolve(code ?? 1));
    });
  try {
    for (let i = 0; i < nodes && signals === 0; i++) {
      const seeds = started.map((s) => s.ready.address as string);
      const pending = startChild(bin, `node-${i}`, seeds, forward);
      const node = await pending;
      children.push(node.child);
      started.push(node);
      process.stdout.write(
        `${node.id} ${String(node.ready.http)}  dashboard ${String(node.ready.dashboard)}  pid ${node.child.pid}\n`,
      );
    }
  } catch (err) {
    process.stderr.write(`shoal cluster: ${(err as Error).message}; stopping the others\n`);
    forwardSignal('SIGTERM');
    await Promise.all(children.map(exits));
    return 1;
  }
  const summary = started.map((s) => ({
    id: s.id,
    address: s.ready.address,
    http: s.ready.http,
    dashboard: s.ready.dashboard,
    pid: s.child.pid,
  }));
  process.stdout.write(`ready ${JSON.stringify({ nodes: summary })}\n`);
  const codes = await Promise.all(children.map(exits));
  return Math.max(0, ...codes);
}
