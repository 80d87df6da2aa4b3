/**
 * What `GET /ready` answers: a node is ready once it has joined (it holds a
 * partition table and, when it was given seeds, sees another member) and while
 * it is not leaving or handing partitions away. Load balancers and orchestrators
 * poll it, so it reads only in-memory state.
 */

/** The parts of a node readiness looks at. */
export interface ReadinessSource {
  readonly id: string;
  readonly options: { readonly seeds: readonly string[] };
  members(): readonly { id: string; state: string }[];
  partitionTable(): { version: number };
  rebalanceStatus(): { syncing: number; handingOff: number };
}

/** Why a node is not ready. */
export type NotReadyReason = 'starting' | 'joining' | 'leaving' | 'migrating-away';

/** The answer of /ready. */
export interface Readiness {
  ready: boolean;
  reason?: NotReadyReason;
  members: number;
  syncing: number;
  handingOff: number;
}

/** Readiness of `node`; `undefined` while the node object does not exist yet. */
export function readinessOf(node: ReadinessSource | undefined): Readiness {
  if (node === undefined) return { ready: false, reason: 'starting', members: 0, syncing: 0, handingOff: 0 };
  const members = node.members();
  const live = members.filter((m) => m.state === 'alive' || m.state === 'suspect');
  const { syncing, handingOff } = node.rebalanceStatus();
  const base = { members: live.length, syncing, handingOff };
  const self = members.find((m) => m.id === node.id);
  if (self === undefined || self.state === 'left' || self.state === 'dead')
    return { ready: false, reason: 'leaving', ...base };
  if (node.partitionTable().version === 0) return { ready: false, reason: 'joining', ...base };
  // seeds given but nobody met yet: serving alone would split the keyspace
  if (node.options.seeds.length > 0 && live.length < 2) return { ready: false, reason: 'joining', ...base };
  if (handingOff > 0) return { ready: false, reason: 'migrating-away', ...base };
  return { ready: true, ...base };
}
