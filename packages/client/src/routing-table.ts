/**
 * The client's copy of the cluster's partition table: which nodes own each
 * partition (primary first) and where their client endpoints are. Keys map to
 * partitions with the same function the nodes use (xxhash32 of the UTF-8 key
 * modulo partitionCount, from @shoal/protocol), so a request goes straight to
 * its primary. Tables are named by `id` (a hash of the owners, equal on every
 * node with the same table; nodes count versions independently), and the
 * client takes whichever table a node last sent that differs from its own:
 * nodes only send theirs when it changed or differs from the client's.
 */
import { partitionOf } from '@shoal/protocol';

/** The table as the node sends it (hello reply and topology pushes). */
export interface WireTable {
  /** Hash of the owners. */
  id: number;
  /** The sending node's own count of table changes. */
  version: number;
  partitionCount: number;
  replicas: number;
  owners: string[][];
  /** node id -> 'host:port'. */
  addresses: Record<string, string>;
}

/** Partition → owners, node → endpoint URL. */
export class RoutingTable {
  private table: WireTable | undefined;

  /** Id of the table held, 0 before the first one. */
  get id(): number {
    return this.table?.id ?? 0;
  }

  /** Partitions of the cluster (0 before the first table). */
  get partitionCount(): number {
    return this.table?.partitionCount ?? 0;
  }

  /** Takes `table` when it differs from the one held; true when it did. */
  update(table: WireTable): boolean {
    if (!isWireTable(table)) return false;
    if (this.table !== undefined && table.id === this.table.id) {
      // same owners; addresses may still have changed (a node restarted on another port)
      this.table = table;
      return false;
    }
    this.table = table;
    return true;
  }

  /** Owners of the partition of `key`, primary first (empty before the first table). */
  ownersOf(key: string): readonly string[] {
    const t = this.table;
    if (t === undefined || t.partitionCount === 0) return [];
    return t.owners[partitionOf(key, t.partitionCount)] ?? [];
  }

  /** The primary of every partition (empty before the first table). */
  primaries(): (string | undefined)[] {
    return (this.table?.owners ?? []).map((owners) => owners[0]);
  }

  /** 'host:port' of a node, if the table lists it. */
  addressOf(nodeId: string): string | undefined {
    return this.table?.addresses[nodeId];
  }

  /** Every node the table knows, with its address. */
  nodes(): [id: string, address: string][] {
    return Object.entries(this.table?.addresses ?? {});
  }
}

function isWireTable(t: unknown): t is WireTable {
  if (typeof t !== 'object' || t === null) return false;
  const w = t as WireTable;
  return (
    Number.isSafeInteger(w.id) &&
    Number.isSafeInteger(w.version) &&
    Number.isSafeInteger(w.partitionCount) &&
    Array.isArray(w.owners) &&
    typeof w.addresses === 'object' &&
    w.addresses !== null
  );
}
