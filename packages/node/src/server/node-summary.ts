/**
 * One node's state in one JSON object (`GET /v1/node`), and the cluster view
 * the dashboard polls (`GET /v1/dashboard`): the summary of every live member,
 * gathered over their HTTP APIs, next to this node's membership and partition
 * table. A member that does not answer is listed with its error, not dropped.
 */
import type { ShoalNode } from '../node.js';
import type { OpsHistory, OpsRates } from './ops-history.js';
import { getPeerJson } from './peer-http.js';

/** What `GET /v1/node` answers. */
export interface NodeSummary {
  id: string;
  address: string;
  version: string;
  memory: { bytes: number; maxBytes: number; entries: number };
  /** Store operations since start (reads are hits + misses). */
  ops: { hits: number; misses: number; sets: number; deletes: number; evictions: number; expirations: number };
  /** hits / (hits + misses), 0 before the first read. */
  hitRatio: number;
  gossip: { healthScore: number; probeFailures: number; suspicions: number };
  partitions: { primary: number; replica: number; syncing: number; handingOff: number };
  /** Topic partitions this node leads, with their groups. */
  topics: ReturnType<ShoalNode['log']['leaderSnapshot']>;
  /** Store operations/s over the last minutes (absent: not sampled). */
  opsPerSecond?: OpsRates;
}

/** Store operations of `node` so far: reads (hits + misses), sets and deletes. */
export function storeOps(node: ShoalNode): number {
  const s = node.localCache.stats();
  return s.hits + s.misses + s.sets + s.deletes;
}

/** The summary of `node` (cheap: in-memory counters only). */
export function nodeSummary(node: ShoalNode, history?: OpsHistory): NodeSummary {
  const s = node.localCache.stats();
  const info = node.clusterInfo();
  const reads = s.hits + s.misses;
  return {
    id: node.id,
    address: node.address,
    version: node.options.version,
    memory: { bytes: s.bytes, maxBytes: s.maxBytes, entries: s.entries },
    ops: {
      hits: s.hits,
      misses: s.misses,
      sets: s.sets,
      deletes: s.deletes,
      evictions: s.evictions,
      expirations: s.expirations,
    },
    hitRatio: reads === 0 ? 0 : s.hits / reads,
    gossip: node.gossipHealth(),
    partitions: { ...info.table.owned, syncing: info.rebalancing.syncing, handingOff: info.rebalancing.handingOff },
    topics: node.log.leaderSnapshot(),
    ...(history === undefined ? {} : { opsPerSecond: history.rates() }),
  };
}

/** A topic summed over the partitions every member leads. */
export interface TopicSummary {
  topic: string;
  partitions: number;
  /** Messages retained: sum of end - start offsets. */
  messages: number;
  groups: { group: string; lag: number; unacked: number; deadLetters: number }[];
}

/** What `GET /v1/dashboard` answers. */
export interface DashboardSummary {
  self: string;
  at: number;
  cluster: ReturnType<ShoalNode['clusterInfo']>;
  nodes: { id: string; address: string; state: string; summary?: NodeSummary; error?: string }[];
  topics: TopicSummary[];
}

function mergeTopics(summaries: readonly NodeSummary[]): TopicSummary[] {
  const topics = new Map<string, TopicSummary>();
  for (const s of summaries) {
    for (const p of s.topics) {
      let t = topics.get(p.topic);
      if (t === undefined) {
        t = { topic: p.topic, partitions: 0, messages: 0, groups: [] };
        topics.set(p.topic, t);
      }
      t.partitions++;
      t.messages += p.endOffset - p.startOffset;
      for (const g of p.groups) {
        let group = t.groups.find((x) => x.group === g.group);
        if (group === undefined) {
          group = { group: g.group, lag: 0, unacked: 0, deadLetters: 0 };
          t.groups.push(group);
        }
        group.lag += g.lag;
        group.unacked += g.unacked;
        group.deadLetters += g.deadLetters;
      }
    }
  }
  return [...topics.values()].sort((a, b) => (a.topic < b.topic ? -1 : 1));
}

/**
 * The dashboard view from `node`: every live member's summary fetched over
 * HTTP with the caller's `authorization` (members of one cluster share their
 * tokens), dead and left members listed with their state only.
 */
export async function dashboardSummary(
  node: ShoalNode,
  authorization: string | undefined,
  history?: OpsHistory,
): Promise<DashboardSummary> {
  const cluster = node.clusterInfo();
  const tls = node.options.tls === undefined ? undefined : { ca: node.options.tls.ca };
  const nodes = await Promise.all(
    cluster.members.map(async (m): Promise<DashboardSummary['nodes'][number]> => {
      const base = { id: m.id, address: m.address, state: m.state };
      if (m.id === node.id) return { ...base, summary: nodeSummary(node, history) };
      if (m.state === 'dead' || m.state === 'left') return base;
      try {
        const summary = (await getPeerJson(m.address, '/v1/node', authorization, {
          tls,
          timeoutMs: 1500,
        })) as NodeSummary;
        return { ...base, summary };
      } catch (err) {
        return { ...base, error: (err as Error).message };
      }
    }),
  );
  nodes.sort((a, b) => (a.id < b.id ? -1 : 1));
  const summaries = nodes.flatMap((n) => (n.summary === undefined ? [] : [n.summary]));
  return { self: node.id, at: Date.now(), cluster, nodes, topics: mergeTopics(summaries) };
}
