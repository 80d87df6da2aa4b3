/**
 * Peer authentication at the WebSocket handshake, before any frame flows.
 * With a shared `secret`, the dialer proves it by an HMAC over its identity,
 * a fresh nonce and a timestamp (replays are refused by a nonce cache and a
 * clock-skew window); the listener answers with an HMAC over the dialer's
 * nonce, so the dialer knows it reached a member of the same cluster too.
 *
 *   dialer  -> GET /peer  x-shoal-node-id, x-shoal-node-address, x-shoal-nonce,
 *                          x-shoal-ts, x-shoal-proof = HMAC(secret, hello|id|addr|nonce|ts)
 *   listener <- 101       x-shoal-node-id, x-shoal-proof = HMAC(secret, welcome|id|nonce)
 *           or <- 401     (socket destroyed, nothing else sent)
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Header names of the peer handshake. */
export const HEADERS = {
  nodeId: 'x-shoal-node-id',
  address: 'x-shoal-node-address',
  nonce: 'x-shoal-nonce',
  timestamp: 'x-shoal-ts',
  proof: 'x-shoal-proof',
} as const;

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Headers a dialer sends, with the nonce it must later see answered. */
export function helloHeaders(
  nodeId: string,
  address: string,
  secret: string | undefined,
  now: number,
): { headers: Record<string, string>; nonce: string } {
  const nonce = randomBytes(16).toString('hex');
  const headers: Record<string, string> = { [HEADERS.nodeId]: nodeId, [HEADERS.address]: address };
  if (secret !== undefined) {
    const ts = String(now);
    headers[HEADERS.nonce] = nonce;
    headers[HEADERS.timestamp] = ts;
    headers[HEADERS.proof] = hmac(secret, `hello|${nodeId}|${address}|${nonce}|${ts}`);
  }
  return { headers, nonce };
}

/** The listener's answer proof for a dialer's nonce. */
export function welcomeProof(secret: string, listenerId: string, nonce: string): string {
  return hmac(secret, `welcome|${listenerId}|${nonce}`);
}

/** True when the listener's answer proves it holds the secret. */
export function verifyWelcome(secret: string, listenerId: string, nonce: string, proof: string | undefined): boolean {
  return proof !== undefined && equal(proof, welcomeProof(secret, listenerId, nonce));
}

/** What a valid hello told the listener. */
export interface Hello {
  nodeId: string;
  address: string;
  nonce: string | undefined;
}

/** Remembers recent nonces so a captured handshake cannot be replayed within the skew window. */
export class NonceCache {
  private readonly seen = new Map<string, number>(); // nonce -> expiry (ms), insertion ordered
  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  /** Records `nonce`; false if it was already seen within the window. */
  remember(nonce: string, now: number): boolean {
    for (const [old, expiry] of this.seen) {
      if (expiry > now && this.seen.size < this.maxEntries) break;
      this.seen.delete(old);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now + 2 * this.windowMs);
    return true;
  }
}

/**
 * Checks a dialer's hello. Returns the identity, or a reason string when the
 * handshake must be refused.
 */
export function verifyHello(
  headers: IncomingHttpHeaders,
  secret: string | undefined,
  now: number,
  maxSkewMs: number,
  nonces: NonceCache,
): Hello | string {
  const nodeId = headers[HEADERS.nodeId];
  const address = headers[HEADERS.address];
  if (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > 256) return 'missing or bad node id';
  if (typeof address !== 'string' || !/^[^\s]{1,255}:\d{1,5}$/.test(address)) return 'missing or bad node address';
  if (secret === undefined) return { nodeId, address, nonce: undefined };
  const nonce = headers[HEADERS.nonce];
  const ts = headers[HEADERS.timestamp];
  const proof = headers[HEADERS.proof];
  if (typeof nonce !== 'string' || typeof ts !== 'string' || typeof proof !== 'string') return 'no proof of the secret';
  if (!/^[0-9a-f]{32}$/.test(nonce) || !/^\d{1,16}$/.test(ts)) return 'malformed proof';
  if (Math.abs(now - Number(ts)) > maxSkewMs) return 'handshake timestamp outside the allowed clock skew';
  if (!equal(proof, hmac(secret, `hello|${nodeId}|${address}|${nonce}|${ts}`))) return 'wrong secret';
  if (!nonces.remember(nonce, now)) return 'replayed handshake';
  return { nodeId, address, nonce };
}
