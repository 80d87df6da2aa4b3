/**
 * Behaviour every PartitionLog must show whether it lives in memory or on
 * disk: run by partition-log-memory.test.ts and partition-log-disk.test.ts
 * with small chunks (and, on disk, small segments and a small tail cache) so
 * every test crosses chunk, segment and cache boundaries.
 */
import { isShoalError } from '@shoal/protocol';
import type { Test } from 'tap';
import type { AppendInput, ReplicatedInput } from '../../../src/log/storage/log-record.js';
import { PartitionLog } from '../../../src/log/storage/partition-log.js';
import type { PartitionLogOptions } from '../../../src/log/storage/partition-log-options.js';

/** Makes the options of one fresh log (a new directory each call, removed at teardown). */
export type LogFactory = (t: Test, extra?: PartitionLogOptions) => PartitionLogOptions;

/** Opens a log and registers its close at teardown. */
export function openLog(t: Test, options: PartitionLogOptions): PartitionLog {
  const log = new PartitionLog(options).open();
  t.teardown(() => log.close());
  return log;
}

/** `n` messages with values, keys, ids, headers and timestamps derived from their number. */
export function messages(n: number, from = 0, t0 = 1_000_000): AppendInput[] {
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    const input: AppendInput = { value: { n: i, text: `message ${i}` }, timestamp: t0 + i * 10 };
    if (i % 2 === 0) input.key = `k${i % 7}`;
    if (i % 3 === 0) input.id = `id-${i}`;
    if (i % 5 === 0) input.headers = { trace: `t${i}` };
    return input;
  });
}

/** Asserts `fn` throws a ShoalError with `code` and returns its details. */
export function throwsCode(t: Test, fn: () => unknown, code: string, what: string): Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    t.ok(isShoalError(err), `${what}: a ShoalError`);
    t.equal((err as { code: string }).code, code, `${what}: ${code}`);
    return { ...((err as { details?: Record<string, unknown> }).details ?? {}) };
  }
  t.fail(`${what}: did not throw ${code}`);
  return {};
}

