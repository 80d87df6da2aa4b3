/**
 * The membership protocol's messages: plain objects of strings and numbers
 * (msgpack-able as they are) and the validator every inbound message passes
 * before it reaches the state machine. The kind numbers are part of the
 * protocol: append only, never renumber or reuse.
 */
import { ShoalError } from '@shoal/protocol';
import { MEMBER_STATES, type Member, type MemberState } from './member.js';

/** Message kinds. Append only: the numbers are part of the protocol. */
export const MembershipMessageKind = {
  /** Request: "are you `target`?"; replied with Ack (or Nack when the id does not match). */
  Ping: 1,
  /** Reply to Ping or PingReq (target answered), and to Gossip sent as a request. */
  Ack: 2,
  /** Request: "ping `target` at `address` for me within `timeoutMs`". */
  PingReq: 3,
  /** Reply to PingReq when the target did not answer; to Ping when the id does not match. */
  Nack: 4,
  /** Request: full-state exchange, carrying the sender's member list. */
  PushPull: 5,
  /** Reply to PushPull, carrying the replier's member list (after merging the request's). */
  PushPullReply: 6,
  /** One-way (or request, replied with Ack): a batch of state updates. */
  Gossip: 7,
  /** Update: member is alive at this incarnation (join, refutation, meta change). */
  Alive: 8,
  /** Update: `from` suspects member at this incarnation. */
  Suspect: 9,
  /** Update: `from` declared member dead at this incarnation. */
  Dead: 10,
  /** Update: member left gracefully at this incarnation. */
  Left: 11,
} as const;

/** Member is alive. */
export interface AliveUpdate {
  readonly kind: typeof MembershipMessageKind.Alive;
  readonly id: string;
  readonly address: string;
  readonly incarnation: number;
  readonly meta?: Readonly<Record<string, unknown>>;
}
/** `from` suspects member `id`. */
export interface SuspectUpdate {
  readonly kind: typeof MembershipMessageKind.Suspect;
  readonly id: string;
  readonly incarnation: number;
  readonly from: string;
}
/** `from` declared member `id` dead. */
export interface DeadUpdate {
  readonly kind: typeof MembershipMessageKind.Dead;
  readonly id: string;
  readonly incarnation: number;
  readonly from: string;
}
/** Member `id` left gracefully. */
export interface LeftUpdate {
  readonly kind: typeof MembershipMessageKind.Left;
  readonly id: string;
  readonly incarnation: number;
}
/** A state update, piggybacked on any message or gossiped. */
export type MemberUpdate = AliveUpdate | SuspectUpdate | DeadUpdate | LeftUpdate;

/** Direct probe. */
export interface PingMessage {
  readonly kind: typeof MembershipMessageKind.Ping;
  /** Sender id (so the target can tell a sender it considers dead to refute). */
  readonly from: string;
  /** Id the sender expects at this address. */
  readonly target: string;
  readonly updates?: readonly MemberUpdate[];
}
/** Positive reply. */
export interface AckMessage {
  readonly kind: typeof MembershipMessageKind.Ack;
  readonly updates?: readonly MemberUpdate[];
}
/** Indirect probe request. */
export interface PingReqMessage {
  readonly kind: typeof MembershipMessageKind.PingReq;
  readonly target: string;
  readonly address: string;
  readonly timeoutMs: number;
  readonly updates?: readonly MemberUpdate[];
}
/** Negative reply. */
export interface NackMessage {
  readonly kind: typeof MembershipMessageKind.Nack;
  readonly updates?: readonly MemberUpdate[];
}
/** Full-state push. */
export interface PushPullMessage {
  readonly kind: typeof MembershipMessageKind.PushPull;
  readonly from: string;
  readonly members: readonly Member[];
}
/** Full-state pull (the reply). */
export interface PushPullReplyMessage {
  readonly kind: typeof MembershipMessageKind.PushPullReply;
  readonly from: string;
  readonly members: readonly Member[];
}
/** Batch of updates. */
export interface GossipMessage {
  readonly kind: typeof MembershipMessageKind.Gossip;
  readonly updates: readonly MemberUpdate[];
}

/** Every message membership sends or receives. */
export type MembershipMessage =
  | PingMessage
  | AckMessage
  | PingReqMessage
  | NackMessage
  | PushPullMessage
  | PushPullReplyMessage
  | GossipMessage;

