import t from 'tap';
import {
  inputsFromColumns,
  recordsFromReplicate,
  replicateBody,
  settleReply,
  toColumns,
} from '../../src/log/append-wire.js';
import type { LogRecord } from '../../src/log/storage/log-record.js';

const protocolError = { code: 'SHOAL_PROTOCOL_INVALID' };

t.test('Append wire: plain values travel as one column, absent fields as null columns', async (t) => {
  const columns = toColumns([{ value: 'a' }, { value: null }, { value: { n: 3 } }]);
  t.same(columns, [['a', null, { n: 3 }], null, null, null]);
  t.same(inputsFromColumns(columns), [{ value: 'a' }, { value: null }, { value: { n: 3 } }]);
});

t.test(
  'Append wire: keys, ids and headers of some messages survive the round trip, the others stay absent',
  async (t) => {
    const inputs = [{ value: 1, key: 'k1' }, { value: 2, id: 'id-2', headers: { h: 'x' } }, { value: 3 }];
    const columns = toColumns(inputs);
    t.same(columns[1], ['k1', null, null]);
    t.same(columns[2], [null, 'id-2', null]);
    t.same(columns[3], [null, { h: 'x' }, null]);
    const back = inputsFromColumns(columns);
    t.same(back, inputs);
    t.notOk('key' in (back[2] as object), 'an absent key is not set to null');
  },
);

t.test('Append wire: a replicated batch carries one timestamp when all share it, else one each', async (t) => {
  const record = (offset: number, timestamp: number, extra: Partial<LogRecord> = {}): LogRecord => ({
    offset,
    timestamp,
    value: `v${offset}`,
    size: 20,
    ...extra,
  });
  const same = replicateBody('t', 3, [record(10, 500), record(11, 500, { id: 'x' })], null);
  t.same(same.slice(0, 4), ['t', 3, 10, 500]);
  t.same(recordsFromReplicate(same[2], same[3], same[4]), [
    { offset: 10, timestamp: 500, value: 'v10' },
    { offset: 11, timestamp: 500, value: 'v11', id: 'x' },
  ]);
  const mixed = replicateBody('t', 3, [record(4, 1), record(5, 2)], null);
  t.same(mixed[3], [1, 2]);
  t.same(
    recordsFromReplicate(mixed[2], mixed[3], mixed[4]).map((r) => [r.offset, r.timestamp]),
    [
      [4, 1],
      [5, 2],
    ],
  );
  t.same(recordsFromReplicate(0, 0, [[], null, null, null]), [], 'an empty batch');
});

t.test('Append wire: malformed bodies are protocol errors, not partial appends', async (t) => {
  t.throws(() => inputsFromColumns('nope'), protocolError);
  t.throws(() => inputsFromColumns([[1, 2], ['k'], null, null]), protocolError, 'a short keys column');
  t.throws(() => inputsFromColumns([[1], null, null]), protocolError, 'three columns');
  t.throws(() => recordsFromReplicate(-1, 0, [[1], null, null, null]), protocolError, 'a negative offset');
  t.throws(
    () => recordsFromReplicate(0, [1, 2], [[1], null, null, null]),
    protocolError,
    'timestamps of another length',
  );
  t.throws(() => recordsFromReplicate(0, 'x', [[1], null, null, null]), protocolError, 'timestamps not numbers');
});

t.test('Append wire: a reply gives fresh messages consecutive offsets and duplicates their first offset', async (t) => {
  const got: [number, number, boolean][] = [];
  settleReply([20, [1, 7, 3, 21]], 5, (i, offset, duplicate) => got.push([i, offset, duplicate]));
  t.same(got, [
    [0, 20, false],
    [1, 7, true],
    [2, 21, false],
    [3, 21, true],
    [4, 22, false],
  ]);
  const none: number[] = [];
  t.throws(() => settleReply({ base: 1 }, 1, () => none.push(1)), protocolError);
  t.throws(() => settleReply([1, [0]], 1, () => none.push(1)), protocolError, 'an unpaired duplicate');
  t.same(none, [], 'nothing is settled from a bad reply');
});
