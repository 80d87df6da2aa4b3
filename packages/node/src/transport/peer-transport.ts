/**
 * The node's peer network: accepts peers on `/peer` of the node's one HTTP
 * port (through `handleUpgrade`, so fastify and WebSockets share the port) and
 * dials peers on demand, keeping one outbound connection per address. Inbound
 * connections carry the remote side's requests; this node's own requests use
 * its outbound connection, so each direction batches independently.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { DialMask, ShoalError } from '@shoal/protocol';
import { WebSocket, WebSocketServer } from 'ws';
import type { Clock } from '../store/clock.js';
import { HEADERS, helloHeaders, NonceCache, verifyHello, verifyWelcome, welcomeProof } from './handshake.js';
import { type MessageHandler, PeerConnection } from './peer-connection.js';

/** Settings of a PeerTransport. */
export interface PeerTransportOptions {
  /** This node's id, announced to peers. */
  nodeId: string;
  /** 'host:port' peers should dial to reach this node. */
  address: string;
  /** Shared cluster secret; when set, peers must prove it at the handshake. */
  secret?: string | undefined;
  /** Largest frame accepted, in bytes (ws maxPayload). */
  maxFrameBytes: number;
  /** Most messages in one inbound frame. */
  maxMessagesPerFrame: number;
  /** Most requests in flight per connection. */
  maxInFlight: number;
  /** How long a dial may take, in ms. */
  connectTimeoutMs: number;
  /** Accepted clock difference for handshake timestamps, in ms. */
  maxClockSkewMs: number;
  clock: Clock;
  /** Dial peers over TLS (`wss://`), trusting `ca` in addition to the system CAs. Default: plain `ws://`. */
  tls?: { ca?: string | Buffer | undefined } | undefined;
  /** Told about refused handshakes and protocol violations. */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

/** Request/reply and one-way messaging with every peer, by address. */
export class PeerTransport {
  private readonly handlers = new Map<number, MessageHandler>();
  private readonly outbound = new Map<string, Promise<PeerConnection>>();
  private readonly inbound = new Set<PeerConnection>();
  private readonly disconnectListeners: ((address: string) => void)[] = [];
  private readonly wss: WebSocketServer;
  private readonly nonces: NonceCache;
  private closed = false;

  constructor(private readonly options: PeerTransportOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
    this.nonces = new NonceCache(options.maxClockSkewMs);
  }

  /** Registers the handler of one message kind (one per kind). */
  handle(kind: number, handler: MessageHandler): void {
    if (this.handlers.has(kind)) throw new Error(`message kind ${kind} already has a handler`);
    this.handlers.set(kind, handler);
  }

  /** Called with a peer's address whenever a connection to or from it drops. */
  onDisconnect(listener: (address: string) => void): void {
    this.disconnectListeners.push(listener);
  }

  /** Takes an HTTP upgrade for `/peer`: authenticates, then adopts the socket. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const hello = this.closed
      ? 'shutting down'
      : verifyHello(
          request.headers,
          this.options.secret,
          this.options.clock.now(),
          this.options.maxClockSkewMs,
          this.nonces,
        );
    if (typeof hello === 'string') {
      this.warn('peer handshake refused', { reason: hello, remote: request.socket.remoteAddress });
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ code: 'SHOAL_AUTH_FAILED', message: hello })}`,
      );
      socket.destroy();
      return;
    }
    const onHeaders = (headers: string[]) => {
      headers.push(`${HEADERS.nodeId}: ${this.options.nodeId}`);
      if (this.options.secret !== undefined && hello.nonce !== undefined) {
        headers.push(`${HEADERS.proof}: ${welcomeProof(this.options.secret, this.options.nodeId, hello.nonce)}`);
      }
    };
    this.wss.once('headers', onHeaders);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = this.adopt(ws, hello.nodeId, hello.address);
      this.inbound.add(connection);
    });
  }

  /** Sends a request to the peer at `address`, dialing it if needed. */
  async request(address: string, kind: number, body: unknown, timeoutMs: number): Promise<unknown> {
    const connection = await this.connection(address, timeoutMs);
    return connection.request(kind, body, timeoutMs);
  }

  /** Sends a one-way message to the peer at `address`, dialing it if needed; failures are dropped. */
  send(address: string, kind: number, body: unknown): void {
    this.connection(address, this.options.connectTimeoutMs).then(
      (connection) => connection.send(kind, body),
      () => {},
    );
  }

  /** The open outbound connection to `address`, dialing one if there is none. */
  connection(address: string, timeoutMs = this.options.connectTimeoutMs): Promise<PeerConnection> {
    if (this.closed) return Promise.reject(new ShoalError('SHOAL_TRANSPORT_CLOSED', 'the transport is closed'));
    const existing = this.outbound.get(address);
    if (existing !== undefined) return existing;
    const dialing = this.dial(address, Math.min(timeoutMs, this.options.connectTimeoutMs));
    this.outbound.set(address, dialing);
    dialing.catch(() => {
      if (this.outbound.get(address) === dialing) this.outbound.delete(address);
    });
    return dialing;
  }

