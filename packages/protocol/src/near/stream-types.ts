/**
 * Shapes of the invalidation stream shared by nodes and clients. A primary
 * numbers the changes of each partition it leads within an epoch (a random
 * number drawn when it became the primary); see docs/ARCHITECTURE.md,
 * "Cache and messages".
 */

/** One invalidation: [partition, epoch, seq, key, version]. */
export type InvalidationEvent = [partition: number, epoch: number, seq: number, key: string, version: number];
/** A partition's position in the stream: [partition, epoch, seq]. */
export type StreamPosition = [partition: number, epoch: number, seq: number];
/** Reply to a subscription: [incarnation, wasSubscribed, positions]. */
export type SubscribeReply = [incarnation: number, wasSubscribed: boolean, positions: StreamPosition[]];
/** Reply to a near read: [stored value, expiresAt (0 none), epoch, seq, hot]. */
export type NearReadReply = [stored: unknown, expiresAt: number, epoch: number, seq: number, hot: boolean];

/** Checks one event from the wire. */
export function isInvalidationEvent(value: unknown): value is InvalidationEvent {
  return (
    Array.isArray(value) &&
    value.length === 5 &&
    typeof value[0] === 'number' &&
    typeof value[1] === 'number' &&
    typeof value[2] === 'number' &&
    typeof value[3] === 'string' &&
    typeof value[4] === 'number'
  );
}
