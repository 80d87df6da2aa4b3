/**
 * One Shoal node in a child process, driven by the cluster scenario over IPC
 * (messages in worker-protocol.ts): it creates an embedded node with the
 * default settings plus the given id and seeds, reports `ready`, reports every
 * change of a member's state with its `Date.now()`, and runs commands: a
 * bounded get/set load on its own `node.cache`, event-loop stalls, traffic
 * counters, store and rebalancing snapshots, and the log scenario's commands (log/shoal-log-commands.ts). The parent ends it with SIGKILL; it also exits when the IPC channel
 * closes, so a crashed parent leaves no node behind.
 */
import { createNode, type ShoalNode } from '@shoal/node';
import { runLogCommand } from '../log/shoal-log-commands.js';
import { prefill, runLoad } from './load.js';
import { injectStalls } from './stalls.js';
import type {
  ObservedState,
  ParentMessage,
  RebalanceSnapshot,
  StoreSnapshot,
  TrafficCounters,
  WorkerCommand,
  WorkerMessage,
  WorkerNodeOptions,
  WorkerResult,
} from './worker-protocol.js';

const POLL_MS = 10;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

/** Reports each change of a member's state once, whichever of event or poll sees it first. */
class MemberWatcher {
  private readonly states = new Map<string, ObservedState>();
  constructor(private readonly self: string) {}

  observe(member: string, to: ObservedState, source: 'event' | 'poll'): void {
    if (member === this.self) return;
    const from = this.states.get(member) ?? null;
    if (from === to) return;
    this.states.set(member, to);
    send({ type: 'observation', observation: { at: Date.now(), observer: this.self, member, from, to, source } });
  }
}

/** Traffic this node sent to its peers (public counters of the transport). */
async function traffic(node: ShoalNode): Promise<TrafficCounters | null> {
  const { messagesOut, framesOut, bytesOut } = await node.transportCounters();
  return { messagesOut, framesOut, bytesOut };
}

async function store(node: ShoalNode): Promise<StoreSnapshot> {
  const [{ node: local }, counters] = await Promise.all([node.stats(), node.transportCounters()]);
  return { entries: local.entries, bytes: local.bytes, bytesOut: counters.bytesOut, bytesIn: counters.bytesIn };
}

function rebalance(node: ShoalNode): RebalanceSnapshot {
  const { syncing, handingOff } = node.rebalanceStatus();
  const table = node.partitionTable();
  const owners = new Set<string>();
  let tableHash = 0x811c9dc5; // FNV-1a over every owner id in order: cheap, and any routing difference shows
  for (const copies of table.owners) {
    for (const id of copies) {
      owners.add(id);
      for (let i = 0; i < id.length; i++) tableHash = Math.imul(tableHash ^ id.charCodeAt(i), 0x01000193) >>> 0;
      tableHash = Math.imul(tableHash ^ 0x2c, 0x01000193) >>> 0;
    }
    tableHash = Math.imul(tableHash ^ 0x3b, 0x01000193) >>> 0;
  }
  const alive = node.members().filter((m) => m.state === 'alive').length;
  return { syncing, handingOff, tableVersion: table.version, tableHash, owners: owners.size, alive };
}

async function start(options: WorkerNodeOptions): Promise<ShoalNode> {
  const node = await createNode({
    host: '127.0.0.1',
    port: 0,
    nodeId: options.nodeId,
    seeds: [...options.seeds],
    ...(options.antiEntropyIntervalMs === undefined ? {} : { antiEntropyIntervalMs: options.antiEntropyIntervalMs }),
  });
  const watcher = new MemberWatcher(node.id);
  node.on('member-join', (m) => watcher.observe(m.id, 'alive', 'event'));
  node.on('member-dead', (m) => watcher.observe(m.id, 'dead', 'event'));
  node.on('member-leave', (m) => watcher.observe(m.id, 'left', 'event'));
  node.on('member-suspect', (m) => watcher.observe(m.id, 'suspect', 'event'));
  node.on('member-alive', (m) => watcher.observe(m.id, 'alive', 'event'));
  const poll = (): void => {
    for (const m of node.members()) watcher.observe(m.id, m.state, 'poll');
  };
  poll();
  setInterval(poll, POLL_MS);
  send({ type: 'ready', nodeId: node.id, address: node.address, suspectEvents: true });
  return node;
}

async function run(node: ShoalNode, command: WorkerCommand): Promise<WorkerResult> {
  const ops = {
    get: (key: string) => node.cache.get(key),
    set: (key: string, value: string) => node.cache.set(key, value),
  };
  switch (command.type) {
    case 'load':
      return runLoad(ops, command.spec);
    case 'prefill':
      return { written: await prefill(ops, command.spec, command.shard, command.shards) };
    case 'stall':
      return injectStalls(command.spec);
    case 'traffic':
      return traffic(node);
    case 'store':
      return store(node);
    case 'rebalance':
      return rebalance(node);
    case 'log':
      return runLogCommand(node, command.command);
  }
}

let node: Promise<ShoalNode> | undefined;
process.on('message', (raw: unknown) => {
  const message = raw as ParentMessage;
  if (message.type === 'start') {
    node ??= start(message.options);
    node.catch((err: unknown) => {
      send({ type: 'error', id: null, message: err instanceof Error ? err.message : String(err) });
      process.exitCode = 1;
      process.disconnect();
    });
    return;
  }
  if (node === undefined) {
    send({ type: 'error', id: message.id, message: 'command before start' });
    return;
  }
  node
    .then((n) => run(n, message))
    .then(
      (result) => send({ type: 'reply', id: message.id, result }),
      (err: unknown) =>
        send({ type: 'error', id: message.id, message: err instanceof Error ? err.message : String(err) }),
    );
});
// the parent went away (or asked us to go): nothing left to serve
process.on('disconnect', () => process.exit());

if (process.send === undefined) {
  process.stderr.write('node-worker: must be started with child_process.fork\n');
  process.exit(2);
}
