/**
 * The client's copy of the cluster's partition table: which nodes own each
 * partition (primary first) and where their client endpoints are. Keys map to
 * partitions with the same function the nodes use (xxhash32 of the UTF-8 key
 * modulo partitionCount, from @shoal/protocol), so a request goes straight to
 * its primary. A newer table (by version) always replaces an older one.
 */
import { partitionOf } from '@shoal/protocol';

/** The table as the node sends it (hello reply and topology pushes). */
export interface WireTable {
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

  /** Table version, 0 before the first one. */
  get version(): number {
    return this.table?.version ?? 0;
  }

  /** Partitions of the cluster (0 before the first table). */
  get partitionCount(): number {
    return this.table?.partitionCount ?? 0;
  }

  /** Takes `table` if it is newer than the one held; true when it did. */
  update(table: WireTable): boolean {
    if (!isWireTable(table)) return false;
    if (this.table !== undefined && table.version <= this.table.version) return false;
    this.table = table;
    return true;
  }

  /** Owners of the partition of `key`, primary first (empty before the first table). */
  ownersOf(key: string): readonly string[] {
    const t = this.table;
    if (t === undefined || t.partitionCount === 0) return [];
    return t.owners[partitionOf(key, t.partitionCount)] ?? [];
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
    Number.isSafeInteger(w.version) &&
    Number.isSafeInteger(w.partitionCount) &&
    Array.isArray(w.owners) &&
    typeof w.addresses === 'object' &&
    w.addresses !== null
  );
}