  /** Totals of the counters of every open connection, both directions. */
  async counters(): Promise<PeerConnection['counters']> {
    const settled = await Promise.allSettled([...this.outbound.values()]);
    const connections = [...settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])), ...this.inbound];
    const total = { framesOut: 0, messagesOut: 0, framesIn: 0, messagesIn: 0, bytesOut: 0, bytesIn: 0 };
    for (const c of connections)
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += c.counters[k];
    return total;
  }

  /** Addresses with an open outbound connection. */
  connectedAddresses(): string[] {
    return [...this.outbound.keys()];
  }

  /** Drops the outbound connection to `address` (the next request dials again). */
  disconnect(address: string): void {
    const dialing = this.outbound.get(address);
    this.outbound.delete(address);
    dialing?.then(
      (c) => c.close(1001, 'disconnect'),
      () => {},
    );
  }

  /** Closes every connection; later requests fail with SHOAL_TRANSPORT_CLOSED. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const dials = [...this.outbound.values()];
    this.outbound.clear();
    for (const result of await Promise.allSettled(dials)) {
      if (result.status === 'fulfilled') result.value.close(1001, 'shutting down');
    }
    for (const connection of this.inbound) connection.close(1001, 'shutting down');
    this.inbound.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private dial(address: string, timeoutMs: number): Promise<PeerConnection> {
    const { headers, nonce } = helloHeaders(
      this.options.nodeId,
      this.options.address,
      this.options.secret,
      this.options.clock.now(),
    );
    return new Promise((resolve, reject) => {
      const tls = this.options.tls;
      const mask = new DialMask();
      const ws = new WebSocket(`${tls === undefined ? 'ws' : 'wss'}://${address}/peer`, {
        headers,
        ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
        maxPayload: this.options.maxFrameBytes,
        perMessageDeflate: false,
        handshakeTimeout: timeoutMs,
        generateMask: mask.generateMask,
      });
      let remoteId = '';
      const fail = (message: string, code: 'SHOAL_TRANSPORT_UNAVAILABLE' | 'SHOAL_AUTH_FAILED') => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new ShoalError(code, `cannot reach ${address}: ${message}`, { address }));
      };
      ws.once('upgrade', (response) => {
        remoteId = String(response.headers[HEADERS.nodeId] ?? '');
        const proof = response.headers[HEADERS.proof];
        if (
          this.options.secret !== undefined &&
          !verifyWelcome(this.options.secret, remoteId, nonce, typeof proof === 'string' ? proof : undefined)
        ) {
          fail('the peer did not prove the cluster secret', 'SHOAL_AUTH_FAILED');
        }
      });
      ws.once('unexpected-response', (_req, response) => {
        fail(
          `handshake refused with HTTP ${response.statusCode}`,
          response.statusCode === 401 ? 'SHOAL_AUTH_FAILED' : 'SHOAL_TRANSPORT_UNAVAILABLE',
        );
      });
      ws.once('error', (err) => fail(err.message, 'SHOAL_TRANSPORT_UNAVAILABLE'));
      ws.once('open', () => {
        ws.removeAllListeners('error');
        ws.removeAllListeners('unexpected-response');
        if (this.closed) {
          ws.terminate();
          reject(new ShoalError('SHOAL_TRANSPORT_CLOSED', 'the transport is closed'));
          return;
        }
        resolve(this.adopt(ws, remoteId, address, mask));
      });
    });
  }

  private adopt(ws: WebSocket, remoteId: string, remoteAddress: string, mask?: DialMask): PeerConnection {
    return new PeerConnection(ws, {
      ...(mask === undefined ? {} : { mask }),
      remoteId,
      remoteAddress,
      handlers: this.handlers,
      maxInFlight: this.options.maxInFlight,
      maxMessagesPerFrame: this.options.maxMessagesPerFrame,
      onClose: (connection) => {
        this.inbound.delete(connection);
        const dialing = this.outbound.get(remoteAddress);
        if (dialing !== undefined) {
          dialing.then(
            (c) => {
              if (c === connection && this.outbound.get(remoteAddress) === dialing) this.outbound.delete(remoteAddress);
            },
            () => {},
          );
        }
        if (!this.closed) for (const listener of this.disconnectListeners) listener(remoteAddress);
      },
      onProtocolError: (connection, err) =>
        this.warn('peer protocol violation; connection closed', {
          address: connection.remoteAddress,
          code: err.code,
          message: err.message,
        }),
      maxFrameBytes: this.options.maxFrameBytes,
      onUnsendable: (connection, kind, err) =>
        this.warn('a message to a peer could not be sent', {
          address: connection.remoteAddress,
          kind,
          code: err.code,
          message: err.message,
        }),
    });
  }

  private warn(message: string, details: Record<string, unknown>): void {
    this.options.onWarning?.(message, details);
  }
}
