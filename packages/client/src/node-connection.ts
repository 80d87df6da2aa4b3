/**
 * One WebSocket from the client to one node's `/v1/client` endpoint. Every
 * request issued in one tick goes out in one frame (auto-pipelining); replies
 * are matched by id. At most `maxInFlight` requests are on the wire; the rest
 * wait in a FIFO queue (backpressure) until replies free slots or their own
 * deadline passes. The first message is always the hello, so the node id and
 * partition table are known as soon as the socket is usable.
 *
 *   client                           node
 *     | --- [[40,1,[1]],[41,2,..]] ---> |   hello + this tick's requests, one frame
 *     | <-- [[0,1,{table}],[0,2,v]] --- |   this tick's replies, one frame
 *     | <-- [[42,0,{table}]] ---------- |   topology push (one-way)
 */
import {
  DialMask,
  decodeFrame,
  errorFromWire,
  FrameOutbox,
  isShoalError,
  MessageKind,
  ShoalError,
  type WireMessage,
} from '@shoal/protocol';
import WebSocket from 'ws';
import type { ResolvedConnectOptions } from './client-options.js';
import type { WireTable } from './routing-table.js';

/** What the node answers to the hello. */
export interface Hello {
  nodeId: string;
  protocol: number;
  table: WireTable;
}

interface Pending {
  id: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  /** Date.now() after which the request fails with SHOAL_TRANSPORT_TIMEOUT. */
  deadline: number;
  timeoutMs: number;
  /** Own timer, only for a deadline earlier than one already in the shared expiry queue. */
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** On the wire (counts against maxInFlight), not waiting in the queue. */
  sent: boolean;
}

/** What a settled request's callbacks become. */
const settled = () => {};

/** Callbacks of a connection into its client. */
export interface ConnectionEvents {
  /** A one-way message from the node (topology push, pub/sub message). */
  onPush(kind: number, body: unknown, connection: NodeConnection): void;
  /** The socket is gone (error, close, or a failed open); pending requests have been rejected. */
  onClose(connection: NodeConnection, reason: string, err: ShoalError): void;
}

/** Protocol version the client speaks. */
export const CLIENT_PROTOCOL_VERSION = 1;

/** A pipelined request/reply connection to one node. */
export class NodeConnection {
  /** Node id (known after the hello). */
  nodeId: string | undefined;
  /** Resolves with the hello reply once the node accepted the connection. */
  readonly ready: Promise<Hello>;
  private readonly ws: WebSocket;
  private readonly pending = new Map<number, Pending>();
  private queued: { message: WireMessage; pending: Pending }[] = [];
  private readonly outbox: FrameOutbox;
  private readonly mask = new DialMask();
  private nextId = 1;
  private onWire = 0;
  /**
   * Requests in deadline order, swept by one timer: a setTimeout + clearTimeout
   * per call cost ~0.7 µs, a third of the client's CPU per call. Settled
   * entries are skipped lazily and compacted away. Non-decreasing by deadline.
   */
  private expiry: Pending[] = [];
  private expiryHead = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private open = false;
  closed = false;
  /** Frames and messages this connection sent (pipelining shows as messages > frames). */
  readonly counters = { framesOut: 0, messagesOut: 0 };

