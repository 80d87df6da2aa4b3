import { isShoalError } from '@shoal/protocol';
import t from 'tap';
import type { ShoalNode } from '../../src/index.js';
import { startCluster } from '../cluster/helpers.js';

/** Keys whose primary is `node`. */
function keysOwnedBy(node: ShoalNode, count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (node.primaryOf(`big:${i}`) === node.id) keys.push(`big:${i}`);
  return keys;
}

t.test('A turn of writes larger than maxFrameBytes travels in several frames, and all of it lands', async (t) => {
  const [a, b] = (await startCluster(t, 2, { maxFrameBytes: 1024 * 1024, replicas: 2 })) as [ShoalNode, ShoalNode];
  const before = await a.transportCounters();
  const value = 'v'.repeat(300 * 1024);
  // 8 x 300 KiB forwarded from a to b in one turn: 2.4 MiB, more than one 1 MiB frame may carry
  const keys = keysOwnedBy(b, 8);
  t.same(
    await Promise.all(keys.map((k) => a.cache.set(k, value))),
    keys.map(() => true),
  );
  for (const k of keys) t.equal(((await a.cache.get(k)) as string).length, value.length);
  const after = await a.transportCounters();
  t.ok(after.framesOut - before.framesOut >= 3, `${after.framesOut - before.framesOut} frames from a`);
  t.equal(b.members().find((m) => m.id === a.id)?.state, 'alive', 'no connection was dropped for it');
});

t.test('A single value larger than a frame fails its own call with SHOAL_PROTOCOL_FRAME_TOO_LARGE', async (t) => {
  const [a, b] = (await startCluster(t, 2, { maxFrameBytes: 64 * 1024, replicas: 1 })) as [ShoalNode, ShoalNode];
  const [big, small] = keysOwnedBy(b, 2) as [string, string];
  const [tooLarge, fine] = await Promise.allSettled([
    a.cache.set(big, 'x'.repeat(100 * 1024)),
    a.cache.set(small, 'ok'),
  ]);
  t.ok(
    tooLarge.status === 'rejected' && isShoalError(tooLarge.reason, 'SHOAL_PROTOCOL_FRAME_TOO_LARGE'),
    String(tooLarge.status === 'rejected' ? tooLarge.reason : 'resolved'),
  );
  t.same(fine, { status: 'fulfilled', value: true }, 'the call in the same turn went through');
  t.equal(await b.cache.get(small), 'ok');
});
