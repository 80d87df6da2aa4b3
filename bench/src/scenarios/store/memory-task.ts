/**
 * Worker task: heap bytes per entry of one contender holding `entries` keys
 * with distinct 100-byte string values. The keys and values are created after
 * the baseline and kept alive only by the cache, so the figure counts entry
 * overhead plus key and value strings, the same way for every contender.
 */
import { type ContenderName, createAdapter } from './contenders.js';
import { settleHeap, valueString } from './workload.js';

export interface MemoryInput {
  readonly contender: ContenderName;
  readonly entries: number;
  readonly valueBytes: number;
}

export interface MemoryOutput {
  readonly contender: ContenderName;
  readonly entries: number;
  /** Entries the cache reports holding after the fill (must equal `entries`). */
  readonly size: number;
  readonly heapUsedBefore: number;
  readonly heapUsedAfter: number;
  readonly bytesPerEntry: number;
  /** Off-heap growth per entry (`external`, which includes ArrayBuffers such as typed-array link lists). */
  readonly externalPerEntry: number;
}

export async function measureMemory(input: MemoryInput): Promise<MemoryOutput> {
  const scratch = Buffer.alloc(input.valueBytes);
  await settleHeap();
  const before = process.memoryUsage();
  const cache = await createAdapter(input.contender, input.entries);
  for (let i = 0; i < input.entries; i++) cache.set(`key:${i}`, valueString(i, input.valueBytes, scratch));
  await settleHeap();
  const after = process.memoryUsage();
  const size = cache.size(); // also keeps the cache alive past the measurement
  cache.close();
  return {
    contender: input.contender,
    entries: input.entries,
    size,
    heapUsedBefore: before.heapUsed,
    heapUsedAfter: after.heapUsed,
    bytesPerEntry: (after.heapUsed - before.heapUsed) / input.entries,
    externalPerEntry: (after.external - before.external) / input.entries,
  };
}
