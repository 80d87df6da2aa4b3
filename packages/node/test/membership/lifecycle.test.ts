/**
 * Membership lifecycle and inbound handling without a cluster: start, join
 * (success, timeout, background retry, shutdown while joining), leave and
 * shutdown twice with no timer left, replies to pings.
 */
import t from 'tap';
import {
  createEventLoopLagMonitor,
  isShoalError,
  MembershipMessageKind as K,
  localConfig,
  Membership,
  type MembershipMessage,
  type MembershipTransport,
  noLagMonitor,
  SimNetwork,
  VirtualScheduler,
} from '../../src/index.js';

/** A transport that records what it is asked to send and never answers. */
function silentTransport(): MembershipTransport & { sent: MembershipMessage[] } {
  const sent: MembershipMessage[] = [];
  return {
    sent,
    request: (_address, message) => {
      sent.push(message);
      return new Promise(() => {});
    },
    send: (_address, message) => {
      sent.push(message);
    },
  };
}

/** A membership on virtual time over a transport that never answers. */
function lonely(time: VirtualScheduler, transport = silentTransport()) {
  return new Membership({
    id: 'a',
    address: 'a:1',
    transport,
    config: localConfig(),
    clock: time,
    timers: time,
    lagMonitor: noLagMonitor,
  });
}

t.test('Membership rejects an empty id or address with SHOAL_CONFIG_INVALID', async (t) => {
  const transport = silentTransport();
  for (const [id, address, option] of [
    ['', 'a:1', 'id'],
    ['a', '', 'address'],
  ] as const) {
    try {
      new Membership({ id, address, transport });
      t.fail('should throw');
    } catch (err) {
      t.ok(isShoalError(err, 'SHOAL_CONFIG_INVALID') && err.details?.option === option, option);
    }
  }
});

t.test('Membership shutdown and leave are idempotent and leave no timer behind', async (t) => {
  const time = new VirtualScheduler();
  const net = new SimNetwork({ scheduler: time });
  const nodes = ['x:1', 'y:1', 'z:1'].map((address, i) => {
    const sim = net.addNode(address);
    const m = new Membership({
      id: `m${i}`,
      address,
      transport: sim.transport,
      config: localConfig(),
      clock: time,
      timers: sim.timers,
      lagMonitor: sim.lagMonitor,
    });
    sim.attach(m);
    return m;
  });
  const joined = Promise.all(nodes.map((m) => m.join(['x:1'])));
  await time.run(2000);
  t.same(await joined, [0, 1, 1]);
  t.ok(time.pending > 0, 'running memberships have timers');
  const leaving = nodes[2]!.leave();
  t.equal(nodes[2]!.leave(), leaving);
  await time.run(1000);
  await leaving;
  nodes[1]!.shutdown();
  nodes[1]!.shutdown();
  nodes[0]!.shutdown();
  await nodes[0]!.leave(); // after shutdown: resolves at once
  net.close();
  t.equal(time.pending, 0, 'no timer left');
  t.equal(nodes[1]!.localMember().state, 'alive');
  t.equal(nodes[2]!.localMember().state, 'left');
  nodes[2]!.start();
  t.equal(time.pending, 0, 'a stopped membership does not start again');
});

t.test('Membership join with no other seed resolves 0 and starts the node alone', async (t) => {
  const time = new VirtualScheduler();
  const m = lonely(time);
  t.teardown(() => m.shutdown());
  t.equal(await m.join([]), 0);
  t.equal(await m.join(['a:1']), 0, 'our own address is skipped');
  t.same(
    m.members().map((x) => x.id),
    ['a'],
  );
});

t.test('Membership join rejects after joinTimeoutMs and keeps retrying seeds in the background', async (t) => {
  const time = new VirtualScheduler();
  const net = new SimNetwork({ scheduler: time });
  t.teardown(() => net.close());
  const make = (id: string, address: string) => {
    const sim = net.addNode(address);
    const m = new Membership({
      id,
      address,
      transport: sim.transport,
      config: localConfig(),
      clock: time,
      timers: sim.timers,
      lagMonitor: sim.lagMonitor,
    });
    sim.attach(m);
    t.teardown(() => m.shutdown());
    return m;
  };
  const a = make('a', 'a:1');
  let error: unknown;
  const joining = a.join(['b:1']).catch((err: unknown) => {
    error = err;
  });
  await time.run(localConfig().joinTimeoutMs + 1000);
  await joining;
  t.ok(isShoalError(error, 'SHOAL_TRANSPORT_UNAVAILABLE'), 'rejected: no seed answered');
  const b = make('b', 'b:1'); // the seed comes up later
  b.start();
  const ok = await time.runUntil(() => a.member('b')?.state === 'alive' && b.member('a')?.state === 'alive', 10_000);
  t.ok(ok, 'the background reconnection found the seed');
});

t.test('Membership shutdown while joining rejects the join with SHOAL_NODE_CLOSED', async (t) => {
  const time = new VirtualScheduler();
  const transport = silentTransport();
  transport.request = () => Promise.reject(new Error('ECONNREFUSED'));
  const m = lonely(time, transport);
  let error: unknown;
  const joining = m.join(['b:1']).catch((err: unknown) => {
    error = err;
  });
  await time.run(10);
  m.shutdown();
  await joining;
  t.ok(isShoalError(error, 'SHOAL_NODE_CLOSED'));
  await t.rejects(m.join(['b:1']), { code: 'SHOAL_NODE_CLOSED' }, 'join after shutdown');
});

t.test('Membership answers a ping for another id with a nack and tells a sender it thinks dead', async (t) => {
  const time = new VirtualScheduler();
  const m = lonely(time);
  t.teardown(() => m.shutdown());
  m.start();
  t.match(await m.handleMessage('x', { kind: K.Ping, from: 'x', target: 'someone-else' }), { kind: K.Nack });
  await m.handleMessage('b:1', {
    kind: K.Gossip,
    updates: [{ kind: K.Alive, id: 'b', address: 'b:1', incarnation: 2 }],
  });
  await m.handleMessage('c:1', { kind: K.Gossip, updates: [{ kind: K.Dead, id: 'b', incarnation: 2, from: 'c' }] });
  const reply = await m.handleMessage('b:1', { kind: K.Ping, from: 'b', target: 'a' });
  t.equal(reply?.kind, K.Ack);
  t.match(reply, { updates: [{ kind: K.Dead, id: 'b', incarnation: 2 }] }, 'the ack carries its death first');
  const pull = await m.handleMessage('b:1', { kind: K.PushPull, from: 'b', members: [] });
  t.match(pull, { kind: K.PushPullReply, from: 'a' });
  m.shutdown();
  t.equal(await m.handleMessage('b:1', { kind: K.Ping, from: 'b', target: 'a' }), undefined, 'silent after shutdown');
});

t.test('Membership with real timers and the default lag monitor starts, probes and stops cleanly', async (t) => {
  const transport = silentTransport();
  const m = new Membership({
    id: 'a',
    address: 'a:1',
    transport,
    config: localConfig(),
    lagMonitor: createEventLoopLagMonitor(),
  });
  t.teardown(() => m.shutdown());
  await m.join([]);
  await m.handleMessage('b:1', {
    kind: K.Gossip,
    updates: [{ kind: K.Alive, id: 'b', address: 'b:1', incarnation: 0 }],
  });
  const start = Date.now();
  while (!transport.sent.some((x) => x.kind === K.Ping) && Date.now() - start < 2000) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.ok(
    transport.sent.some((x) => x.kind === K.Ping),
    'b was probed',
  );
  m.shutdown();
  m.shutdown();
});
