/**
 * Cluster-wide tag invalidation: a mark is stamped with the caller's hybrid
 * clock, applied locally and sent to every alive member at once; the call
 * returns when all of them hold it, so once `invalidateTag` resolves no node
 * serves a value the tag covered. A member that joins later gets the whole
 * table from the members that see it join.
 */
import { MessageKind, ShoalError } from '@shoal/protocol';
import type { PeerTransport } from '../transport/peer-transport.js';
import { isTagEntries, type TagOp, type TagRegistry, validateTag } from './tag-registry.js';

/** The hybrid clock tag marks are stamped with (the store's). */
export interface VersionSource {
  nextVersion(): number;
  observeVersion(version: number): void;
}

/** Result of a cluster-wide tag mark. */
export interface TagMarkResult {
  /** Members (this one included) that hold the mark. */
  nodes: number;
}

/** Sends and receives tag marks. */
export class TagService {
  constructor(
    readonly registry: TagRegistry,
    private readonly transport: PeerTransport,
    private readonly clock: VersionSource,
    /** Alive members other than this node. */
    private readonly peers: () => readonly { id: string; address: string }[],
    private readonly timeoutMs: number,
  ) {
    transport.handle(MessageKind.TagMark, (body) => this.receiveMark(body));
    transport.handle(MessageKind.TagSync, (body) => this.receiveSync(body));
  }

  /** Marks `tag` on every alive member; retries members that fail until the timeout. */
  async mark(tag: string, op: TagOp): Promise<TagMarkResult> {
    validateTag(tag);
    const version = this.clock.nextVersion();
    this.registry.mark(tag, op, version);
    const deadline = Date.now() + this.timeoutMs;
    let pending = [...this.peers()];
    let reached = 0;
    let lastError: unknown;
    while (pending.length > 0) {
      const left = deadline - Date.now();
      const results = await Promise.allSettled(
        pending.map((peer) =>
          this.transport.request(peer.address, MessageKind.TagMark, [tag, op, version], Math.max(1, left)),
        ),
      );
      const failed = pending.filter((_, i) => results[i]?.status === 'rejected');
      for (const r of results) if (r.status === 'rejected') lastError = r.reason;
      reached += pending.length - failed.length;
      // members that died meanwhile drop out; a member that joins gets the mark by sync
      const alive = new Set(this.peers().map((p) => p.id));
      pending = failed.filter((p) => alive.has(p.id));
      if (pending.length === 0) break;
      if (Date.now() >= deadline) {
        throw new ShoalError(
          'SHOAL_TAG_INCOMPLETE',
          `${op} of tag ${JSON.stringify(tag)} reached ${reached + 1} members; ${pending.length} did not answer: ${(lastError as Error)?.message}`,
          { tag, op, reached: reached + 1, missing: pending.map((p) => p.id) },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { nodes: reached + 1 };
  }

  /** Gives a member that just joined every mark this node holds. */
  syncTo(address: string): void {
    if (this.registry.size === 0) return;
    this.transport.send(address, MessageKind.TagSync, this.registry.entries());
  }

  private receiveMark(body: unknown): boolean {
    if (!Array.isArray(body) || body.length !== 3 || (body[1] !== 'delete' && body[1] !== 'expire')) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a tag mark is [tag, delete|expire, version]');
    }
    const [tag, op, version] = body as [unknown, TagOp, unknown];
    validateTag(tag);
    if (typeof version !== 'number' || !Number.isFinite(version) || version <= 0) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a tag mark version is a positive number');
    }
    this.clock.observeVersion(version);
    this.registry.mark(tag, op, version);
    return true;
  }

  private receiveSync(body: unknown): void {
    if (!isTagEntries(body))
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a tag sync is [[tag, deletedAt, expiredAt], ...]');
    for (const [, deletedAt, expiredAt] of body) this.clock.observeVersion(Math.max(deletedAt, expiredAt));
    this.registry.merge(body);
  }
}
