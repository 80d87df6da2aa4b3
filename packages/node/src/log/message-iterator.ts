/**
 * The async-iterator form of a consumer group member:
 *
 *   for await (const m of node.log.messages('orders', { group: 'billing' })) { await bill(m.value); }
 *
 * Each message is acked when the loop asks for the next one (the body ran
 * without throwing), or explicitly with `m.ack()` / `m.nack(delayMs)`. Leaving
 * the loop (break, return or throw) stops the member; a message taken but not
 * acked is redelivered after its lease, as with any consumer that stops.
 */
import type { ConsumedMessage, Consumer } from './consumer.js';

/** A message from the iterator, with explicit acknowledgement. */
export interface IteratedMessage extends Omit<ConsumedMessage, 'nack'> {
  /** Acks now (otherwise the next iteration does). */
  ack(): void;
  /** Redelivers after `delayMs` (default: the group's backoff). */
  nack(delayMs?: number): void;
}

/** Builds the iterator over a consumer created with `start(handler)`. */
export function messageIterator(
  start: (handler: (m: ConsumedMessage) => Promise<void>) => Consumer,
): AsyncIterableIterator<IteratedMessage> {
  const ready: { message: IteratedMessage; settle: () => void }[] = [];
  let wake: (() => void) | undefined;
  let current: { settle: () => void } | undefined;
  let done = false;
  const consumer = start(
    (m) =>
      new Promise<void>((resolve) => {
        let settled = false;
        const settle = () => {
          if (!settled) {
            settled = true;
            resolve();
          }
        };
        const message: IteratedMessage = {
          ...m,
          ack: settle,
          nack: (delayMs?: number) => {
            m.nack(delayMs);
            settle();
          },
        };
        ready.push({ message, settle });
        wake?.();
      }),
  );
  const finish = async (): Promise<IteratorResult<IteratedMessage>> => {
    done = true;
    wake?.();
    await consumer.close();
    return { done: true, value: undefined };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<IteratedMessage>> {
      current?.settle(); // the loop body finished without throwing: ack
      current = undefined;
      while (ready.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      const item = ready.shift();
      if (item === undefined) return { done: true, value: undefined };
      current = item;
      return { done: false, value: item.message };
    },
    return: finish,
    throw: async (err?: unknown) => {
      await finish();
      throw err;
    },
  };
}
