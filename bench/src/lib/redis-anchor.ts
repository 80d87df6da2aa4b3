/**
 * The Redis anchor's server, shared by every scenario that measures against
 * Redis: Debian's `redis-server`, found on PATH (or installed with apt-get when
 * the user passed --install-anchors), started by the bench on a free 127.0.0.1
 * port with persistence off, and killed by pid when the scenario ends.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { ScenarioContext } from '../scenario.js';

/** The first executable `name` on PATH, or null. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | null {
  for (const dir of pathVar.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** `apt-get install -y redis-server` (after `apt-get update` if the first try fails); returns an error text or null. */
export function installRedisServer(log: (line: string) => void): string | null {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', 'redis-server'], { env, encoding: 'utf8', timeout: 300_000 });
  log('installing redis-server with apt-get (--install-anchors)');
  let r = install();
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { env, encoding: 'utf8', timeout: 300_000 });
    r = install();
  }
  if (r.status === 0) return null;
  return `apt-get install redis-server failed: ${(r.error?.message ?? r.stderr ?? '').trim().slice(-300)}`;
}

/** A free TCP port on 127.0.0.1 (bound then released; fine for a bench on a quiet machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running redis-server child. */
export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  /** e.g. '7.0.15'. */
  readonly version: string;
  /** SIGKILLs the server by pid and waits for its exit (bounded). */
  stop(): Promise<void>;
}

/** Starts `bin` on a free port without persistence; resolves when it accepts connections. */
export async function startRedisServer(bin: string, timeoutMs = 10_000): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pid = child.pid ?? -1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  // unlike the node workers (which exit when IPC closes), the server would outlive a killed bench: take it along
  const onSignal = (signal: NodeJS.Signals): void => {
    kill();
    release();
    process.kill(process.pid, signal); // default behaviour again, now that our listener is gone
  };
  const release = (): void => {
    process.off('exit', kill);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.once('exit', kill);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = async (): Promise<void> => {
    kill();
    release();
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  };
  let output = '';
  try {
    const version = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready within ${timeoutMs} ms`)), timeoutMs);
      const onData = (chunk: Buffer): void => {
        output = (output + chunk.toString('utf8')).slice(-4000);
        if (/ready to accept connections/i.test(output)) {
          clearTimeout(timer);
          resolve(/version=(\d+(?:\.\d+)*)/i.exec(output)?.[1] ?? 'unknown');
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${signal ?? `code ${code}`}): ${output.slice(-500)}`));
      });
    });
    return { port, pid, version, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Finds redis-server, installing it only when allowed; returns the binary or
 * why the anchor is skipped (`what` names the anchor in that note).
 */
export function redisBinary(
  ctx: Pick<ScenarioContext, 'installAnchors' | 'log'>,
  what = 'throughput anchor',
): { bin: string } | { skipped: string } {
  const found = findOnPath('redis-server');
  if (found !== null) return { bin: found };
  if (!ctx.installAnchors)
    return {
      skipped: `${what} skipped: redis-server is not on PATH (install it, e.g. apt-get install redis-server, or pass --install-anchors)`,
    };
  const error = installRedisServer(ctx.log);
  const installed = findOnPath('redis-server');
  if (installed !== null) return { bin: installed };
  return { skipped: `${what} skipped: ${error ?? 'redis-server still not on PATH after installing'}` };
}
