import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Unpackr } from 'msgpackr';
import t, { type Test } from 'tap';
import { type LogFs, nodeLogFs } from '../../../src/log/storage/log-fs.js';
import type { LogRecord } from '../../../src/log/storage/log-record.js';
import { PartitionLog } from '../../../src/log/storage/partition-log.js';
import type { PartitionLogOptions } from '../../../src/log/storage/partition-log-options.js';
import { messages, openLog, partitionLogContract, throwsCode } from './partition-log-contract.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// small segments and a small tail cache: every test crosses segment files and reads some records back from disk
function diskOptions(t: Test, extra: PartitionLogOptions = {}): PartitionLogOptions {
  return { dir: tempDir(t), segmentBytes: 1024, chunkRecords: 16, tailCacheBytes: 2048, fsync: 'never', ...extra };
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .sort();
}

// Frame start positions in a segment file, by walking the length fields.
function framePositions(file: string): number[] {
  const buf = readFileSync(file);
  const positions: number[] = [];
  for (let p = 0; p + 8 <= buf.length; p += 8 + buf.readUInt32BE(p)) positions.push(p);
  return positions;
}

function flipByte(file: string, position: number): void {
  const buf = readFileSync(file);
  buf[position] = buf[position]! ^ 0xff;
  writeFileSync(file, buf);
}

function readAll(log: PartitionLog): LogRecord[] {
  return log.read(log.startOffset, { maxMessages: 1_000_000, maxBytes: Number.POSITIVE_INFINITY });
}

// Calls enforceRetention until it has nothing more to do; returns the totals.
function drain(log: PartitionLog, now = 0): { removedMessages: number; removedSegments: number } {
  const total = { removedMessages: 0, removedSegments: 0 };
  for (let more = true; more; ) {
    const result = log.enforceRetention(now);
    total.removedMessages += result.removedMessages;
    total.removedSegments += result.removedSegments;
    more = result.more;
  }
  return total;
}

const fields = (r: LogRecord) => [r.offset, r.timestamp, r.value, r.key, r.id, r.headers];

/** node:fs with call counters and an optional failure hook. */
function spyFs(fail?: (call: string, n: number) => void): { fs: LogFs; calls: Record<string, number> } {
  const calls: Record<string, number> = { writeSync: 0, fdatasyncSync: 0, fdatasync: 0 };
  const count = (call: string) => {
    calls[call] = (calls[call] ?? 0) + 1;
    fail?.(call, calls[call]!);
  };
  const fs: LogFs = {
    ...nodeLogFs,
    writeSync: (fd, buf, offset, length, position) => {
      count('writeSync');
      return nodeLogFs.writeSync(fd, buf, offset, length, position);
    },
    fdatasyncSync: (fd) => {
      count('fdatasyncSync');
      nodeLogFs.fdatasyncSync(fd);
    },
    fdatasync: (fd, callback) => {
      count('fdatasync');
      nodeLogFs.fdatasync(fd, callback);
    },
  };
  return { fs, calls };
}

