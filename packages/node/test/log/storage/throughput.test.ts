// Throughput smoke: exercises the append paths at volume and reports the rate as a comment.
// Not a timed assertion (CI machines vary); /tmp benchmark scripts measure for real.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { PartitionLog } from '../../../src/log/storage/partition-log.js';

function pump(log: PartitionLog, total: number, batch: number): number {
  const inputs = Array.from({ length: batch }, (_, i) => ({ value: `payload ${i} 0123456789`, key: `k${i % 16}` }));
  const started = performance.now();
  for (let n = 0; n < total; n += batch) log.append(inputs);
  return total / ((performance.now() - started) / 1000);
}

t.test('PartitionLog (memory) throughput smoke: 500k small appends stay dense', async (t) => {
  const log = new PartitionLog({ maxMessages: 100_000 }).open();
  t.teardown(() => log.close());
  const rate = pump(log, 500_000, 100);
  while (log.enforceRetention().more) {} // bounded work per call: drain
  t.comment(`memory: ${Math.round(rate / 1000)}k msgs/s (batches of 100)`);
  t.same([log.startOffset, log.endOffset], [400_000, 500_000]);
  t.equal(log.read(499_999)[0]!.offset, 499_999);
});

t.test('PartitionLog (disk) throughput smoke: 200k small appends in batches reopen intact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = new PartitionLog({ dir, segmentBytes: '4mb' }).open();
  const rate = pump(log, 200_000, 100);
  t.comment(`disk (fsync interval): ${Math.round(rate / 1000)}k msgs/s (batches of 100)`);
  await log.close();
  const reopened = new PartitionLog({ dir }).open();
  t.teardown(() => reopened.close());
  t.match(reopened.stats().recovery, { records: 200_000, cut: null });
  t.equal(reopened.read(0, { maxMessages: 1 })[0]!.value, 'payload 0 0123456789');
});
