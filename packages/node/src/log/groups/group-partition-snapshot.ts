/**
 * The replicated form of a group's position on one partition: what a new
 * leader needs to carry on at-least-once after a failover. It holds the
 * committed offset, the offsets done above it, the delivery counts of the
 * offsets still pending and the unconfirmed dead letters; never leases (a
 * new leader redelivers everything not done). Plain numbers, strings and
 * arrays, so msgpack carries it as is; `validateGroupPartitionSnapshot`
 * checks one that came over the wire.
 */
import { ShoalError } from '@shoal/protocol';
import type { DeadLetterReason } from './group-partition-types.js';

/** A pending offset: [offset, deliveries so far]. */
export type PendingEntry = [offset: number, deliveries: number];

/** An unconfirmed dead letter: [offset, deliveries, reason, lastError or null]. */
export type DeadLetterEntry = [offset: number, deliveries: number, reason: DeadLetterReason, lastError: string | null];

/** Snapshot format 1. Every offset in [committedOffset, readCursor) is in exactly one of done, pending, deadLetters. */
export interface GroupPartitionSnapshot {
  readonly v: 1;
  /** Lowest offset not done. */
  readonly committedOffset: number;
  /** Next offset never delivered. */
  readonly readCursor: number;
  /** Done offsets above the committed one, as half-open runs: [start0, end0, start1, end1, ...], ascending. */
  readonly done: number[];
  /** Offsets delivered and not done, ascending. */
  readonly pending: PendingEntry[];
  /** Dead letters not yet confirmed, ascending. */
  readonly deadLetters: DeadLetterEntry[];
}

const REASONS: readonly string[] = ['max-deliveries', 'rejected'];

function invalid(field: string, message: string): ShoalError {
  return new ShoalError('SHOAL_PROTOCOL_INVALID', `group snapshot ${field}: ${message}`, { field });
}

function offset(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(field, 'not a non-negative integer');
  }
  return value;
}

function tuples(value: unknown, field: string, width: number): unknown[][] {
  if (!Array.isArray(value)) throw invalid(field, 'not an array');
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== width) throw invalid(field, `items must be arrays of ${width}`);
  }
  return value as unknown[][];
}

/** Checks the shape of a snapshot (from the wire) and returns it typed; throws SHOAL_PROTOCOL_INVALID naming the field. */
export function validateGroupPartitionSnapshot(value: unknown): GroupPartitionSnapshot {
  if (typeof value !== 'object' || value === null) throw invalid('snapshot', 'not an object');
  const s = value as Record<string, unknown>;
  if (s.v !== 1) throw invalid('v', `unsupported version ${JSON.stringify(s.v)}`);
  const committedOffset = offset(s.committedOffset, 'committedOffset');
  const readCursor = offset(s.readCursor, 'readCursor');
  if (readCursor < committedOffset) throw invalid('readCursor', 'below committedOffset');
  if (!Array.isArray(s.done) || s.done.length % 2 !== 0) throw invalid('done', 'not an array of [start, end) pairs');
  let previous = committedOffset;
  for (const bound of s.done) {
    if (offset(bound, 'done') < previous) throw invalid('done', 'runs must be ascending and above committedOffset');
    previous = bound as number;
  }
  for (const [o, deliveries] of tuples(s.pending, 'pending', 2)) {
    offset(o, 'pending');
    offset(deliveries, 'pending');
  }
  for (const [o, deliveries, reason, lastError] of tuples(s.deadLetters, 'deadLetters', 4)) {
    offset(o, 'deadLetters');
    offset(deliveries, 'deadLetters');
    if (typeof reason !== 'string' || !REASONS.includes(reason)) throw invalid('deadLetters', 'unknown reason');
    if (lastError !== null && typeof lastError !== 'string') throw invalid('deadLetters', 'lastError not a string');
  }
  return value as GroupPartitionSnapshot;
}
