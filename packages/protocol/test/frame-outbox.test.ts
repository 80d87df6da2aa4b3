import { setImmediate as nextTurn } from 'node:timers/promises';
import t from 'tap';
import { decodeFrame, FrameOutbox, type ShoalError, type WireMessage } from '../src/index.js';

/** A sink that records frames, decoded, and what it was told could not be sent. */
function recordingSink(open = { value: true }) {
  const frames: WireMessage[][] = [];
  const sizes: number[] = [];
  const failed: [WireMessage, string][] = [];
  return {
    frames,
    sizes,
    failed,
    sink: {
      canSend: () => open.value,
      write: (frame: Buffer, count: number) => {
        const messages = decodeFrame(frame);
        if (messages.length !== count) throw new Error(`count ${count} for ${messages.length} messages`);
        frames.push(messages);
        sizes.push(frame.length);
      },
      unsendable: (message: WireMessage, err: ShoalError) => {
        failed.push([message, err.code]);
      },
    },
  };
}

t.test('FrameOutbox sends one turn of messages as one frame, in order', async (t) => {
  const { frames, sink } = recordingSink();
  const outbox = new FrameOutbox(sink);
  for (let i = 0; i < 100; i++) outbox.push([10, i + 1, i]);
  t.equal(frames.length, 0, 'nothing leaves before the end of the turn');
  t.equal(outbox.size, 100);
  await nextTurn();
  t.equal(frames.length, 1);
  t.same(
    frames[0]?.map((m) => m[2]),
    Array.from({ length: 100 }, (_, i) => i),
  );
  outbox.push([10, 200, 'next']);
  await nextTurn();
  t.equal(frames.length, 2, 'a later turn gets its own frame');
});

t.test('FrameOutbox flushes at once when eagerAt messages are queued', async (t) => {
  const { frames, sink } = recordingSink();
  const outbox = new FrameOutbox(sink, 32);
  for (let i = 0; i < 70; i++) outbox.push([0, i + 1, i]);
  t.same(
    frames.map((f) => f.length),
    [32, 32],
    'two full parts left during the turn',
  );
  await nextTurn();
  t.same(
    frames.map((f) => f.length),
    [32, 32, 6],
    'the rest at the end of the turn',
  );
  t.same(
    frames.flat().map((m) => m[2]),
    Array.from({ length: 70 }, (_, i) => i),
    'order kept across parts',
  );
});

t.test('FrameOutbox keeps messages while the sink cannot send, and drops them on clear', async (t) => {
  const open = { value: false };
  const { frames, sink } = recordingSink(open);
  const outbox = new FrameOutbox(sink);
  outbox.push([10, 1, 'a']);
  await nextTurn();
  t.equal(frames.length, 0);
  t.equal(outbox.size, 1, 'still queued');
  open.value = true;
  outbox.flush();
  t.same(frames, [[[10, 1, 'a']]]);
  open.value = false;
  outbox.push([10, 2, 'b']);
  outbox.clear();
  open.value = true;
  await nextTurn();
  t.equal(frames.length, 1, 'cleared messages never leave');
});

t.test('FrameOutbox sends the others and hands back alone a message msgpack cannot encode', async (t) => {
  const { frames, failed, sink } = recordingSink();
  const outbox = new FrameOutbox(sink);
  for (let i = 1; i <= 9; i++) outbox.push([10, i, i === 4 ? 10n ** 30n : `v${i}`]); // 10^30: beyond msgpack's 64-bit
  await nextTurn();
  t.same(failed, [[[10, 4, 10n ** 30n], 'SHOAL_VALUE_INVALID']]);
  t.same(
    frames.flat().map((m) => m[1]),
    [1, 2, 3, 5, 6, 7, 8, 9],
    'every other message left, in order',
  );
});

t.test('FrameOutbox splits a turn larger than maxFrameBytes; a message too large alone fails alone', async (t) => {
  const { frames, sizes, failed, sink } = recordingSink();
  const outbox = new FrameOutbox(sink, Number.POSITIVE_INFINITY, 4096);
  for (let i = 1; i <= 20; i++) outbox.push([10, i, 'x'.repeat(i === 7 ? 10_000 : 1000)]);
  await nextTurn();
  t.same(
    failed.map(([m, code]) => [m[1], code]),
    [[7, 'SHOAL_PROTOCOL_FRAME_TOO_LARGE']],
  );
  t.ok(frames.length > 1, `${frames.length} frames`);
  t.ok(
    sizes.every((n) => n <= 4096),
    `frame sizes ${sizes.join(', ')}`,
  );
  t.same(
    frames.flat().map((m) => m[1]),
    Array.from({ length: 20 }, (_, i) => i + 1).filter((i) => i !== 7),
    'the others left in order',
  );
});