/** Runs the shared behaviour tests; `mode` names the implementation in test names. */
export function partitionLogContract(t: Test, mode: string, factory: LogFactory): void {
  t.test(
    `PartitionLog (${mode}) append assigns dense offsets and read returns every field across boundaries`,
    async (t) => {
      const log = openLog(t, factory(t));
      const first = log.append(messages(50));
      t.same(first, { baseOffset: 0, lastOffset: 49 });
      t.same(log.append(messages(150, 50)), { baseOffset: 50, lastOffset: 199 });
      t.same(log.append([]), { baseOffset: 200, lastOffset: 199 }, 'an empty batch takes no offset');
      t.equal(log.startOffset, 0);
      t.equal(log.endOffset, 200);
      const got = [];
      for (let offset = 0; offset < log.endOffset; ) {
        const page = log.read(offset, { maxMessages: 37 });
        t.ok(page.length > 0 && page.length <= 37);
        got.push(...page);
        offset += page.length;
      }
      t.same(
        got.map((r) => r.offset),
        Array.from({ length: 200 }, (_, i) => i),
        'offsets dense and in order',
      );
      const expected = messages(200);
      for (const r of [got[0]!, got[15]!, got[16]!, got[99]!, got[199]!]) {
        const input = expected[r.offset]!;
        t.same(
          { value: r.value, timestamp: r.timestamp, key: r.key, id: r.id, headers: r.headers },
          { value: input.value, timestamp: input.timestamp, key: input.key, id: input.id, headers: input.headers },
          `record ${r.offset} round-trips`,
        );
        t.ok(r.size > 16, 'size is counted');
      }
    },
  );

  t.test(`PartitionLog (${mode}) append stamps the clock time once per call`, async (t) => {
    let now = 5000;
    const log = openLog(t, factory(t, { clock: { now: () => now++ } }));
    log.append([{ value: 1 }, { value: 2 }, { value: 3, timestamp: 42 }]);
    t.same(
      log.read(0).map((r) => r.timestamp),
      [5000, 5000, 42],
    );
  });

  t.test(`PartitionLog (${mode}) read honours maxMessages and maxBytes but returns at least one record`, async (t) => {
    const log = openLog(t, factory(t));
    log.append(Array.from({ length: 100 }, (_, i) => ({ value: 'x'.repeat(100), key: `k${i}` })));
    const size = log.read(10, { maxMessages: 1 })[0]!.size; // keys k10..k99: equal sizes
    t.equal(log.read(10, { maxMessages: 5 }).length, 5);
    t.equal(log.read(10, { maxBytes: size * 3 }).length, 3, 'three records fit exactly');
    t.equal(log.read(10, { maxBytes: size * 3 - 1 }).length, 2);
    t.equal(log.read(10, { maxBytes: 0 }).length, 1, 'the first record is returned whatever maxBytes');
    t.equal(log.read(95).length, 5, 'a read stops at the end');
    t.same(log.read(100), [], 'reading at the end returns nothing (caught up)');
  });

  t.test(`PartitionLog (${mode}) read outside [start, end] throws OFFSET_OUT_OF_RANGE with the bounds`, async (t) => {
    const log = openLog(t, factory(t));
    log.append(messages(10));
    t.same(
      throwsCode(t, () => log.read(11), 'SHOAL_LOG_OFFSET_OUT_OF_RANGE', 'past the end'),
      {
        offset: 11,
        startOffset: 0,
        endOffset: 10,
      },
    );
    throwsCode(t, () => log.read(-1), 'SHOAL_ARGUMENT_INVALID', 'negative offset');
    throwsCode(t, () => log.read(1.5), 'SHOAL_ARGUMENT_INVALID', 'fractional offset');
    throwsCode(t, () => log.read(0, { maxMessages: 0 }), 'SHOAL_ARGUMENT_INVALID', 'maxMessages 0');
    log.resetTo(5000);
    t.same(
      throwsCode(t, () => log.read(4999), 'SHOAL_LOG_OFFSET_OUT_OF_RANGE', 'below the start'),
      {
        offset: 4999,
        startOffset: 5000,
        endOffset: 5000,
      },
    );
  });

  t.test(
    `PartitionLog (${mode}) appendReplicated appends contiguous records, skips held ones, reports gaps`,
    async (t) => {
      const leader = openLog(t, factory(t));
      const follower = openLog(t, factory(t));
      leader.append(messages(60));
      const records = leader.read(0, { maxMessages: 100 }) as ReplicatedInput[];
      t.same(follower.appendReplicated(records.slice(0, 20)), {
        status: 'appended',
        appended: 20,
        skipped: 0,
        endOffset: 20,
      });
      t.same(
        follower.appendReplicated(records.slice(10, 30)),
        { status: 'appended', appended: 10, skipped: 10, endOffset: 30 },
        'overlap: the held half is skipped',
      );
      t.same(
        follower.appendReplicated(records.slice(0, 30)),
        { status: 'appended', appended: 0, skipped: 30, endOffset: 30 },
        'a full resend is idempotent',
      );
      t.same(follower.appendReplicated(records.slice(40, 50)), {
        status: 'gap',
        expectedOffset: 30,
        receivedOffset: 40,
      });
      t.equal(follower.endOffset, 30, 'a gap adds nothing');
      t.same(follower.appendReplicated([]), { status: 'appended', appended: 0, skipped: 0, endOffset: 30 });
      follower.appendReplicated(records.slice(30));
      t.same(
        follower.read(0, { maxMessages: 100 }).map((r) => [r.offset, r.timestamp, r.value, r.key, r.id]),
        leader.read(0, { maxMessages: 100 }).map((r) => [r.offset, r.timestamp, r.value, r.key, r.id]),
        'the follower holds the leader copy, timestamps included',
      );
      const dense = [records[0]!, records[2]!].map((r) => ({ ...r, offset: r.offset + 60 }));
      throwsCode(t, () => follower.appendReplicated(dense), 'SHOAL_ARGUMENT_INVALID', 'a batch with a hole');
      throwsCode(
        t,
        () => follower.appendReplicated([{ offset: 60, value: 1 } as ReplicatedInput]),
        'SHOAL_ARGUMENT_INVALID',
        'a record without timestamp',
      );
      t.equal(follower.endOffset, 60);
    },
  );

  t.test(`PartitionLog (${mode}) truncateFrom drops the tail and the next append reuses its offsets`, async (t) => {
    const log = openLog(t, factory(t));
    log.append(messages(100));
    log.truncateFrom(150);
    t.equal(log.endOffset, 100, 'past the end: nothing to drop');
    log.truncateFrom(37);
    t.equal(log.endOffset, 37);
    throwsCode(t, () => log.read(38), 'SHOAL_LOG_OFFSET_OUT_OF_RANGE', 'the dropped tail');
    t.same(log.append([{ value: 'new', timestamp: 1 }]), { baseOffset: 37, lastOffset: 37 });
    t.same(
      log.read(35).map((r) => r.value),
      [messages(36)[35]!.value, messages(37)[36]!.value, 'new'],
    );
    log.truncateFrom(32);
    log.truncateFrom(16);
    t.equal(log.endOffset, 16, 'truncation at a chunk boundary');
    log.append(messages(4, 16));
    t.same(
      log.read(14).map((r) => r.offset),
      [14, 15, 16, 17, 18, 19],
    );
    t.equal(log.offsetForTimestamp(Number.POSITIVE_INFINITY), 20);
  });

  t.test(
    `PartitionLog (${mode}) resetTo empties the log at a new start, and truncateFrom below the start does too`,
    async (t) => {
      const log = openLog(t, factory(t));
      log.append(messages(40));
      log.resetTo(1000);
      t.same([log.startOffset, log.endOffset, log.stats().messages], [1000, 1000, 0]);
      t.same(log.append(messages(3)), { baseOffset: 1000, lastOffset: 1002 });
      t.same(
        log.read(1000).map((r) => r.offset),
        [1000, 1001, 1002],
      );
      log.truncateFrom(10);
      t.same([log.startOffset, log.endOffset], [10, 10]);
    },
  );

  t.test(`PartitionLog (${mode}) offsetForTimestamp finds the first offset at or after a time`, async (t) => {
    const log = openLog(t, factory(t));
    log.append(messages(100)); // timestamps 1_000_000 + 10 i
    t.equal(log.offsetForTimestamp(0), 0);
    t.equal(log.offsetForTimestamp(1_000_000), 0);
    t.equal(log.offsetForTimestamp(1_000_500), 50, 'exact');
    t.equal(log.offsetForTimestamp(1_000_501), 51, 'between two records');
    t.equal(log.offsetForTimestamp(1_000_990), 99);
    t.equal(log.offsetForTimestamp(1_000_991), 100, 'after the last: the end');
    log.append([
      { value: 'late', timestamp: 2_000_000 },
      { value: 'skewed', timestamp: 1_500_000 },
    ]);
    t.equal(log.offsetForTimestamp(1_500_000), 100, 'a timestamp going backwards does not hide the earlier record');
    throwsCode(t, () => log.offsetForTimestamp(Number.NaN), 'SHOAL_ARGUMENT_INVALID', 'NaN');
  });

  t.test(`PartitionLog (${mode}) refuses bad messages with typed errors and stores none of the batch`, async (t) => {
    const log = openLog(t, factory(t, { maxMessageBytes: 2000 }));
    log.append(messages(3));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: [unknown, string, string][] = [
      [undefined, 'SHOAL_VALUE_INVALID', 'undefined value'],
      [() => 1, 'SHOAL_VALUE_INVALID', 'function'],
      [{ nested: { f: () => 1 } }, 'SHOAL_VALUE_INVALID', 'nested function (msgpack would drop it)'],
      [Symbol('s'), 'SHOAL_VALUE_INVALID', 'symbol'],
      [cyclic, 'SHOAL_VALUE_INVALID', 'cycle'],
      ['x'.repeat(5000), 'SHOAL_LOG_MESSAGE_TOO_LARGE', 'string above maxMessageBytes'],
      [
        Array.from({ length: 500 }, (_, i) => `item ${i}`),
        'SHOAL_LOG_MESSAGE_TOO_LARGE',
        'array above maxMessageBytes',
      ],
    ];
    for (const [value, code, what] of bad) {
      throwsCode(t, () => log.append([{ value: 'fine' }, { value }]), code, what);
    }
    throwsCode(t, () => log.append([{ value: 1, key: 7 as never }]), 'SHOAL_ARGUMENT_INVALID', 'numeric key');
    throwsCode(t, () => log.append([{ value: 1, headers: { a: 1 } as never }]), 'SHOAL_ARGUMENT_INVALID', 'header');
    throwsCode(t, () => log.append([{ value: 1, timestamp: Number.NaN }]), 'SHOAL_ARGUMENT_INVALID', 'timestamp');
    throwsCode(t, () => log.append([null as never]), 'SHOAL_ARGUMENT_INVALID', 'null message');
    throwsCode(t, () => log.append({} as never), 'SHOAL_ARGUMENT_INVALID', 'not an array');
    const details = throwsCode(
      t,
      () => log.append([{ value: 'y'.repeat(3000) }]),
      'SHOAL_LOG_MESSAGE_TOO_LARGE',
      'details',
    );
    t.equal(details.maxMessageBytes, 2000);
    t.equal(log.endOffset, 3, 'no failed batch stored anything');
    t.same(log.append([{ value: null }, { value: 'ok' }]), { baseOffset: 3, lastOffset: 4 }, 'null is a value');
    t.equal(log.read(3)[0]!.value, null);
    t.equal(log.stats().messages, 5);
  });

  t.test(`PartitionLog (${mode}) open and close are safe twice and a closed log refuses calls`, async (t) => {
    const log = new PartitionLog(factory(t));
    throwsCode(t, () => log.append(messages(1)), 'SHOAL_LOG_CLOSED', 'before open');
    t.equal(log.open(), log);
    t.equal(log.open(), log, 'open twice');
    log.append(messages(5));
    const closing = log.close();
    t.equal(log.close(), closing, 'close twice: the same promise');
    await closing;
    throwsCode(t, () => log.append(messages(1)), 'SHOAL_LOG_CLOSED', 'append after close');
    throwsCode(t, () => log.read(0), 'SHOAL_LOG_CLOSED', 'read after close');
    throwsCode(t, () => log.open(), 'SHOAL_LOG_CLOSED', 'reopen of a closed instance');
  });
}
