/**
 * What every node knows about tags: for each tag, the hybrid-clock version of
 * its last invalidation (delete) and expiry (mark stale). Tagged values are
 * judged against it when read, so `invalidateTag` costs one small broadcast,
 * not a walk over every key holding the tag, and a value written after the
 * invalidation (a higher version, causally) is unaffected. Values outlive
 * their tag marks only until their own TTL; the registry is bounded and drops
 * its oldest marks first.
 */
import { ShoalError } from '@shoal/protocol';

/** A tag's marks: versions of its last delete and expire (0: never). */
export interface TagMarks {
  deletedAt: number;
  expiredAt: number;
}

/** How a tag is invalidated: `delete` makes tagged values gone, `expire` makes them stale. */
export type TagOp = 'delete' | 'expire';

/** A tag mark as it travels: [tag, deletedAt, expiredAt]. */
export type TagEntry = [tag: string, deletedAt: number, expiredAt: number];

/** Longest tag, in characters. */
export const MAX_TAG_LENGTH = 256;
/** Most tags on one value. */
export const MAX_TAGS_PER_VALUE = 64;

/** Throws SHOAL_TAG_INVALID unless `tags` is a list of 1-256 character strings. */
export function validateTags(tags: unknown): asserts tags is readonly string[] {
  if (!Array.isArray(tags)) throw new ShoalError('SHOAL_TAG_INVALID', 'tags must be a list of strings');
  if (tags.length > MAX_TAGS_PER_VALUE) {
    throw new ShoalError('SHOAL_TAG_INVALID', `a value has at most ${MAX_TAGS_PER_VALUE} tags, got ${tags.length}`);
  }
  for (const tag of tags) validateTag(tag);
}

/** Throws SHOAL_TAG_INVALID unless `tag` is a 1-256 character string. */
export function validateTag(tag: unknown): asserts tag is string {
  if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
    throw new ShoalError('SHOAL_TAG_INVALID', `a tag is a string of 1-${MAX_TAG_LENGTH} characters`, {
      tag: typeof tag === 'string' ? tag.slice(0, 64) : String(tag),
    });
  }
}

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
