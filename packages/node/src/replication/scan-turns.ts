/**
 * Whole-store scans off the request path (the hot page of a migration,
 * anti-entropy digests) read every key: its partition, and its count or
 * version. On a store of 33k keys one such scan took 100-150 ms, and a join
 * runs several on every node at once, which stopped every node's foreground
 * calls for a third of a second. These scans read the store in turns of
 * SCAN_KEYS_PER_TURN keys and let the event loop run calls in between.
 */
export { setImmediate as nextTurn } from 'node:timers/promises';

/** Keys a whole-store scan reads before it yields to the event loop (about 2-5 ms of work). */
export const SCAN_KEYS_PER_TURN = 2048;
