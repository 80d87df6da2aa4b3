/**
 * One SWIM probe of one member, with Lifeguard's refinements: a direct ping,
 * then indirect pings through k helpers once the probe timeout passes (or the
 * direct ping failed outright), a verdict at the end of the probe window.
 * The window is a stall-aware deadline, so a deadline that fired while our own
 * event loop was stalled gives queued replies a chance instead of blaming the
 * peer; nacks from helpers tell whether a failure is ours (local health).
 */

import type { Awareness } from './awareness.js';
import type { Member } from './member.js';
import type { ResolvedMembershipConfig } from './membership-config.js';
import {
  MAX_PING_REQ_TIMEOUT_MS,
  type MembershipMessage,
  MembershipMessageKind,
  type MemberUpdate,
  type PingMessage,
  type PingReqMessage,
} from './membership-messages.js';
import type { MembershipTransport } from './membership-transport.js';
import type { Cancel, TimerGroup } from './timers.js';

/** What a probe needs from its Membership. */
export interface ProbeContext {
  readonly selfId: string;
  readonly config: ResolvedMembershipConfig;
  readonly transport: MembershipTransport;
  readonly timers: TimerGroup;
  readonly awareness: Awareness;
  now(): number;
  /** Up to `k` live members other than this node and `target`, chosen at random. */
  helpers(target: Member, k: number): Member[];
  /** Updates to piggyback on one outgoing message (at most `max`). */
  piggyback(max: number): MemberUpdate[];
  /** Applies the updates a reply carries. */
  absorb(reply: MembershipMessage): void;
}

/**
 * - `ack`: the member answered (directly or through a helper).
 * - `failed`: no ack within the window, which ended on time: suspect it.
 * - `inconclusive`: our own event loop kept stalling past the deadline: no verdict.
 */
export type ProbeOutcome = 'ack' | 'failed' | 'inconclusive';

/** Ping message for `target`, leading with its own suspicion (Lifeguard's buddy system: it learns fast and refutes). */
function pingFor(ctx: ProbeContext, target: Member): PingMessage {
  const buddy: MemberUpdate[] =
    target.state === 'suspect'
      ? [{ kind: MembershipMessageKind.Suspect, id: target.id, incarnation: target.incarnation, from: ctx.selfId }]
      : [];
  const updates = [...buddy, ...ctx.piggyback(ctx.config.maxPiggybackUpdates - buddy.length)];
  return updates.length === 0
    ? { kind: MembershipMessageKind.Ping, from: ctx.selfId, target: target.id }
    : { kind: MembershipMessageKind.Ping, from: ctx.selfId, target: target.id, updates };
}

/**
 * Probes `target` once and applies the local-health delta: −1 on ack; on
 * failure +1 per helper that did not even nack (or +1 without helpers).
 * Resolves with the outcome; never rejects on network errors.
 *
 * Only an explicit failure (the direct request rejected before the window
 * closed: connection refused or closed, or a nack) ends a probe early, and
 * only when every helper answered too. A request that merely timed out adds
 * nothing: the window's own stall-aware deadline decides. When that deadline
 * fired late (our loop stalled), the target is pinged again during the
 * extension, since the transport may have dropped its first ack as late.
 */
export function probeMember(ctx: ProbeContext, target: Member): Promise<ProbeOutcome> {
  const { config, awareness, timers, transport } = ctx;
  const windowMs = awareness.scale(config.probeIntervalMs);
  const directTimeoutMs = awareness.scale(config.probeTimeoutMs);
  const startedAt = ctx.now();

  return new Promise<ProbeOutcome>((resolve) => {
    let finished = false;
    let directFailed = false;
    let indirectSent = false;
    let helpersPending = 0;
    let expectedNacks = 0;
    let nacks = 0;
    const cancels: Cancel[] = [];

    const finish = (outcome: ProbeOutcome): void => {
      if (finished) return;
      finished = true;
      for (const cancel of cancels) cancel();
      if (outcome === 'ack') awareness.applyDelta(-1);
      else if (outcome === 'failed') awareness.applyDelta(expectedNacks > 0 ? expectedNacks - nacks : 1);
      resolve(outcome);
    };
    // Every path reported failure (direct refused or nacked, every helper answered without an ack).
    const checkAllFailed = (): void => {
      if (directFailed && indirectSent && helpersPending === 0) finish('failed');
    };
    const onReply = (reply: MembershipMessage | undefined): void => {
      if (reply !== undefined) ctx.absorb(reply);
    };
    const direct = (timeoutMs: number): void => {
      const sentAt = ctx.now();
      transport.request(target.address, pingFor(ctx, target), timeoutMs).then(
        (reply) => {
          onReply(reply);
          if (reply.kind === MembershipMessageKind.Ack) finish('ack');
          else failDirect();
        },
        () => {
          if (ctx.now() - sentAt < timeoutMs / 2) failDirect(); // refused or closed early: not a timeout
        },
      );
    };
    const failDirect = (): void => {
      directFailed = true;
      startIndirect();
      checkAllFailed();
    };
    const relay = (helper: Member, request: PingReqMessage): void => {
      const done = (reply: MembershipMessage | undefined): void => {
        helpersPending--;
        onReply(reply);
        if (reply?.kind === MembershipMessageKind.Ack) finish('ack');
        else if (reply?.kind === MembershipMessageKind.Nack) nacks++;
        checkAllFailed();
      };
      transport.request(helper.address, request, windowMs).then(done, () => done(undefined));
    };
    const startIndirect = (): void => {
      if (finished || indirectSent) return;
      indirectSent = true;
      const helpers = config.indirectChecks > 0 ? ctx.helpers(target, config.indirectChecks) : [];
      // Helpers answer (ack or nack) a little before our window closes, so a missing nack means something.
      const remaining = Math.max(windowMs - (ctx.now() - startedAt), directTimeoutMs);
      const timeoutMs = Math.min(MAX_PING_REQ_TIMEOUT_MS, Math.max(1, Math.floor(remaining * 0.8)));
      expectedNacks = helpers.length;
      helpersPending = helpers.length;
      for (const helper of helpers) {
        const updates = ctx.piggyback(config.maxPiggybackUpdates);
        const base = { kind: MembershipMessageKind.PingReq, target: target.id, address: target.address, timeoutMs };
        relay(helper, updates.length === 0 ? base : { ...base, updates });
      }
      checkAllFailed();
    };

    cancels.push(timers.after(directTimeoutMs, startIndirect));
    cancels.push(
      timers.deadline(
        windowMs,
        (onTime) => finish(onTime ? 'failed' : 'inconclusive'),
        (extensionMs) => direct(2 * extensionMs),
      ),
    );
    // The request outlives the window so that an ack delayed by a stall on either side still lands.
    direct(2 * windowMs);
  });
}
