/**
 * Export and load of cache snapshots. Export writes this node's entries
 * (scope 'node') or every key of the cluster once, pulled page by page from
 * each key's primary (scope 'cluster'). Load verifies the whole file first
 * (every CRC and the trailer), then sends each record to its key's owners as a
 * replication copy: last-writer-wins on version, so an existing newer value
 * wins, and entries whose TTL ran out (on disk too) are skipped.
 */
import { MessageKind, ShoalError } from '@shoal/protocol';
import type { ClusterView } from '../replication/cluster-view.js';
import type { ReplicaRecord, ReplicaStore } from '../replication/replica-store.js';
import type { Clock } from '../store/clock.js';
import { compareVersions } from '../store/hybrid-clock.js';
import type { EntryRecord } from '../store/local-cache.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import {
  decodePayload,
  FRAME_HEADER,
  FRAME_RECORDS,
  isSnapshotRecord,
  readFrames,
  type SnapshotHeader,
  type SnapshotRecord,
  type SnapshotScope,
} from './snapshot-format.js';
import { SnapshotWriter } from './snapshot-writer.js';

/** Options of `node.exportSnapshot`. */
export interface ExportSnapshotOptions {
  /** 'node': what this node holds (primary and replica copies). 'cluster': every key once. Default 'node'. */
  scope?: SnapshotScope;
}

/** What an export wrote. */
export interface SnapshotExportResult {
  file: string;
  scope: SnapshotScope;
  records: number;
  bytes: number;
  durationMs: number;
}

/** What a load did with the records of a file. */
export interface SnapshotLoadResult {
  file: string;
  /** Records in the file. */
  records: number;
  /** Records stored by at least one owner. */
  loaded: number;
  /** Records past their TTL, not loaded. */
  expired: number;
  /** Records every owner already held at the same or a newer version. */
  stale: number;
  /** Records no owner accepted (unreachable, or the table moved meanwhile). */
  failed: number;
  durationMs: number;
}

/** SnapshotPage body: [cursor, maxItems]. Reply: { items: [key, entry][], cursor } of keys the node is primary for. */
export type SnapshotPageBody = [cursor: number, maxItems: number];

/** What Snapshots needs from the node. */
export interface SnapshotsDeps {
  store: ReplicaStore;
  view: ClusterView;
  transport: PeerTransport;
  clock: Clock;
  partitionCount: number;
  /** Live members, in a stable order. */
  members: () => { id: string; address: string }[];
  requestTimeoutMs: number;
}

const PAGE = 1000;

/** Snapshot export and load for one node. */
export class Snapshots {
  /** The last load and export (node.stats() reports them). */
  lastLoad: SnapshotLoadResult | undefined;
  lastExport: SnapshotExportResult | undefined;

  constructor(private readonly deps: SnapshotsDeps) {
    deps.transport.handle(MessageKind.SnapshotPage, (body) => this.servePage(body));
  }

  /** Writes a snapshot of this node's entries or of the cluster's to `file` (temp file + rename). */
  async export(file: string, options: ExportSnapshotOptions = {}): Promise<SnapshotExportResult> {
    const scope = options.scope ?? 'node';
    if (scope !== 'node' && scope !== 'cluster')
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', "scope must be 'node' or 'cluster'", { option: 'scope' });
    if (typeof file !== 'string' || file.length === 0)
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'exportSnapshot needs a file path');
    const started = Date.now();
    const now = this.deps.clock.now();
    const writer = await SnapshotWriter.open(file, {
      scope,
      nodeId: this.deps.view.selfId,
      writtenAt: now,
      partitionCount: this.deps.partitionCount,
    });
    try {
      const add = async (key: string, entry: EntryRecord) => {
        const ttlMs = entry.expiresAt === 0 ? 0 : entry.expiresAt - now;
        if (entry.expiresAt !== 0 && ttlMs <= 0) return;
        await writer.add([key, entry.kind, entry.value, ttlMs, entry.version, entry.origin]);
      };
      if (scope === 'node') {
        let cursor = 0;
        do {
          const page = this.deps.store.cache.scan({ cursor, count: PAGE });
          for (const key of page.keys) {
            const entry = this.deps.store.cache.entry(key);
            if (entry !== undefined) await add(key, entry);
          }
          cursor = page.cursor;
        } while (cursor !== 0);
      } else {
        for (const member of this.deps.members()) {
          let cursor = 0;
          do {
            const body: SnapshotPageBody = [cursor, PAGE];
            const page = (
              member.id === this.deps.view.selfId
                ? this.servePage(body)
                : await this.deps.transport.request(
                    member.address,
                    MessageKind.SnapshotPage,
                    body,
                    this.deps.requestTimeoutMs,
                  )
            ) as { items: [string, EntryRecord][]; cursor: number };
            for (const [key, entry] of page.items) await add(key, entry);
            cursor = page.cursor;
          } while (cursor !== 0);
        }
      }
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const { records, bytes } = await writer.finish();
    this.lastExport = { file, scope, records, bytes, durationMs: Date.now() - started };
    return this.lastExport;
  }