async function until(what: string, condition: () => boolean, deadlineMs = 5000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

partitionLogContract(t, 'disk', (t, extra) => diskOptions(t, extra));

t.test('PartitionLog (disk) segment files hold [u32 length][u32 crc32][msgpack record] frames', async (t) => {
  const options = diskOptions(t);
  const log = openLog(t, options);
  log.append([
    { value: { hello: 'world' }, key: 'k', timestamp: 1234 },
    { value: 7, id: 'i', timestamp: 1235 },
  ]);
  const buf = readFileSync(join(options.dir!, '00000000000000000000.log'));
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  const length = buf.readUInt32BE(0);
  const payload = buf.subarray(8, 8 + length);
  t.equal(buf.readUInt32BE(4), crc32(payload), 'crc32 of the payload, big-endian');
  t.same(unpackr.unpack(payload), [0, 1234, { hello: 'world' }, 'k']);
  const second = buf.subarray(8 + length);
  t.same(unpackr.unpack(second.subarray(8, 8 + second.readUInt32BE(0))), [1, 1235, 7, null, 'i']);
  t.equal(8 + length + 8 + second.readUInt32BE(0), buf.length, 'nothing else in the file');
  t.equal(log.read(0)[0]!.size, length, 'size is the payload size on disk');
});

t.test(
  'PartitionLog (disk) rolls segments at segmentBytes, named by base offset, and reopens with every record',
  async (t) => {
    const options = diskOptions(t);
    const log = new PartitionLog(options).open();
    for (let i = 0; i < 300; i += 7) log.append(messages(Math.min(7, 300 - i), i));
    const before = readAll(log);
    const files = segmentFiles(options.dir!);
    t.ok(files.length > 10, `${files.length} segments`);
    t.equal(files.length, log.stats().segments);
    t.equal(files[0], '00000000000000000000.log');
    let expectedBase = 0;
    for (const file of files) {
      t.equal(Number(file.slice(0, 20)), expectedBase, `${file} starts where the previous one ended`);
      expectedBase += framePositions(join(options.dir!, file)).length;
      t.ok(statSync(join(options.dir!, file)).size <= 1024, `${file} within segmentBytes`);
    }
    t.equal(expectedBase, 300);
    await log.close();

    const reopened = openLog(t, options);
    t.match(reopened.stats().recovery, { segments: files.length, records: 300, truncatedBytes: 0, cut: null });
    t.same([reopened.startOffset, reopened.endOffset], [0, 300]);
    t.same(readAll(reopened).map(fields), before.map(fields), 'every field of every record recovered');
    t.equal(reopened.offsetForTimestamp(1_000_000 + 1234), 124, 'timestamps rebuilt');
    t.same(reopened.append(messages(1, 300)), { baseOffset: 300, lastOffset: 300 });
    t.ok(reopened.stats().cachedBytes <= 2048, 'the warmed tail cache respects tailCacheBytes');
    t.ok(reopened.stats().cachedMessages > 0);
  },
);

t.test('PartitionLog (disk) reopen cuts a torn last frame at the last good record', async (t) => {
  const options = diskOptions(t);
  const log = new PartitionLog(options).open();
  log.append(messages(50));
  await log.close();
  const last = join(options.dir!, segmentFiles(options.dir!).at(-1)!);
  const frames = framePositions(last);
  const size = statSync(last).size;
  truncateSync(last, size - 5); // the crash happened mid-write of the last record
  const reopened = new PartitionLog(options).open();
  t.match(reopened.stats().recovery, { cut: 'torn', cutOffset: 49, truncatedBytes: size - 5 - frames.at(-1)! });
  t.same([reopened.startOffset, reopened.endOffset], [0, 49]);
  t.same(
    readAll(reopened).map((r) => r.value),
    messages(49).map((m) => m.value),
  );
  t.equal(statSync(last).size, frames.at(-1)!, 'the file is cut back to the frame boundary');
  t.same(reopened.append(messages(1, 49)), { baseOffset: 49, lastOffset: 49 }, 'the lost offset is written again');
  await reopened.close();
  const again = openLog(t, options);
  t.match(again.stats().recovery, { cut: null, records: 50, truncatedBytes: 0 });
});

t.test('PartitionLog (disk) reopen cuts a torn frame header and a zero-filled tail', async (t) => {
  const options = diskOptions(t);
  let log = new PartitionLog(options).open();
  log.append(messages(20));
  await log.close();
  const last = join(options.dir!, segmentFiles(options.dir!).at(-1)!);
  appendFileSync(last, Buffer.from([0, 0, 1])); // 3 bytes of a header
  log = new PartitionLog(options).open();
  t.match(log.stats().recovery, { cut: 'torn', truncatedBytes: 3, records: 20 });
  await log.close();
  appendFileSync(last, Buffer.alloc(4096)); // space allocated, data never written
  log = openLog(t, options);
  t.match(log.stats().recovery, { cut: 'torn', truncatedBytes: 4096, cutOffset: 20 });
  t.equal(log.endOffset, 20, 'no record lost');
});

t.test('PartitionLog (disk) a flipped byte fails the crc: cut there, later segments dropped', async (t) => {
  const options = diskOptions(t);
  const log = new PartitionLog(options).open();
  log.append(messages(200));
  const before = readAll(log);
  await log.close();
  const files = segmentFiles(options.dir!);
  t.ok(files.length >= 4);
  const victim = join(options.dir!, files[1]!);
  const base = Number(files[1]!.slice(0, 20));
  const frames = framePositions(victim);
  const victimBytes = statSync(victim).size;
  flipByte(victim, frames[2]! + 12); // inside the payload of the segment's third record
  const reopened = openLog(t, options);
  t.match(reopened.stats().recovery, {
    cut: 'crc',
    cutOffset: base + 2,
    truncatedBytes: victimBytes - frames[2]!,
    droppedSegments: files.length - 2,
  });
  t.equal(statSync(victim).size, frames[2], 'cut at the bad frame');
  t.same([reopened.startOffset, reopened.endOffset], [0, base + 2]);
  t.same(readAll(reopened).map(fields), before.slice(0, base + 2).map(fields), 'every record before the bad one');
  t.same(segmentFiles(options.dir!), files.slice(0, 2), 'files after the cut are deleted');
  t.same(reopened.append(messages(1)), { baseOffset: base + 2, lastOffset: base + 2 });
});

t.test('PartitionLog (disk) a segment file missing in the middle cuts the log at the hole', async (t) => {
  const options = diskOptions(t);
  const log = new PartitionLog(options).open();
  log.append(messages(200));
  await log.close();
  const files = segmentFiles(options.dir!);
  rmSync(join(options.dir!, files[2]!));
  const reopened = openLog(t, options);
  t.match(reopened.stats().recovery, { cut: 'gap', cutOffset: Number(files[2]!.slice(0, 20)) });
  t.equal(reopened.endOffset, Number(files[2]!.slice(0, 20)));
});

t.test('PartitionLog (disk) a record corrupted while open fails its read with LOG_CORRUPT', async (t) => {
  const options = diskOptions(t, { tailCacheBytes: 0, segmentBytes: 64 * 1024 });
  const log = openLog(t, options);
  log.append(messages(20));
  const file = join(options.dir!, '00000000000000000000.log');
  flipByte(file, framePositions(file)[5]! + 10);
  t.equal(log.read(0, { maxMessages: 5 }).length, 5, 'the records before it read fine');
  const details = throwsCode(t, () => log.read(3), 'SHOAL_LOG_CORRUPT', 'the damaged record');
  t.equal(details.offset, 5);
});

t.test('PartitionLog (disk) reads of the recent tail never touch the disk; older reads do', async (t) => {
  const log = openLog(t, diskOptions(t, { tailCacheBytes: 1024 }));
  log.append(messages(300));
  const { cachedBytes, cachedMessages } = log.stats();
  t.ok(cachedBytes <= 1024 && cachedMessages > 5, `${cachedMessages} records cached`);
  t.equal(log.read(295).length, 5);
  t.equal(log.stats().diskReads, 0, 'recent reads served from memory');
  const all = readAll(log);
  t.equal(log.stats().diskReads, 300 - cachedMessages, 'only the uncached records came from disk');
  t.same(
    all.map((r) => r.value),
    messages(300).map((m) => m.value),
  );
  const page = log.read(300 - cachedMessages - 3, { maxMessages: 6 });
  t.same(
    page.map((r) => r.offset),
    Array.from({ length: 6 }, (_, i) => 300 - cachedMessages - 3 + i),
    'a read spanning disk and cache',
  );
});

t.test('PartitionLog (disk) appends write one system call per batch', async (t) => {
  const { fs, calls } = spyFs();
  const log = openLog(t, diskOptions(t, { fs, segmentBytes: 1024 * 1024 }));
  for (let i = 0; i < 10; i++) log.append(messages(100, i * 100));
  t.equal(calls.writeSync, 10);
  t.equal(log.stats().segments, 1);
});

t.test('PartitionLog (disk) fsync always: one fdatasync per append before it returns', async (t) => {
  const { fs, calls } = spyFs();
  const log = openLog(t, diskOptions(t, { fs, fsync: 'always', segmentBytes: 1024 * 1024 }));
  for (let i = 0; i < 10; i++) {
    log.append(messages(20, i * 20));
    t.equal(calls.fdatasyncSync, i + 1, `append ${i} synced before returning`);
  }
  t.equal(calls.fdatasync, 0, 'nothing in the background');
  t.equal(log.stats().fsyncs, 10);
  log.append(Array.from({ length: 3 }, () => ({ value: 'x'.repeat(600 * 1024) })));
  t.equal(calls.fdatasyncSync, 13, 'a batch spanning three segments syncs each');
});

t.test('PartitionLog (disk) fsync interval: background fdatasync of written segments, none when idle', async (t) => {
  const { fs, calls } = spyFs();
  const log = openLog(t, diskOptions(t, { fs, fsync: 'interval', fsyncIntervalMs: 5 }));
  log.append(messages(40));
  t.equal(calls.fdatasyncSync, 0, 'append does not wait for the device');
  await until('a background fdatasync', () => calls.fdatasync! > 0);
  await until('the sync to finish', () => log.stats().fsyncs === calls.fdatasync);
  await log.close();
  t.equal(calls.fdatasyncSync, 0, 'nothing left to sync at close');
});

t.test('PartitionLog (disk) fsync interval: close syncs what the timer has not', async (t) => {
  const { fs, calls } = spyFs();
  const log = new PartitionLog(diskOptions(t, { fs, fsync: 'interval', fsyncIntervalMs: 3_600_000 }));
  log.open();
  log.append(messages(40)); // several segments, none synced yet
  await log.close();
  t.equal(calls.fdatasyncSync, log.stats().segments, 'every written segment synced at close');
});

t.test('PartitionLog (disk) fsync never: no fdatasync at all, even at close', async (t) => {
  const { fs, calls } = spyFs();
  const log = new PartitionLog(diskOptions(t, { fs, fsync: 'never', fsyncIntervalMs: 1 })).open();
  log.append(messages(100));
  await log.close();
  t.same([calls.fdatasyncSync, calls.fdatasync], [0, 0]);
});

t.test('PartitionLog (disk) retention by count removes whole segments beyond the newest maxMessages', async (t) => {
  const options = diskOptions(t, { maxMessages: 50 });
  const log = new PartitionLog(options).open();
  log.append(messages(300));
  const first = log.enforceRetention(0);
  t.same([first.removedSegments, first.more], [8, true], 'one call removes at most 8 segments');
  const result = drain(log);
  const { messages: kept, segments } = log.stats();
  const firstFile = segmentFiles(options.dir!)[0]!;
  t.equal(log.startOffset, Number(firstFile.slice(0, 20)), 'the start is the first remaining segment');
  t.ok(kept >= 50, `at least the newest 50 kept (${kept})`);
  t.ok(kept - framePositions(join(options.dir!, firstFile)).length < 50, 'at most one segment more');
  t.equal(segmentFiles(options.dir!).length, segments);
  t.same(result.removedMessages + first.removedMessages, 300 - kept);
  throwsCode(t, () => log.read(0), 'SHOAL_LOG_OFFSET_OUT_OF_RANGE', 'a removed offset');
  t.same(
    log.read(log.startOffset, { maxMessages: 1 }).map((r) => r.value),
    [messages(1, log.startOffset)[0]!.value],
  );
  const start = log.startOffset;
  await log.close();
  const reopened = openLog(t, options);
  t.same([reopened.startOffset, reopened.endOffset], [start, 300], 'the start survives a restart');
});

t.test('PartitionLog (disk) retention by bytes keeps at least maxBytes and at most one segment more', async (t) => {
  const log = openLog(t, diskOptions(t, { maxBytes: 3000 }));
  log.append(messages(300));
  drain(log);
  const { bytes } = log.stats();
  t.ok(bytes >= 3000 && bytes < 3000 + 1024, `${bytes} bytes kept`);
});

t.test('PartitionLog (disk) retention by age removes expired segments and rolls an expired active one', async (t) => {
  const log = openLog(t, diskOptions(t, { maxAgeMs: 1000 }));
  log.append(messages(100, 0, 10_000)); // timestamps 10_000 .. 10_990
  t.equal(log.enforceRetention(10_000 + 1000).removedSegments, 0, 'nothing older than maxAgeMs yet');
  log.enforceRetention(10_500 + 1000);
  t.ok(log.startOffset > 0 && log.startOffset <= 50, `segments entirely before 10_500 went (start ${log.startOffset})`);
  drain(log, 1_000_000);
  t.same([log.startOffset, log.endOffset, log.stats().segments], [100, 100, 1], 'all expired: one empty segment');
  t.same(log.append(messages(1)), { baseOffset: 100, lastOffset: 100 });
});

t.test('PartitionLog (disk) a failed write is undone: nothing stored, the next append succeeds', async (t) => {
  let failNext = false;
  const { fs } = spyFs((call) => {
    if (call === 'writeSync' && failNext) {
      failNext = false;
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    }
  });
  const options = diskOptions(t, { fs });
  const log = new PartitionLog(options).open();
  log.append(messages(30));
  failNext = true;
  const details = throwsCode(t, () => log.append(messages(30, 30)), 'SHOAL_LOG_IO_FAILED', 'ENOSPC');
  t.equal(details.reason, 'ENOSPC');
  t.equal(log.endOffset, 30, 'the failed batch took no offset');
  t.same(log.append(messages(5, 30)), { baseOffset: 30, lastOffset: 34 });
  await log.close();
  const reopened = openLog(t, options);
  t.match(reopened.stats().recovery, { cut: null, records: 35 });
  t.same(
    readAll(reopened).map((r) => r.value),
    messages(35).map((m) => m.value),
  );
});

t.test('PartitionLog (disk) a failed fdatasync under fsync always refuses further writes', async (t) => {
  let fail = false;
  const { fs } = spyFs((call) => {
    if (call === 'fdatasyncSync' && fail) throw Object.assign(new Error('i/o error'), { code: 'EIO' });
  });
  const options = diskOptions(t, { fs, fsync: 'always', segmentBytes: 1024 * 1024 });
  const log = openLog(t, options);
  log.append(messages(5));
  fail = true;
  throwsCode(t, () => log.append(messages(5, 5)), 'SHOAL_LOG_IO_FAILED', 'the append whose sync failed');
  fail = false;
  throwsCode(t, () => log.append(messages(1, 5)), 'SHOAL_LOG_IO_FAILED', 'later appends');
  t.equal(log.endOffset, 5);
  t.equal(log.read(0).length, 5, 'reads still work');
});

t.test('PartitionLog (disk) a batch failing after a short write and a roll is undone completely', async (t) => {
  let shortAt = -1;
  let writes = 0;
  const fs: LogFs = {
    ...nodeLogFs,
    writeSync: (fd, buf, offset, length, position) => {
      writes++;
      if (writes === shortAt) return nodeLogFs.writeSync(fd, buf, offset, Math.ceil(length / 2), position);
      if (writes === shortAt + 1) throw Object.assign(new Error('i/o error'), { code: 'EIO' });
      return nodeLogFs.writeSync(fd, buf, offset, length, position);
    },
  };
  const options = diskOptions(t, { fs });
  const log = new PartitionLog(options).open();
  log.append(messages(10));
  const files = segmentFiles(options.dir!);
  const sizes = files.map((f) => statSync(join(options.dir!, f)).size);
  shortAt = writes + 2; // the first write into the batch's second segment comes up short, the rest fails
  throwsCode(t, () => log.append(messages(60, 10)), 'SHOAL_LOG_IO_FAILED', 'the failed batch');
  t.same(segmentFiles(options.dir!), files, 'segments the batch created are deleted');
  t.same(
    files.map((f) => statSync(join(options.dir!, f)).size),
    sizes,
    'the active segment is cut back',
  );
  t.same([log.endOffset, log.stats().segments, log.stats().bytes], [10, files.length, sizes.reduce((a, b) => a + b)]);
  t.same(log.append(messages(60, 10)), { baseOffset: 10, lastOffset: 69 }, 'the retry succeeds');
  await log.close();
  const reopened = openLog(t, options);
  t.match(reopened.stats().recovery, { cut: null, records: 70 });
  t.same(
    readAll(reopened).map((r) => r.value),
    messages(70).map((m) => m.value),
  );
});

t.test('PartitionLog (disk) a failed open closes the log', async (t) => {
  const fs: LogFs = {
    ...nodeLogFs,
    readdirSync: () => {
      throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
    },
  };
  const log = new PartitionLog(diskOptions(t, { fs }));
  t.equal(throwsCode(t, () => log.open(), 'SHOAL_LOG_IO_FAILED', 'recovery').reason, 'EACCES');
  throwsCode(t, () => log.open(), 'SHOAL_LOG_CLOSED', 'a second open');
  await log.close();
});
