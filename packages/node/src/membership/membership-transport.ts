/**
 * The seam between membership and the network. Membership only ever sends
 * through this interface and receives through `Membership.handleMessage`, so
 * it runs unchanged over WebSockets (transport/) or the in-memory SimNetwork.
 */
import type { MembershipMessage } from './membership-messages.js';

/** How membership sends messages. Implementations must not throw synchronously. */
export interface MembershipTransport {
  /** Sends `message` to the node at `address` and resolves with its reply; rejects on timeout or connection failure. */
  request(address: string, message: MembershipMessage, timeoutMs: number): Promise<MembershipMessage>;
  /** One-way message, best effort. */
  send(address: string, message: MembershipMessage): void;
}
