/** Tag validation, shared by node and client (tags: invalidateTag / expireTag). */
import { ShoalError } from './errors.js';

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