  /** Verifies `file`, then loads every unexpired record into its key's owners (newer existing versions win). */
  async load(file: string): Promise<SnapshotLoadResult> {
    const started = Date.now();
    // a first pass checks every frame, so a damaged file loads nothing rather than a prefix
    let header: SnapshotHeader | undefined;
    for await (const [type, payload] of readFrames(file)) {
      if (type === FRAME_HEADER) header = decodePayload(payload) as SnapshotHeader;
    }
    const writtenAt = typeof header?.writtenAt === 'number' ? header.writtenAt : 0;
    const result: SnapshotLoadResult = {
      file,
      records: 0,
      loaded: 0,
      expired: 0,
      stale: 0,
      failed: 0,
      durationMs: 0,
    };
    for await (const [type, payload] of readFrames(file)) {
      if (type !== FRAME_RECORDS) continue;
      const list = decodePayload(payload) as unknown[];
      if (!list.every(isSnapshotRecord)) {
        throw new ShoalError('SHOAL_SNAPSHOT_CORRUPT', `snapshot ${file} holds a malformed record`, {
          file,
          reason: 'malformed record',
        });
      }
      result.records += list.length;
      await this.apply(list, writtenAt, result);
    }
    result.durationMs = Date.now() - started;
    this.lastLoad = result;
    return result;
  }

  /** Sends one frame's records to their owners; counts what happened to each. */
  private async apply(list: SnapshotRecord[], writtenAt: number, result: SnapshotLoadResult): Promise<void> {
    const now = this.deps.clock.now();
    const byOwner = new Map<string, [string, ReplicaRecord][]>();
    const outcome = new Map<string, 'loaded' | 'stale' | 'failed'>();
    for (const [key, kind, value, ttlMs, version, origin] of list) {
      const expiresAt = ttlMs === 0 ? 0 : writtenAt + ttlMs;
      if (expiresAt !== 0 && expiresAt <= now) {
        result.expired++;
        continue;
      }
      outcome.set(key, 'failed');
      const record: EntryRecord = { kind, value, version, origin, expiresAt };
      for (const owner of this.deps.view.ownersOf(this.deps.view.partitionOf(key))) {
        const items = byOwner.get(owner) ?? [];
        items.push([key, record]);
        byOwner.set(owner, items);
      }
    }
    const self = this.deps.view.selfId;
    await Promise.all(
      [...byOwner].map(async ([owner, items]) => {
        if (owner === self) {
          for (const [key, record] of items) mark(outcome, key, this.deps.store.apply(key, record));
          return;
        }
        const address = this.deps.view.addressOf(owner);
        if (address === undefined) return;
        try {
          // Replicate answers only a count: ask first what the owner holds, and send only what is newer
          const held = (await this.deps.transport.request(
            address,
            MessageKind.Records,
            items.map(([key]) => key),
            this.deps.requestTimeoutMs,
          )) as (ReplicaRecord | null)[];
          const newer = items.filter(([key, record], i) => {
            const h = held[i];
            const fresher = h == null || compareVersions(record.version, record.origin, h.version, h.origin) > 0;
            if (!fresher) mark(outcome, key, false);
            return fresher;
          });
          if (newer.length === 0) return;
          await this.deps.transport.request(address, MessageKind.Replicate, [-1, newer], this.deps.requestTimeoutMs);
          for (const [key] of newer) mark(outcome, key, true);
        } catch {
          // the owner refused or is gone: the key stays 'failed' unless another owner took it
        }
      }),
    );
    for (const state of outcome.values()) result[state]++;
  }

  private servePage(body: unknown): { items: [string, EntryRecord][]; cursor: number } {
    if (!Array.isArray(body) || body.length !== 2 || !Number.isSafeInteger(body[0]) || !Number.isSafeInteger(body[1]))
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a snapshot page request is [cursor, maxItems]');
    const [cursor, maxItems] = body as SnapshotPageBody;
    const { cache } = this.deps.store;
    const { view } = this.deps;
    const page = cache.scan({ cursor, count: Math.min(Math.max(1, maxItems), 10_000) });
    const items: [string, EntryRecord][] = [];
    for (const key of page.keys) {
      if (view.ownersOf(view.partitionOf(key))[0] !== view.selfId) continue;
      const entry = cache.entry(key);
      if (entry !== undefined) items.push([key, entry]);
    }
    return { items, cursor: page.cursor };
  }
}

/** 'loaded' once any owner stored the record, else 'stale' once any owner held it already. */
function mark(outcome: Map<string, 'loaded' | 'stale' | 'failed'>, key: string, applied: boolean): void {
  const current = outcome.get(key);
  if (applied) outcome.set(key, 'loaded');
  else if (current === 'failed') outcome.set(key, 'stale');
}
