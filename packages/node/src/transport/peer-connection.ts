/**
 * One WebSocket to a peer, speaking Shoal frames. Messages issued during one
 * turn of the event loop leave together in one frame (FrameOutbox),
 * replies are matched to requests by id, and every request has a deadline.
 * A malformed frame closes the connection; nothing else is trusted.
 */
import {
  type DialMask,
  decodeFrame,
  errorFromWire,
  FrameOutbox,
  isShoalError,
  MessageKind,
  ShoalError,
  type WireMessage,
} from '@shoal/protocol';
import type { WebSocket } from 'ws';

/** Handles one inbound request; the returned value (or promise) is the reply body. */
export type MessageHandler = (body: unknown, from: PeerConnection) => unknown;

/** Settings of a connection (owned by the transport that made it). */
export interface PeerConnectionOptions {
  /** Id the remote side announced in the handshake. */
  remoteId: string;
  /** Address ('host:port') the remote side announced. */
  remoteAddress: string;
  /** Handler lookup by message kind. */
  handlers: ReadonlyMap<number, MessageHandler>;
  /** Most requests awaiting replies at once. */
  maxInFlight: number;
  /** Most messages accepted in one inbound frame. */
  maxMessagesPerFrame: number;
  /** Called once when the connection is gone, with the reason. */
  onClose(connection: PeerConnection, reason: string): void;
  /** Called with protocol violations (for logs). */
  onProtocolError(connection: PeerConnection, err: ShoalError): void;
  /** Largest frame the peer accepts (its maxPayload: the same setting on every node). */
  maxFrameBytes: number;
  /** A one-way message that could not be sent (too large, or not encodable), for logs. */
  onUnsendable(connection: PeerConnection, kind: number, err: ShoalError): void;
  /** The masks of a socket this node dialed (absent on accepted sockets, which send unmasked). */
  mask?: DialMask;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** A live, framed, request/reply connection to one peer. */
export class PeerConnection {
  readonly remoteId: string;
  readonly remoteAddress: string;
  private readonly pending = new Map<number, Pending>();
  private readonly outbox: FrameOutbox;
  private nextId = 1;
  private closed = false;
  /** Frames and messages sent/received, for metrics and the batching tests. */
  readonly counters = { framesOut: 0, messagesOut: 0, framesIn: 0, messagesIn: 0, bytesOut: 0, bytesIn: 0 };

  constructor(
    private readonly ws: WebSocket,
    private readonly options: PeerConnectionOptions,
  ) {
    this.outbox = new FrameOutbox(
      {
        canSend: () => !this.closed,
        write: (frame, count) => {
          this.counters.framesOut++;
          this.counters.messagesOut += count;
          this.counters.bytesOut += frame.length;
          options.mask?.next(frame.length);
          this.ws.send(frame, { binary: true });
        },
        unsendable: (message, err) => this.unsendable(message, err),
      },
      Number.POSITIVE_INFINITY,
      options.maxFrameBytes,
    );
    this.remoteId = options.remoteId;
    this.remoteAddress = options.remoteAddress;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.teardown(`closed (${code}${reason.length > 0 ? ` ${reason}` : ''})`));
    ws.on('error', (err) => this.teardown(`error: ${err.message}`));
  }

