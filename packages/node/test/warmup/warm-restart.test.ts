import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { spawnWarmNode } from './child.js';

async function put(http: string, key: string, value: unknown, ttl?: string): Promise<number> {
  const res = await fetch(`${http}/v1/keys/${encodeURIComponent(key)}${ttl === undefined ? '' : `?ttl=${ttl}`}`, {
    method: 'PUT',
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}

async function get(http: string, path: string): Promise<unknown> {
  const res = await fetch(`${http}${path}`, { signal: AbortSignal.timeout(10_000) });
  return res.status === 200 ? res.json() : undefined;
}

t.test('Warm restart: a child node with dataDir writes its snapshot on SIGTERM and loads it at start', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-warm-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const first = await spawnWarmNode(t, { nodeId: 'warm-a', replicas: 1, dataDir });
  for (let i = 0; i < 200; i++) t.equal(await put(first.http, `user:${i}`, { i, name: `user ${i}` }), 200);
  t.equal(await put(first.http, 'session', 'abc', '1h'), 200);
  first.process.kill('SIGTERM');
  t.equal(await first.exited, 0, 'graceful exit');
  t.ok(existsSync(join(dataDir, 'cache.snapshot')), 'cache.snapshot written on close');

  const second = await spawnWarmNode(t, { nodeId: 'warm-a', replicas: 1, dataDir });
  let wrong = 0;
  for (let i = 0; i < 200; i++) {
    const value = (await get(second.http, `/v1/keys/user:${i}`)) as { i: number; name: string } | undefined;
    if (value?.i !== i || value.name !== `user ${i}`) wrong++;
  }
  t.equal(wrong, 0, 'every key came back');
  t.equal(await get(second.http, '/v1/keys/session'), 'abc', 'the TTL entry came back');
  const stats = (await get(second.http, '/v1/stats')) as {
    node: { entries: number };
    snapshot?: { lastLoad?: { loaded: number; records: number } };
  };
  t.equal(stats.node.entries, 201, 'no more, no less');
  t.match(stats.snapshot?.lastLoad, { records: 201, loaded: 201 }, 'stats report the warm restart');
  second.process.kill('SIGKILL');
  await second.exited;
});
