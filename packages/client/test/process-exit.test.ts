/**
 * The client in child processes: required from CommonJS, and closed after
 * using every part of it, where the child must exit by itself (nothing left
 * open). The node runs in this test's process.
 */
import { spawn } from 'node:child_process';
import { createNode } from '@shoal/node';
import t from 'tap';

const fixture = (name: string) => new URL(`../../test/fixtures/${name}`, import.meta.url).pathname;

/** Runs a fixture; resolves with its stdout lines, exit code and when it exited. */
function run(script: string, args: string[], timeoutMs: number) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise<{ lines: string[]; code: number | null; exitedAt: number; stderr: string; killed: boolean }>(
    (resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ lines: stdout.trim().split('\n'), code, exitedAt: Date.now(), stderr, killed: signal === 'SIGKILL' });
      });
    },
  );
}

t.test('Client is usable from CommonJS through require()', async (t) => {
  const node = await createNode({ port: 0, nodeId: 'n0', membership: 'local' });
  t.teardown(() => node.shutdown());
  const result = await run(fixture('require-client.cjs'), [`ws://${node.address}`], 20_000);
  t.equal(result.code, 0, result.stderr);
  t.same(JSON.parse(result.lines.at(-1) as string), {
    value: { from: 'require' },
    typed: true,
    resolved: 'cjs/dist/index.js',
  });
  t.equal(await node.cache.get('cjs:key').then((v) => JSON.stringify(v)), '{"from":"require"}');
});

t.test('Client close() leaves no handles: a busy process exits by itself right after', async (t) => {
  const node = await createNode({ port: 0, nodeId: 'n0', membership: 'local' });
  t.teardown(() => node.shutdown());
  const result = await run(fixture('busy-then-close.mjs'), [`ws://${node.address}`], 30_000);
  t.notOk(result.killed, `the child had to be killed: ${result.stderr}`);
  t.equal(result.code, 0, result.stderr);
  const closed = result.lines.find((l) => l.startsWith('closed '));
  t.ok(closed, 'the child closed its client');
  const { handled, at } = JSON.parse((closed as string).slice(7)) as { handled: number; at: number };
  t.ok(handled >= 1, 'the consumer handled the message');
  t.ok(result.exitedAt - at < 3000, `exited ${result.exitedAt - at} ms after close()`);
});
