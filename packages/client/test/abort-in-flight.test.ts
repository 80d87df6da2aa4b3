/**
 * A call already on the wire, aborted by its signal, against an in-process
 * node behind a TCP proxy that stops forwarding (so no reply can arrive):
 * the aborted call ends at once with SHOAL_CLIENT_ABORTED, the other calls
 * in flight on the same connection are untouched and end at their own
 * timeouts, and a signal aborted after its call settled changes nothing.
 */
import { createNode } from '@shoal/node';
import t from 'tap';
import { connect, isShoalError } from '../src/index.js';
import { proxy } from './in-process.js';

t.test('Client abort of a call in flight ends that call only, at once', async (t) => {
  const node = await createNode({ port: 0, nodeId: 'n0', membership: 'local', antiEntropyIntervalMs: 0 });
  t.teardown(() => node.shutdown());
  const link = await proxy(t, node.address);
  const client = await connect({ nodes: [link.url], timeout: 8000 });
  t.teardown(() => client.close());

  // log calls go over the connection through the proxy (cache calls go straight to the key's primary)
  await client.log.createTopic('held', { partitions: 1 });
  // settled before the abort: its listener must be gone, so aborting later changes nothing
  const early = new AbortController();
  const receipt = await client.log.append('held', 1, {}, { signal: early.signal });
  early.abort(new Error('too late'));
  t.equal(receipt.offset, 0, 'a call with a signal completes normally');

  link.freeze();
  const controller = new AbortController();
  const reason = new Error('caller gave up');
  const started = Date.now();
  const aborted = client.log.append('held', 2, {}, { signal: controller.signal }).catch((e: unknown) => e);
  const bystander = client.log.append('held', 3, {}, { timeout: 1500 }).catch((e: unknown) => e);
  // let both leave in this tick's frame before aborting one of them
  await new Promise<void>((resolve) => setImmediate(resolve));
  controller.abort(reason);

  const err = await aborted;
  const abortedAfter = Date.now() - started;
  t.ok(isShoalError(err, 'SHOAL_CLIENT_ABORTED'), String(err));
  t.equal((err as Error).cause, reason, 'the abort reason is the cause');
  t.ok(abortedAfter < 1000, `the aborted call ended after ${abortedAfter} ms, not at its 8000 ms timeout`);

  const other = await bystander;
  const otherAfter = Date.now() - started;
  t.ok(isShoalError(other, 'SHOAL_REQUEST_TIMEOUT'), `the other call timed out on its own: ${String(other)}`);
  t.ok(otherAfter >= 1480, `the other call ran to its own 1500 ms budget (${otherAfter} ms)`);
});