  /** True until the socket closes. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** Number of requests waiting for replies. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends a request and resolves with the reply body; rejects with a ShoalError on error reply, timeout or close. */
  request(kind: number, body: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed)
      return Promise.reject(new ShoalError('SHOAL_TRANSPORT_CLOSED', `connection to ${this.remoteAddress} is closed`));
    if (this.pending.size >= this.options.maxInFlight) {
      return Promise.reject(
        new ShoalError(
          'SHOAL_TRANSPORT_BACKPRESSURE',
          `${this.pending.size} requests in flight to ${this.remoteAddress}`,
          {
            maxInFlight: this.options.maxInFlight,
          },
        ),
      );
    }
    const id = this.nextId;
    this.nextId = id >= 0x7fffffff ? 1 : id + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ShoalError('SHOAL_TRANSPORT_TIMEOUT', `no reply from ${this.remoteAddress} within ${timeoutMs} ms`, {
            kind,
            timeoutMs,
          }),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.enqueue([kind, id, body]);
    });
  }

  /** Sends a one-way message (no reply, no delivery guarantee). */
  send(kind: number, body: unknown): void {
    if (!this.closed) this.enqueue([kind, 0, body]);
  }

  /** Closes the socket; pending requests fail with SHOAL_TRANSPORT_UNAVAILABLE. Safe to call twice. */
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.outbox.flush();
    this.ws.close(code, reason);
    this.teardown('closed locally');
  }

  /** Closes without a closing handshake (the peer sees the socket drop). */
  terminate(): void {
    this.ws.terminate();
    this.teardown('terminated');
  }

  private enqueue(message: WireMessage): void {
    this.outbox.push(message);
  }

  /** A message too large for a frame (or not encodable) fails alone: its request, or the request it answers. */
  private unsendable([kind, id]: WireMessage, err: ShoalError): void {
    if (kind === MessageKind.ReplyOk) this.enqueue([MessageKind.ReplyError, id, err.toJSON()]);
    else if (kind !== MessageKind.ReplyError && id !== 0) this.settle(id, err);
    else this.options.onUnsendable(this, kind, err);
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    let messages: WireMessage[];
    try {
      if (!isBinary) throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'text frames are not part of the protocol');
      messages = decodeFrame(data, this.options.maxMessagesPerFrame);
    } catch (err) {
      const shoal = isShoalError(err) ? err : new ShoalError('SHOAL_PROTOCOL_INVALID', String(err));
      this.options.onProtocolError(this, shoal);
      this.ws.close(1007, shoal.code);
      this.teardown(`protocol error: ${shoal.message}`);
      return;
    }
    this.counters.framesIn++;
    this.counters.messagesIn += messages.length;
    this.counters.bytesIn += data.length;
    for (const [kind, id, body] of messages) {
      if (kind === MessageKind.ReplyOk) this.settle(id, undefined, body);
      else if (kind === MessageKind.ReplyError) this.settle(id, errorFromWire(body as never));
      else this.dispatch(kind, id, body);
    }
  }

  private settle(id: number, err: Error | undefined, value?: unknown): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return; // late reply after a timeout
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (err === undefined) pending.resolve(value);
    else pending.reject(err);
  }

  private dispatch(kind: number, id: number, body: unknown): void {
    const handler = this.options.handlers.get(kind);
    if (handler === undefined) {
      if (id !== 0)
        this.replyError(
          id,
          new ShoalError('SHOAL_PROTOCOL_UNKNOWN_KIND', `no handler for message kind ${kind}`, { kind }),
        );
      return;
    }
    let result: unknown;
    try {
      result = handler(body, this);
    } catch (err) {
      if (id !== 0) this.replyError(id, err);
      return;
    }
    if (id === 0) {
      // a one-way message has nobody to answer: a failing handler is dropped here, as a throwing one is above
      if (result instanceof Promise) result.catch(() => {});
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value) => this.enqueue([MessageKind.ReplyOk, id, value]),
        (err) => this.replyError(id, err),
      );
    } else this.enqueue([MessageKind.ReplyOk, id, result]);
  }

  private replyError(id: number, err: unknown): void {
    const shoal = isShoalError(err) ? err : new ShoalError('SHOAL_INTERNAL', (err as Error)?.message ?? String(err));
    this.enqueue([MessageKind.ReplyError, id, shoal.toJSON()]);
  }

  private teardown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.outbox.clear();
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(
        new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', `connection to ${this.remoteAddress} ${reason}`, {
          address: this.remoteAddress,
        }),
      );
    }
    this.options.onClose(this, reason);
  }
}
