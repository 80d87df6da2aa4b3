/**
 * The messages one socket will send, batched into frames: everything queued
 * in one turn of the event loop leaves as one frame (flushed by
 * setImmediate, after the turn's I/O callbacks and microtasks), or sooner
 * once `eagerAt` messages are waiting. Used by every Shoal socket: peer
 * connections, the node's client endpoint and the client's node connections.
 * A write costs 5-10 µs on the VMs this was measured on, so one frame for a
 * turn's messages is worth 3-10x over a frame each.
 */
import { encodeFrame, type WireMessage } from './wire.js';

/** What an outbox needs from its socket. */
export interface FrameSink {
  /** False while the socket cannot take frames: messages stay queued (until `clear`). */
  canSend(): boolean;
  /** Sends one encoded frame holding `count` messages. */
  write(frame: Buffer, count: number): void;
  /**
   * `messages` could not be encoded together (a body msgpack cannot carry):
   * the sink decides who fails; the others must still be sent.
   */
  unencodable(messages: WireMessage[], err: unknown): void;
}

/** One socket's queue of outgoing messages. */
export class FrameOutbox {
  private messages: WireMessage[] = [];
  private scheduled = false;
  private readonly flushLater = () => {
    this.scheduled = false;
    this.flush();
  };

  /** @param eagerAt a queue this long is flushed at once (default: only at the end of the turn) */
  constructor(
    private readonly sink: FrameSink,
    private readonly eagerAt = Number.POSITIVE_INFINITY,
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
    let frame: Buffer;
    try {
      frame = encodeFrame(messages);
    } catch (err) {
      this.sink.unencodable(messages, err);
      return;
    }
    this.sink.write(frame, messages.length);
  }

  /** Drops everything queued (the socket is gone). */
  clear(): void {
    this.messages = [];
  }
}
