/** Starts the warm-up fixture node as a child process; readiness from its `ready` line, teardown by its pid. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Test } from 'tap';

const fixture = new URL('./fixtures/warm-node.js', import.meta.url).pathname;

/** A running fixture node. */
export interface WarmChild {
  address: string;
  http: string;
  process: ChildProcess;
  /** Every `progress` line the child printed, parsed. */
  progress: Record<string, number>[];
  exited: Promise<number | null>;
}

/** Spawns the fixture with `config` (see fixtures/warm-node.ts). */
export async function spawnWarmNode(t: Test, config: Record<string, unknown>): Promise<WarmChild> {
  const child = spawn(process.execPath, [fixture, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const progress: Record<string, number>[] = [];
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child not ready in 20 s: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('ready ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as Record<string, string>);
      } else if (line.startsWith('progress ')) progress.push(JSON.parse(line.slice(9)) as Record<string, number>);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
  return { address: ready.address as string, http: ready.http as string, process: child, progress, exited };
}
