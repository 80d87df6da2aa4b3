/**
 * A consumer-group member killed for real: a child process (fixtures/consumer-member.ts) consumes,
 * acks some messages and holds the next ones unacked; it is SIGKILLed by its pid and a member in
 * this process must get every held message again once the lease runs out, with the committed
 * offsets kept (nothing below them comes back) and nothing above them skipped.
 *
 * Failure detection is slowed down on purpose (suspicion takes minutes) and the topic is placed so
 * the child leads none of its partitions: the kill then changes no partition table and no leader,
 * so the ack timeout is the only thing that can free the held deliveries (the path of a consumer
 * process whose death the cluster has not noticed; a dead node's takeover is log-process.test.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import t, { type Test } from 'tap';
import { createXxHash32, Partitioner, type ShoalNode } from '../../src/index.js';
import { eventually, startCluster } from '../cluster/helpers.js';

const fixture = new URL('./fixtures/consumer-member.js', import.meta.url).pathname;
// local-preset speeds, but a suspected member is declared dead only after 100 s
const SLOW_DEATH = { probeIntervalMs: 100, probeTimeoutMs: 50, gossipIntervalMs: 50, suspicionMult: 1000 };
const MESSAGES = 240;
const ACK_TIMEOUT_MS = 3000;
const ACK_FIRST = 40;
const CONCURRENCY = 12;
const GROUP = 'billing';

interface Got {
  id: string;
  partition: number;
  offset: number;
  deliveries: number;
  acked: boolean;
  at: number;
}

/** Spawns the member process; resolves with it once it printed `ready`; collects its `got` lines. */
async function spawnMember(t: Test, seed: string) {
  const child: ChildProcess = spawn(process.execPath, [fixture, seed, JSON.stringify(SLOW_DEATH)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const got: Got[] = [];
  const ready = new Promise<{ id: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`member not ready in 30 s: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('ready ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as { id: string });
      } else if (line.startsWith('got ')) got.push(JSON.parse(line.slice(4)) as Got);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`member exited with ${code}: ${stderr}`));
    });
  });
  const { id } = await ready;
  return { child, id, got };
}

/**
 * A topic none of whose partitions the node `avoid` leads (names tried in a fixed order, so the
 * choice is reproducible). Topic partition p lives on ring partition partitionOf(topic + '\0' + p).
 */
async function topicNotLedBy(node: ShoalNode, avoid: string, partitions: number): Promise<string> {
  const table = node.partitionTable();
  const ring = new Partitioner(table.partitionCount, await createXxHash32());
  for (let i = 0; i < 500; i++) {
    const topic = `invoices-${i}`;
    const leaders = Array.from(
      { length: partitions },
      (_, p) => table.owners[ring.partitionOf(`${topic}\u0000${p}`)]?.[0],
    );
    if (leaders.every((l) => l !== undefined && l !== avoid)) return topic;
  }
  throw new Error(`no topic of ${partitions} partitions avoids ${avoid} among 500 names`);
}

t.test(
  'Consumer group: a member SIGKILLed with unacked deliveries; another member gets them after the ack timeout, committed offsets kept, nothing skipped',
  async (t) => {
    const nodes = await startCluster(t, 3, { membership: SLOW_DEATH, requestTimeoutMs: 15_000 });
    const [n0] = nodes as [ShoalNode];
    const member = await spawnMember(t, n0.address);
    await eventually(
      t,
      'the member process joins and every table agrees',
      () =>
        nodes.every(
          (n) =>
            n.members().filter((m) => m.state === 'alive').length === 4 &&
            JSON.stringify(n.partitionTable().owners) === JSON.stringify(n0.partitionTable().owners),
        ),
      30_000,
    );
    const tableBefore = n0.partitionTable().version;
    const topic = await topicNotLedBy(n0, member.id, 2);
    await n0.log.createTopic(topic, { partitions: 2 });

    const ids = Array.from({ length: MESSAGES }, (_, i) => `inv-${i}`);
    for (let i = 0; i < ids.length; i += 40) {
      await Promise.all(
        ids.slice(i, i + 40).map((id, j) => n0.log.append(topic, { n: i + j }, { id, key: `c${(i + j) % 7}` })),
      );
    }
    const ends = (await n0.log.lag(topic, 'nobody')).map((p) => p.endOffset);
    t.equal(
      ends.reduce((a, b) => a + b, 0),
      MESSAGES,
      'every message is stored once',
    );

    // another group on another node reads the same messages meanwhile: the kill must cost it nothing
    const audited = new Set<string>();
    const auditor = (nodes[1] as ShoalNode).log.consume(topic, { group: 'audit', from: 'earliest' }, (m) => {
      audited.add(m.id as string);
    });
    t.teardown(() => auditor.close());

    member.child.stdin?.write(
      `consume ${JSON.stringify({ topic, group: GROUP, ackTimeoutMs: ACK_TIMEOUT_MS, concurrency: CONCURRENCY, ackFirst: ACK_FIRST })}\n`,
    );
    await eventually(
      t,
      'the member acked its first messages and holds a full window',
      () => member.got.length >= ACK_FIRST + CONCURRENCY,
      30_000,
    );
    // its acks reached the leaders: each partition's acked messages are a prefix, so the commits add up to them
    let committedBefore: number[] = [];
    await eventually(t, 'the acks are committed', async () => {
      const lag = await n0.log.lag(topic, GROUP);
      committedBefore = lag.map((p) => p.committedOffset);
      return committedBefore.reduce((a, b) => a + b, 0) === ACK_FIRST;
    });
    const held = member.got.filter((g) => !g.acked);
    const unackedAtKill = (await n0.log.lag(topic, GROUP)).reduce((s, p) => s + p.unacked, 0);
    t.ok(unackedAtKill >= held.length, `${unackedAtKill} deliveries unacked at the kill (${held.length} in handlers)`);

    const killedAt = Date.now();
    t.ok(member.child.kill('SIGKILL'), 'the member process is SIGKILLed by its pid');
    await new Promise((resolve) => member.child.once('exit', resolve));

    const seen: Got[] = [];
    const survivor = n0.log.consume(
      topic,
      { group: GROUP, from: 'earliest', concurrency: 16, ackTimeoutMs: ACK_TIMEOUT_MS },
      (m) => {
        seen.push({
          id: m.id as string,
          partition: m.partition,
          offset: m.offset,
          deliveries: m.deliveries,
          acked: true,
          at: Date.now(),
        });
      },
    );
    t.teardown(() => survivor.close());

    const ackedByMember = new Set(member.got.filter((g) => g.acked).map((g) => g.id));
    await eventually(
      t,
      'every message is handled by one member or the other',
      () => {
        const handled = new Set([...ackedByMember, ...seen.map((s) => s.id)]);
        return ids.every((id) => handled.has(id));
      },
      60_000,
    );
    await eventually(
      t,
      'the group is fully committed',
      async () => (await n0.log.lag(topic, GROUP)).every((p) => p.lag === 0 && p.unacked === 0),
      30_000,
    );

    await eventually(t, 'the other group gets every message', () => audited.size === MESSAGES, 30_000);
    t.same(
      ids.filter((id) => !audited.has(id)),
      [],
      'the other group missed nothing',
    );
    await auditor.close();
    const handled = new Map<string, number>();
    for (const id of [...ackedByMember, ...seen.map((s) => s.id)]) handled.set(id, (handled.get(id) ?? 0) + 1);
    t.equal(ids.filter((id) => (handled.get(id) ?? 0) >= 1).length, MESSAGES, 'every message id handled at least once');
    const belowCommit = seen.filter((s) => s.offset < (committedBefore[s.partition] as number));
    t.same(belowCommit, [], 'nothing below the committed offsets is delivered again');
    for (const [p, end] of ends.entries()) {
      const offsets = new Set(seen.filter((s) => s.partition === p).map((s) => s.offset));
      const missing: number[] = [];
      for (let o = committedBefore[p] as number; o < end; o++) if (!offsets.has(o)) missing.push(o);
      t.same(
        missing,
        [],
        `partition ${p}: every offset from the commit (${committedBefore[p]}) to the end (${end}) reaches the survivor`,
      );
    }
    for (const h of held) {
      const again = seen.find((s) => s.id === h.id);
      t.ok(
        again !== undefined && again.deliveries >= 2,
        `${h.id} (held) is redelivered as delivery ${again?.deliveries}`,
      );
      // the lease started at the leader a moment before the member's handler ran
      t.ok(
        again !== undefined && again.at >= h.at + ACK_TIMEOUT_MS - 500,
        `${h.id} comes back only after the ack timeout (${again === undefined ? '-' : again.at - h.at} ms after the member got it)`,
      );
    }
    t.equal(n0.partitionTable().version, tableBefore, 'the kill changed no partition table (the lease freed them)');
    t.equal(survivor.lastError, undefined, 'the surviving member saw no error');
    t.ok(Date.now() - killedAt < 60_000, 'recovered within a minute of the kill');
    await survivor.close();
  },
);
