import { isShoalError } from '@shoal/protocol';
import t from 'tap';
import type { ShoalNode } from '../../src/index.js';
import { NOT_LOCAL } from '../../src/replication/replicator.js';
import { startCluster } from './helpers.js';

/** A key whose primary is `node`, and one whose primary is not. */
function keysFor(node: ShoalNode): { mine: string; theirs: string } {
  let mine: string | undefined;
  let theirs: string | undefined;
  for (let i = 0; mine === undefined || theirs === undefined; i++) {
    const key = `k:${i}`;
    if (node.primaryOf(key) === node.id) mine ??= key;
    else theirs ??= key;
  }
  return { mine, theirs };
}

t.test('A plain get at the primary is answered synchronously; anything else takes the full path', async (t) => {
  const [a, b] = (await startCluster(t, 2, { replicas: 2 })) as [ShoalNode, ShoalNode];
  const { mine, theirs } = keysFor(a);
  await a.cache.set(mine, 'here');
  await a.cache.set(theirs, 'there');
  t.equal(a.cache.getNow(mine), 'here', 'primary, settled, consistency one');
  t.equal(a.cache.getNow(theirs), NOT_LOCAL, 'another node is the primary');
  t.equal(await a.cache.get(theirs), 'there', 'routed read still works');
  t.equal(await a.cache.get(mine, { consistency: 'all' }), 'here', 'a per-call consistency goes the full way');
  t.throws(() => a.cache.getNow(''), { code: 'SHOAL_KEY_INVALID' });
  t.ok(isShoalError(await a.cache.get('').catch((e: unknown) => e), 'SHOAL_KEY_INVALID'), 'get rejects, not throws');
  t.equal(b.cache.getNow(mine), NOT_LOCAL, 'the replica does not answer as primary');
  // metrics see the synchronous path like the full one
  const calls: string[] = [];
  a.cache.onCall = (op, result) => calls.push(`${op} ${result}`);
  await a.cache.get(mine);
  await a.cache.get('').catch(() => {});
  t.same(calls, ['get ok', 'get SHOAL_KEY_INVALID']);
});

t.test(
  'With read consistency quorum, or a near cache, a get is never answered from the local copy alone',
  async (t) => {
    const [a] = (await startCluster(t, 2, { replicas: 2, readConsistency: 'quorum' })) as [ShoalNode, ShoalNode];
    const { mine } = keysFor(a);
    await a.cache.set(mine, 1);
    t.equal(a.cache.getNow(mine), NOT_LOCAL);
    t.equal(await a.cache.get(mine), 1);
    const [c] = (await startCluster(t, 1, { nearCache: { maxEntries: 100 } })) as [ShoalNode];
    await c.cache.set('x', 2);
    t.equal(c.cache.getNow('x'), NOT_LOCAL, 'the near cache path keeps its own bookkeeping');
    t.equal(await c.cache.get('x'), 2);
  },
);
