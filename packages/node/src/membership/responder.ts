/**
 * Answers to the probe requests other members send: acks for pings addressed
 * to this node (nacks for another id at our address), and indirect pings
 * relayed on behalf of a prober. Every answer carries piggybacked updates;
 * an ack to a member we believe dead, left or suspect leads with that claim so
 * it refutes at once.
 */
import type { MemberList } from './member-list.js';
import {
  type MembershipMessage,
  MembershipMessageKind,
  type MemberUpdate,
  type PingMessage,
  type PingReqMessage,
} from './membership-messages.js';
import type { MembershipTransport } from './membership-transport.js';

/** What the responder needs from its Membership. */
export interface ResponderInit {
  readonly list: MemberList;
  readonly transport: MembershipTransport;
  /** Updates to piggyback on one message (at most `max`). */
  piggyback(max: number): MemberUpdate[];
  /** Most updates per message. */
  readonly maxUpdates: number;
  /** Applies the updates (or state) a message carries. */
  absorb(message: MembershipMessage): void;
  /** True once the membership stopped. */
  stopped(): boolean;
}

/** Answers Ping and PingReq. */
export class Responder {
  constructor(private readonly init: ResponderInit) {}

  /** Ack when the ping is for us (with news about the sender first), nack otherwise. */
  ping(message: PingMessage): MembershipMessage {
    const { list } = this.init;
    this.init.absorb(message);
    if (message.target !== list.selfId) return this.withPiggyback({ kind: MembershipMessageKind.Nack }, []);
    const sender = list.get(message.from);
    const first: MemberUpdate[] = [];
    if (sender?.state === 'dead' || sender?.state === 'suspect') {
      const kind = sender.state === 'dead' ? MembershipMessageKind.Dead : MembershipMessageKind.Suspect;
      first.push({ kind, id: sender.id, incarnation: sender.incarnation, from: list.selfId });
    } else if (sender?.state === 'left') {
      first.push({ kind: MembershipMessageKind.Left, id: sender.id, incarnation: sender.incarnation });
    }
    return this.withPiggyback({ kind: MembershipMessageKind.Ack }, first);
  }

  /** Pings the target on the requester's behalf; ack if it answered within the asked time, nack otherwise. */
  async pingReq(message: PingReqMessage): Promise<MembershipMessage | undefined> {
    const { list, transport } = this.init;
    this.init.absorb(message);
    const ping = this.withPiggyback(
      { kind: MembershipMessageKind.Ping, from: list.selfId, target: message.target },
      [],
    );
    let acked = false;
    try {
      const reply = await transport.request(message.address, ping, message.timeoutMs);
      this.init.absorb(reply);
      acked = reply.kind === MembershipMessageKind.Ack;
    } catch {
      // no answer in time: nack below
    }
    if (this.init.stopped()) return undefined;
    return this.withPiggyback({ kind: acked ? MembershipMessageKind.Ack : MembershipMessageKind.Nack }, []);
  }

  /** `message` with `first`, then queued updates, up to the per-message limit. */
  withPiggyback<M extends MembershipMessage>(message: M, first: MemberUpdate[]): M {
    const updates = [...first, ...this.init.piggyback(this.init.maxUpdates - first.length)];
    return updates.length === 0 ? message : { ...message, updates };
  }
}