/** Longest id or address accepted, in characters. */
export const MAX_NAME_LENGTH = 256;
/** Most updates in one message. */
export const MAX_UPDATES_PER_MESSAGE = 1024;
/** Most members in one push-pull. */
export const MAX_MEMBERS_PER_MESSAGE = 100_000;
/** Largest timeout a PingReq may ask for, in ms. */
export const MAX_PING_REQ_TIMEOUT_MS = 120_000;

function invalid(message: string, field: string): ShoalError {
  return new ShoalError('SHOAL_PROTOCOL_INVALID', `membership message: ${message}`, { field });
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('not an object', field);
  return value as Record<string, unknown>;
}

function name(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    throw invalid(`not a string of 1..${MAX_NAME_LENGTH} characters`, field);
  }
  return value;
}

function incarnation(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid('not a non-negative integer', field);
  }
  return value;
}

function list(value: unknown, max: number, field: string): unknown[] {
  if (!Array.isArray(value) || value.length > max) throw invalid(`not an array of at most ${max} items`, field);
  return value;
}

function meta(value: unknown, field: string): void {
  if (value !== undefined && value !== null) record(value, field);
}

function validateUpdate(value: unknown, field: string): MemberUpdate {
  const u = record(value, field);
  name(u.id, `${field}.id`);
  incarnation(u.incarnation, `${field}.incarnation`);
  switch (u.kind) {
    case MembershipMessageKind.Alive:
      name(u.address, `${field}.address`);
      meta(u.meta, `${field}.meta`);
      break;
    case MembershipMessageKind.Suspect:
    case MembershipMessageKind.Dead:
      name(u.from, `${field}.from`);
      break;
    case MembershipMessageKind.Left:
      break;
    default:
      throw invalid(`unknown update kind ${JSON.stringify(u.kind)}`, `${field}.kind`);
  }
  return u as unknown as MemberUpdate;
}

function validateUpdates(value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  list(value, MAX_UPDATES_PER_MESSAGE, 'updates').forEach((u, i) => {
    validateUpdate(u, `updates[${i}]`);
  });
}

function validateMember(value: unknown, field: string): void {
  const m = record(value, field);
  name(m.id, `${field}.id`);
  name(m.address, `${field}.address`);
  if (!MEMBER_STATES.includes(m.state as MemberState)) throw invalid('unknown state', `${field}.state`);
  incarnation(m.incarnation, `${field}.incarnation`);
  meta(m.meta, `${field}.meta`);
}

/**
 * Checks that `value` is a well-formed membership message and returns it
 * typed. Unknown fields are ignored (forward compatibility); anything else
 * malformed throws SHOAL_PROTOCOL_INVALID naming the field.
 */
export function validateMembershipMessage(value: unknown): MembershipMessage {
  const m = record(value, 'message');
  switch (m.kind) {
    case MembershipMessageKind.Ping:
      name(m.from, 'from');
      name(m.target, 'target');
      validateUpdates(m.updates, false);
      break;
    case MembershipMessageKind.PingReq:
      name(m.target, 'target');
      name(m.address, 'address');
      if (typeof m.timeoutMs !== 'number' || !(m.timeoutMs > 0 && m.timeoutMs <= MAX_PING_REQ_TIMEOUT_MS)) {
        throw invalid(`not a number in (0, ${MAX_PING_REQ_TIMEOUT_MS}]`, 'timeoutMs');
      }
      validateUpdates(m.updates, false);
      break;
    case MembershipMessageKind.Ack:
    case MembershipMessageKind.Nack:
      validateUpdates(m.updates, false);
      break;
    case MembershipMessageKind.PushPull:
    case MembershipMessageKind.PushPullReply:
      name(m.from, 'from');
      list(m.members, MAX_MEMBERS_PER_MESSAGE, 'members').forEach((member, i) => {
        validateMember(member, `members[${i}]`);
      });
      break;
    case MembershipMessageKind.Gossip:
      validateUpdates(m.updates, true);
      break;
    default:
      throw invalid(`unknown kind ${JSON.stringify(m.kind)}`, 'kind');
  }
  return m as unknown as MembershipMessage;
}
