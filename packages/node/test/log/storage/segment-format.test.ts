import { crc32 as zlibCrc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import t from 'tap';
import { crc32, tableCrc32 } from '../../../src/log/storage/crc32.js';
import type { LogRecord } from '../../../src/log/storage/log-record.js';
import { type FrameHead, peekFrameHead, RecordCodec } from '../../../src/log/storage/record-codec.js';
import { RecordIndex } from '../../../src/log/storage/record-index.js';
import { SegmentFile } from '../../../src/log/storage/segment-file.js';
import { throwsCode } from './partition-log-contract.js';

t.test('crc32 table fallback matches zlib on lengths 0..300 and when continued', async (t) => {
  const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919) & 0xff));
  for (let n = 0; n <= 300; n += 13) t.equal(tableCrc32(data.subarray(0, n)), zlibCrc32(data.subarray(0, n)));
  t.equal(tableCrc32(data.subarray(100), tableCrc32(data.subarray(0, 100))), zlibCrc32(data));
  t.equal(tableCrc32(Buffer.from('123456789')), 0xcbf43926, 'the standard check value');
  t.equal(crc32, zlibCrc32, 'Node 20.20 has zlib.crc32: the native one is used');
});

t.test('RecordCodec frames decode back and a damaged frame is LOG_CORRUPT', async (t) => {
  const codec = new RecordCodec();
  codec.resetBatch();
  const size0 = codec.appendFrame(41, 1000, { a: [1, 2] }, undefined, undefined, undefined);
  const size1 = codec.appendFrame(42, 1001, 'v', 'key', 'id', { h: '1' });
  const batch = Buffer.from(codec.batch.subarray(0, codec.used));
  t.equal(batch.length, 16 + size0 + size1);
  t.same(codec.decodeFrame(batch, 0, 41, {}), {
    offset: 41,
    timestamp: 1000,
    key: undefined,
    id: undefined,
    headers: undefined,
    value: { a: [1, 2] },
    size: size0,
  });
  t.match(codec.decodeFrame(batch, 8 + size0, 42, {}), { key: 'key', id: 'id', headers: { h: '1' }, value: 'v' });
  throwsCode(t, () => codec.decodeFrame(batch, 0, 40, {}), 'SHOAL_LOG_CORRUPT', 'another offset than expected');
  batch[10] = batch[10]! ^ 1;
  throwsCode(t, () => codec.decodeFrame(batch, 0, 41, {}), 'SHOAL_LOG_CORRUPT', 'a flipped bit');
  throwsCode(
    t,
    () => codec.appendFrame(1, 1, Symbol('s'), undefined, undefined, undefined),
    'SHOAL_VALUE_INVALID',
    'msgpack refuses',
  );
});

t.test('RecordCodec batch grows for large frames and is released after a huge batch', async (t) => {
  const codec = new RecordCodec();
  codec.resetBatch();
  let position = 0;
  for (let i = 0; i < 3; i++) {
    const at = codec.used;
    t.equal(codec.appendFrame(i, 0, 'z'.repeat(3 * 1024 * 1024), undefined, undefined, undefined), codec.used - at - 8);
    position = at;
  }
  t.ok(codec.batch.length >= codec.used && codec.used > 9 * 1024 * 1024);
  t.equal(codec.decodeFrame(codec.batch, position, 2, {}).value, 'z'.repeat(3 * 1024 * 1024), 'the last frame');
  codec.resetBatch();
  t.equal(codec.batch.length, 64 * 1024);
});

