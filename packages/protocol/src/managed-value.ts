/**
 * A cache value that carries read-through and tag metadata: when it was
 * written (a hybrid-clock version, so tag invalidations compare causally),
 * when it goes stale, how long it may be served stale, and its tags. Plain
 * `set` stores bare values; only `set` with tags and `getOrSet` wrap, so users
 * who need neither pay nothing. Reads unwrap it before a caller sees it.
 *
 * It travels as msgpack extension type 0x53 ('S'): [value, writtenAt, staleAt, graceMs, tags].
 */
import { addExtension } from 'msgpackr';

/** msgpack extension type of a ManagedValue. */
export const MANAGED_VALUE_EXTENSION = 0x53;

/** A stored value with freshness and tags. */
export class ManagedValue {
  constructor(
    /** The user's value. */
    readonly value: unknown,
    /** Hybrid-clock version at the writer when it was written. */
    readonly writtenAt: number,
    /** Wall ms after which the value is stale (0: only tags can make it stale). */
    readonly staleAt: number,
    /** How long after going stale it may still be served by getOrSet, in ms (0: never). */
    readonly graceMs: number,
    /** Tags for invalidateTag / expireTag. */
    readonly tags: readonly string[],
  ) {}
}

addExtension({
  Class: ManagedValue,
  type: MANAGED_VALUE_EXTENSION,
  write: (managed: ManagedValue) => [managed.value, managed.writtenAt, managed.staleAt, managed.graceMs, managed.tags],
  read: (fields: unknown) => {
    if (!Array.isArray(fields) || fields.length !== 5 || !Array.isArray(fields[4])) {
      throw new TypeError('a managed value is [value, writtenAt, staleAt, graceMs, tags]');
    }
    const [value, writtenAt, staleAt, graceMs, tags] = fields as [unknown, number, number, number, string[]];
    return new ManagedValue(value, writtenAt, staleAt, graceMs, tags);
  },
});
