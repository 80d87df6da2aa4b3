/**
 * Prometheus metrics of one node (prom-client, a registry per node so many
 * nodes can share a process). Everything but call latencies is read when
 * scraped (collect callbacks), so metrics cost nothing on the hot path; call
 * counts and latencies are plain numbers (CallTimings) read when scraped.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { ShoalNode } from '../node.js';
import { CallTimings, CallTimingsHistogram } from './call-timings.js';

/** Builds the registry of `node` and starts timing its cache calls. */
export function createNodeMetrics(node: ShoalNode): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ node: node.id });
  const stat = (name: string, help: string, pick: (s: ReturnType<ShoalNode['localCache']['stats']>) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(pick(node.localCache.stats()));
      },
    });
  stat('shoal_cache_hits_total', 'Reads that found their key in this node store', (s) => s.hits);
  stat('shoal_cache_misses_total', 'Reads that did not find their key in this node store', (s) => s.misses);
  stat('shoal_cache_sets_total', 'Writes applied to this node store', (s) => s.sets);
  stat('shoal_cache_deletes_total', 'Deletes applied to this node store', (s) => s.deletes);
  stat('shoal_cache_evictions_total', 'Entries evicted by the eviction policy', (s) => s.evictions);
  stat('shoal_cache_expirations_total', 'Entries removed at their TTL', (s) => s.expirations);
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        collect(this);
      },
    });
  gauge('shoal_cache_entries', 'Entries held by this node (primary and replica copies)', [], (g) =>
    g.set(node.localCache.size),
  );
  gauge('shoal_cache_bytes', 'Accounted bytes of the entries held by this node', [], (g) =>
    g.set(node.localCache.stats().bytes),
  );
  gauge('shoal_cache_max_bytes', 'Memory budget of this node store', [], (g) =>
    g.set(node.localCache.stats().maxBytes),
  );
  gauge('shoal_members', 'Members this node knows, by state', ['state'], (g) => {
    for (const state of ['alive', 'suspect', 'dead', 'left'])
      g.set({ state }, node.members().filter((m) => m.state === state).length);
  });
  gauge('shoal_partitions', 'Partitions this node holds, by role', ['role'], (g) => {
    const owned = node.clusterInfo().table.owned;
    g.set({ role: 'primary' }, owned.primary);
    g.set({ role: 'replica' }, owned.replica);
  });
  gauge(
    'shoal_partitions_migrating',
    'Partitions still arriving here (syncing) or waiting for their new owners (handoff)',
    ['direction'],
    (g) => {
      const r = node.rebalanceStatus();
      g.set({ direction: 'in' }, r.syncing);
      g.set({ direction: 'out' }, r.handingOff);
    },
  );
  gauge('shoal_partition_table_version', 'Version of the partition table in force here', [], (g) =>
    g.set(node.partitionTable().version),
  );
  gauge('shoal_log_end_offset', 'End offset of topic partitions this node leads', ['topic', 'partition'], (g) => {
    for (const p of node.log.leaderSnapshot()) g.set({ topic: p.topic, partition: String(p.partition) }, p.endOffset);
  });
  const groupGauge = (
    name: string,
    help: string,
    pick: (x: { lag: number; unacked: number; redeliveries: number; deadLetters: number }) => number,
  ) =>
    gauge(name, help, ['topic', 'partition', 'group'], (g) => {
      for (const p of node.log.leaderSnapshot()) {
        for (const x of p.groups) g.set({ topic: p.topic, partition: String(p.partition), group: x.group }, pick(x));
      }
    });
  groupGauge(
    'shoal_log_group_lag',
    'Messages not yet acked by the group (end offset - committed offset)',
    (x) => x.lag,
  );
  groupGauge('shoal_log_group_unacked', 'Messages delivered to the group and not yet acked', (x) => x.unacked);
  groupGauge(
    'shoal_log_group_redeliveries',
    'Redeliveries of the group since this node became leader',
    (x) => x.redeliveries,
  );
  groupGauge('shoal_log_group_dead_letters', 'Messages the group sent to the dead-letter topic', (x) => x.deadLetters);
  const gossip = (name: string, help: string, pick: (h: ReturnType<ShoalNode['gossipHealth']>) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(pick(node.gossipHealth()));
      },
    });
  gossip(
    'shoal_gossip_probe_failures_total',
    'Probes of other members that got no ack, direct or indirect',
    (h) => h.probeFailures,
  );
  gossip(
    'shoal_gossip_suspicions_total',
    'Members this node saw become suspect (its own probes or gossip)',
    (h) => h.suspicions,
  );
  gauge(
    'shoal_gossip_health_score',
    'Lifeguard local health score: 0 is healthy; timeouts scale by score + 1',
    [],
    (g) => g.set(node.gossipHealth().healthScore),
  );
  const timings = new CallTimings([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5]);
  new Counter({
    name: 'shoal_ops_total',
    help: 'Cluster cache calls made through this node, by operation and result (ok or error code)',
    labelNames: ['op', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of timings.allSeries()) this.inc({ op: s.op, result: s.result }, s.count);
    },
  });
  new CallTimingsHistogram(
    timings,
    'shoal_op_duration_seconds',
    'Cluster cache calls made through this node, by operation and result (ok or error code)',
    registry,
  );
  node.cache.onCall = (op, result, seconds) => timings.record(op, result, seconds);
  return registry;
}