t.test('peekFrameHead reads offset and timestamp in every msgpack number encoding', async (t) => {
  const packr = new Packr({ useRecords: false });
  const head: FrameHead = { offset: -1, timestamp: -1 };
  for (const offset of [0, 5, 200, 60_000, 70_000, 2 ** 40, 2 ** 53 - 1]) {
    for (const timestamp of [0, -3, 1.5, 1_767_225_600_123]) {
      const payload = packr.pack([offset, timestamp, 'value']);
      t.ok(peekFrameHead(payload, 0, payload.length, head), `${offset} / ${timestamp}`);
      t.same(head, { offset, timestamp });
    }
  }
  const raw = (bytes: number[]) => Buffer.from(bytes);
  // uint64 and int64 offsets, float32 timestamp, array16 header
  t.ok(peekFrameHead(raw([0x93, 0xcf, 0, 0, 0, 0, 0, 0, 1, 0, 0xca, 0x3f, 0xc0, 0, 0, 0xc0]), 0, 16, head));
  t.same(head, { offset: 256, timestamp: 1.5 });
  t.ok(peekFrameHead(raw([0xdc, 0, 3, 0xd3, 0, 0, 0, 0, 0, 0, 0, 9, 0xd0, 0xff, 0xc0]), 0, 15, head));
  t.same(head, { offset: 9, timestamp: -1 });
  t.ok(peekFrameHead(raw([0xdd, 0, 0, 0, 3, 0xd1, 0, 7, 0xd2, 0, 0, 0, 1, 0xc0]), 0, 14, head));
  t.same(head, { offset: 7, timestamp: 1 });
  const refused: [number[], string][] = [
    [[], 'empty'],
    [[0x80], 'a map'],
    [[0x92, 1, 2], 'an array too short for a record'],
    [[0x93, 0xa1, 0x61, 1], 'a string offset'],
    [[0x93, 0xff, 1, 0xc0], 'a negative offset'],
    [[0x93, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 1, 0xc0], 'a fractional offset'],
    [[0x93, 0xce, 0, 0], 'a truncated offset'],
    [[0x93, 1, 0xc0, 0xc0], 'a nil timestamp'],
    [[0x93, 1, 0xcb, 0], 'a truncated timestamp'],
  ];
  for (const [bytes, what] of refused) t.notOk(peekFrameHead(raw(bytes), 0, bytes.length, head), what);
});

t.test('RecordIndex looks records up across chunks, trims the head and truncates the tail', async (t) => {
  const index = new RecordIndex(16, true, 100);
  const record = (offset: number) => ({ offset, timestamp: offset, value: offset, size: 1 }) as LogRecord;
  for (let o = 100; o < 200; o++) index.push(record(o), o * 10, o - 100);
  t.same([index.startOffset, index.endOffset], [100, 200]);
  t.equal(index.record(150)!.offset, 150);
  t.equal(index.position(199), 99);
  t.equal(index.firstAtOrAfter(1505), 151);
  index.trimHead(140);
  t.equal(index.startOffset, 140);
  t.equal(index.record(140)!.offset, 140);
  t.equal(index.firstAtOrAfter(0), 140, 'search starts at the start');
  index.releaseRecord(140);
  t.equal(index.record(140), undefined, 'released');
  t.equal(index.position(140), 40, 'the position stays');
  index.setRecord(140, record(140));
  t.equal(index.record(140)!.offset, 140);
  index.truncate(170);
  t.equal(index.endOffset, 170);
  index.push(record(170), 5, 0);
  t.equal(index.maxTimestamp(170), 1690, 'running max continues from the kept records');
  index.truncate(160);
  index.push(record(160), 1, 0);
  t.equal(index.record(160)!.offset, 160);
  index.trimHead(161);
  t.same([index.startOffset, index.endOffset], [161, 161]);
  index.push(record(161), 3, 0);
  t.equal(index.maxTimestamp(161), 3, 'an emptied index forgets old timestamps');
  for (let o = 162; o < 2000; o++) index.push(record(o), o, 0);
  index.trimHead(1990);
  t.equal(index.record(1995)!.offset, 1995, 'lookups stay right after compacting dropped chunks');
  index.reset(7);
  t.same([index.startOffset, index.endOffset], [7, 7]);
  index.push(undefined, 1, 0);
  t.equal(index.record(7), undefined, 'disk mode: a record not held');
});

t.test('SegmentFile names are 20-digit base offsets', async (t) => {
  t.equal(SegmentFile.fileName(1000), '00000000000000001000.log');
  t.equal(SegmentFile.parseFileName('00000000000000001000.log'), 1000);
  t.equal(SegmentFile.parseFileName('1000.log'), undefined);
  t.equal(SegmentFile.parseFileName('00000000000000001000.log.tmp'), undefined);
});