  constructor(
    readonly url: string,
    private readonly options: ResolvedConnectOptions,
    private readonly events: ConnectionEvents,
  ) {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    this.ws = new WebSocket(url, {
      headers,
      perMessageDeflate: false,
      maxPayload: options.maxFrameBytes,
      handshakeTimeout: options.connectTimeoutMs,
      generateMask: this.mask.generateMask,
    });
    this.ws.binaryType = 'nodebuffer';
    this.outbox = new FrameOutbox(
      {
        canSend: () => this.open && !this.closed,
        write: (frame, count) => {
          this.counters.framesOut++;
          this.counters.messagesOut += count;
          this.mask.next(frame.length);
          this.ws.send(frame, { binary: true });
        },
        // a body msgpack cannot carry, or one larger than a frame, fails its own call, not the whole frame
        unsendable: ([, id], err) => this.fail(id, err),
      },
      Number.POSITIVE_INFINITY,
      options.maxFrameBytes,
    );
    this.ready = this.request(
      MessageKind.ClientHello,
      [CLIENT_PROTOCOL_VERSION],
      options.connectTimeoutMs,
      undefined,
    ) as Promise<Hello>;
    this.ready.then(
      (hello) => {
        this.nodeId = hello.nodeId;
      },
      () => {},
    );
    this.ws.on('open', () => {
      this.open = true;
      this.outbox.flush();
    });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    this.ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => {
        let err: ShoalError;
        try {
          err = errorFromWire(JSON.parse(text));
        } catch {
          err = new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', `${url} answered HTTP ${res.statusCode}`);
        }
        this.teardown(err);
        this.ws.terminate();
      });
      res.on('error', () => {});
    });
    this.ws.on('error', (err) => {
      this.teardown(new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', `${url}: ${err.message}`, { url }));
    });
    this.ws.on('close', (code, reason) => {
      this.teardown(
        new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', `${url} closed (${code} ${reason.toString()})`, { url, code }),
      );
    });
  }

  /** Requests on the wire plus those waiting for a slot. */
  get load(): number {
    return this.pending.size;
  }

  /** True once the hello has been answered and the socket has not closed. */
  get usable(): boolean {
    return this.nodeId !== undefined && !this.closed;
  }

  /**
   * Sends a request; resolves with the reply body. Rejects with the node's
   * typed error, SHOAL_TRANSPORT_UNAVAILABLE when the socket drops first,
   * SHOAL_TRANSPORT_TIMEOUT after `timeoutMs`, SHOAL_CLIENT_ABORTED on `signal`.
   */
  request(kind: number, body: unknown, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.start(kind, body, Date.now() + timeoutMs, timeoutMs, signal, resolve, reject),
    );
  }

  /** `request` with callbacks instead of a promise (the client's hot path wraps one promise around it). */
  start(
    kind: number,
    body: unknown,
    /** Date.now()-based time after which it fails with SHOAL_TRANSPORT_TIMEOUT (the caller's clock). */
    deadline: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    resolve: (value: unknown) => void,
    reject: (err: Error) => void,
  ): void {
    if (this.closed) {
      reject(new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', `${this.url} is closed`, { url: this.url }));
      return;
    }
    const id = this.nextId++;
    const pending: Pending = {
      id,
      resolve,
      reject,
      deadline,
      timeoutMs,
      timer: undefined,
      signal,
      onAbort: undefined,
      sent: false,
    };
    this.arm(pending);
    if (signal !== undefined) this.listenForAbort(pending, signal);
    const message: WireMessage = [kind, id, body];
    if (this.onWire >= this.options.maxInFlight || this.queued.length > 0) {
      if (this.queued.length >= this.options.maxQueued) {
        this.clear(pending);
        reject(new ShoalError('SHOAL_TRANSPORT_BACKPRESSURE', `more than ${this.options.maxQueued} calls queued`));
        return;
      }
      this.pending.set(id, pending);
      this.queued.push({ message, pending });
      return;
    }
    this.pending.set(id, pending);
    pending.sent = true;
    this.onWire++;
    this.enqueue(message);
  }

  // no closure in `start` itself: one there makes V8 allocate a context on every call, signal or not
  private listenForAbort(pending: Pending, signal: AbortSignal): void {
    const reject = pending.reject;
    pending.onAbort = () => {
      if (this.pending.get(pending.id) !== pending) return;
      this.forget(pending.id, pending);
      reject(new ShoalError('SHOAL_CLIENT_ABORTED', undefined, undefined, { cause: signal.reason }));
    };
    signal.addEventListener('abort', pending.onAbort, { once: true });
  }

  /** Puts a request under the shared expiry sweep, or under its own timer when its deadline is earlier. */
  private arm(pending: Pending): void {
    const last = this.expiry[this.expiry.length - 1];
    if (last !== undefined && this.expiryHead < this.expiry.length && pending.deadline < last.deadline) {
      pending.timer = setTimeout(() => this.expire(pending), pending.timeoutMs);
      return;
    }
    // compacted often (amortized under 2 map lookups per call): settled entries held for long get promoted by the GC
    if (this.expiry.length - this.expiryHead > 256 && this.expiry.length - this.expiryHead > 4 * this.pending.size) {
      this.compactExpiry();
    }
    this.expiry.push(pending);
    if (this.sweepTimer === undefined) this.sweepTimer = setTimeout(() => this.sweep(), pending.timeoutMs);
  }

  /** Drops settled requests from the expiry queue (a method of its own: no closure context on `arm`'s path). */
  private compactExpiry(): void {
    this.expiry = this.expiry.slice(this.expiryHead).filter((p) => this.pending.get(p.id) === p);
    this.expiryHead = 0;
  }

  /** Fails every request past its deadline at the head of the queue, then waits for the next deadline. */
  private sweep(): void {
    this.sweepTimer = undefined;
    const now = Date.now();
    while (this.expiryHead < this.expiry.length) {
      const head = this.expiry[this.expiryHead] as Pending;
      if (this.pending.get(head.id) !== head) {
        this.expiryHead++;
        continue;
      }
      if (head.deadline > now) break;
      this.expiryHead++;
      this.expire(head);
    }
    if (this.expiryHead >= this.expiry.length) {
      this.expiry = [];
      this.expiryHead = 0;
      return;
    }
    if (this.expiryHead > 1024) {
      this.expiry = this.expiry.slice(this.expiryHead);
      this.expiryHead = 0;
    }
    const next = this.expiry[this.expiryHead] as Pending;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(1, next.deadline - now));
  }

  private expire(pending: Pending): void {
    if (this.pending.get(pending.id) !== pending) return;
    const reject = pending.reject;
    this.forget(pending.id, pending);
    reject(new ShoalError('SHOAL_TRANSPORT_TIMEOUT', `no reply from ${this.url} within ${pending.timeoutMs} ms`));
  }

  /** Sends a one-way message. */
  send(kind: number, body: unknown): void {
    if (!this.closed) this.enqueue([kind, 0, body]);
  }

  /** Closes the socket; pending requests fail with SHOAL_CLIENT_CLOSED. Safe twice. */
  close(): void {
    if (this.closed) return;
    this.teardown(new ShoalError('SHOAL_CLIENT_CLOSED', 'the client has been closed'));
    if (this.open) this.ws.close(1000, 'client closing');
    else this.ws.terminate();
  }

  private forget(id: number, pending: Pending): void {
    if (this.pending.get(id) !== pending) return;
    this.pending.delete(id);
    this.clear(pending);
    this.admit();
  }

  /**
   * Stops a settled request's timer and abort listener, frees its slot, and
   * drops its callbacks (callers take them first): the expiry queue keeps
   * settled entries until it compacts, and a caller's promise chain held that
   * long outlives young-generation collections (GC was 40% of the client's CPU
   * at 64 in flight before).
   */
  private clear(pending: Pending): void {
    if (pending.sent) {
      pending.sent = false;
      this.onWire--;
    }
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    pending.timer = undefined;
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
    pending.onAbort = undefined;
    pending.signal = undefined;
    pending.resolve = settled;
    pending.reject = settled;
  }

  /** Moves queued requests onto the wire while slots are free (skipping ones that already timed out). */
  private admit(): void {
    while (this.queued.length > 0 && this.onWire < this.options.maxInFlight) {
      const next = this.queued.shift() as { message: WireMessage; pending: Pending };
      if (this.pending.get(next.message[1]) !== next.pending) continue;
      next.pending.sent = true;
      this.onWire++;
      this.enqueue(next.message);
    }
  }

  private enqueue(message: WireMessage): void {
    this.outbox.push(message);
  }

  private fail(id: number, err: Error): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    const reject = pending.reject;
    this.pending.delete(id);
    this.clear(pending);
    reject(err);
    this.admit();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    let messages: WireMessage[];
    try {
      if (!isBinary) throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'text frames are not part of the protocol');
      messages = decodeFrame(data);
    } catch (err) {
      const shoal = isShoalError(err) ? err : new ShoalError('SHOAL_PROTOCOL_INVALID', String(err));
      this.teardown(shoal);
      this.ws.terminate();
      return;
    }
    let freed = false;
    for (const [kind, id, body] of messages) {
      if (kind === MessageKind.ReplyOk || kind === MessageKind.ReplyError) {
        const pending = this.pending.get(id);
        if (pending === undefined) continue; // late reply after a timeout or an abort
        const { resolve, reject } = pending;
        this.pending.delete(id);
        this.clear(pending);
        freed = true;
        if (kind === MessageKind.ReplyOk) resolve(body);
        else reject(errorFromWire(body as never));
      } else {
        this.events.onPush(kind, body, this);
      }
    }
    if (freed && this.queued.length > 0) this.admit();
  }

  private teardown(err: ShoalError): void {
    if (this.closed) return;
    this.closed = true;
    this.outbox.clear();
    this.queued = [];
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.expiry = [];
    this.expiryHead = 0;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      const reject = p.reject;
      this.clear(p);
      reject(err);
    }
    this.events.onClose(this, err.message, err);
  }
}
