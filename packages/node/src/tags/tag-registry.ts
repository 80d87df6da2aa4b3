/**
 * What every node knows about tags: for each tag, the hybrid-clock version of
 * its last invalidation (delete) and expiry (mark stale). Tagged values are
 * judged against it when read, so `invalidateTag` costs one small broadcast,
 * not a walk over every key holding the tag, and a value written after the
 * invalidation (a higher version, causally) is unaffected. Values outlive
 * their tag marks only until their own TTL; the registry is bounded and drops
 * its oldest marks first.
 */

/** A tag's marks: versions of its last delete and expire (0: never). */
export interface TagMarks {
  deletedAt: number;
  expiredAt: number;
}

/** How a tag is invalidated: `delete` makes tagged values gone, `expire` makes them stale. */
export type TagOp = 'delete' | 'expire';

/** A tag mark as it travels: [tag, deletedAt, expiredAt]. */
export type TagEntry = [tag: string, deletedAt: number, expiredAt: number];

export { MAX_TAG_LENGTH, MAX_TAGS_PER_VALUE, validateTag, validateTags } from '@shoal/protocol';

/** The tag marks a node holds. */
export class TagRegistry {
  private readonly marks = new Map<string, TagMarks>();

  constructor(private readonly maxTags = 100_000) {}

  /** Marks of `tag`, if any. */
  get(tag: string): TagMarks | undefined {
    return this.marks.get(tag);
  }

  /** Records an invalidation at `version`; keeps the newer mark. Returns whether anything changed. */
  mark(tag: string, op: TagOp, version: number): boolean {
    const current = this.marks.get(tag);
    const next: TagMarks = current === undefined ? { deletedAt: 0, expiredAt: 0 } : { ...current };
    if (op === 'delete') {
      if (next.deletedAt >= version) return false;
      next.deletedAt = version;
    } else {
      if (next.expiredAt >= version) return false;
      next.expiredAt = version;
    }
    this.store(tag, next);
    return true;
  }

  /** Merges marks from another node (newest of each wins). */
  merge(entries: readonly TagEntry[]): void {
    for (const [tag, deletedAt, expiredAt] of entries) {
      if (deletedAt > 0) this.mark(tag, 'delete', deletedAt);
      if (expiredAt > 0) this.mark(tag, 'expire', expiredAt);
    }
  }

  /** Every mark, for a node that joins. */
  entries(): TagEntry[] {
    return [...this.marks].map(([tag, m]) => [tag, m.deletedAt, m.expiredAt]);
  }

  get size(): number {
    return this.marks.size;
  }

  private store(tag: string, marks: TagMarks): void {
    this.marks.delete(tag); // most recently marked last, so the oldest go first
    this.marks.set(tag, marks);
    if (this.marks.size > this.maxTags) {
      const oldest = this.marks.keys().next().value as string;
      this.marks.delete(oldest);
    }
  }
}

/** Checks a tag entry list from the wire. */
export function isTagEntries(value: unknown): value is TagEntry[] {
  return (
    Array.isArray(value) &&
    value.every(
      (e) =>
        Array.isArray(e) &&
        e.length === 3 &&
        typeof e[0] === 'string' &&
        typeof e[1] === 'number' &&
        typeof e[2] === 'number',
    )
  );
}
