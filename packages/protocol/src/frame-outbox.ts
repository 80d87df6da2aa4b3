/**
 * The messages one socket will send, batched into frames: everything queued
 * in one turn of the event loop leaves as one frame (flushed by
 * setImmediate, after the turn's I/O callbacks and microtasks), or sooner
 * once `eagerAt` messages are waiting. Used by every Shoal socket: peer
 * connections, the node's client endpoint and the client's node connections.
 * A write costs 5-10 µs on the VMs this was measured on, so one frame for a
 * turn's messages is worth 3-10x over a frame each.
 *
 * A turn's frame larger than `maxFrameBytes` (the peer would close the
 * socket) is sent in halves, down to single messages; a single message that
 * is still too large, or that msgpack cannot encode, is handed back to the
 * sink alone, so it fails its own call and the others still leave.
 */
import { ShoalError } from './errors.js';
import { encodeFrame, type WireMessage } from './wire.js';

/** What an outbox needs from its socket. */
export interface FrameSink {
  /** False while the socket cannot take frames: messages stay queued (until `clear`). */
  canSend(): boolean;
  /** Sends one encoded frame holding `count` messages. */
  write(frame: Buffer, count: number): void;
  /**
   * `message` cannot be sent: msgpack cannot encode its body, or it alone is
   * larger than a frame may be (SHOAL_PROTOCOL_FRAME_TOO_LARGE). The sink
   * fails whatever waits for it (or answers the request it replies to).
   */
  unsendable(message: WireMessage, err: ShoalError): void;
}

/** One socket's queue of outgoing messages. */
export class FrameOutbox {
  private messages: WireMessage[] = [];
  private scheduled = false;
  private readonly flushLater = () => {
    this.scheduled = false;
    this.flush();
  };

  /**
   * @param eagerAt a queue this long is flushed at once (default: only at the end of the turn)
   * @param maxFrameBytes largest frame the other end accepts
   */
  constructor(
    private readonly sink: FrameSink,
    private readonly eagerAt = Number.POSITIVE_INFINITY,
    private readonly maxFrameBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** Messages waiting. */
  get size(): number {
    return this.messages.length;
  }

  /** Queues a message; it leaves in this turn's frame. */
  push(message: WireMessage): void {
    if (this.messages.push(message) >= this.eagerAt) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
  }

  /** Sends what is queued now, as one frame (kept queued while the sink cannot send). */
  flush(): void {
    if (this.messages.length === 0 || !this.sink.canSend()) return;
    const messages = this.messages;
    this.messages = [];
    this.send(messages);
  }

  private send(messages: WireMessage[]): void {
    let frame: Buffer | undefined;
    let failure: ShoalError | undefined;
    try {
      frame = encodeFrame(messages);
    } catch (err) {
      failure = new ShoalError('SHOAL_VALUE_INVALID', `cannot encode: ${(err as Error)?.message ?? String(err)}`);
    }
    if (frame !== undefined && frame.length <= this.maxFrameBytes) {
      this.sink.write(frame, messages.length);
      return;
    }
    if (messages.length > 1) {
      // rare: split until the good messages fit and the bad one stands alone
      const half = messages.length >> 1;
      this.send(messages.slice(0, half));
      this.send(messages.slice(half));
      return;
    }
    failure ??= new ShoalError(
      'SHOAL_PROTOCOL_FRAME_TOO_LARGE',
      `a message of ${frame?.length} bytes exceeds maxFrameBytes ${this.maxFrameBytes}`,
      { bytes: frame?.length, maxFrameBytes: this.maxFrameBytes },
    );
    this.sink.unsendable(messages[0] as WireMessage, failure);
  }

  /** Drops everything queued (the socket is gone). */
  clear(): void {
    this.messages = [];
  }
}
