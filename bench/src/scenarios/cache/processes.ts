/**
 * Starting the scenario's cache processes and waiting until they are usable:
 * a Shoal cluster whose nodes agree on the partition table, BentoCache
 * instances connected to Redis, and an invalidation path proven live by a
 * probe write before anything is timed. Each helper kills what it started if
 * it fails.
 */
import { type ClockSample, estimateSkew, wallNow } from './latency.js';
import { CacheWorker, killAll } from './worker-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 20 ms until true; throws `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A node per entry of `nearCacheEntries` (0 = no near cache), the first the seed; ids n0, n1, ... */
export async function startShoalCluster(
  label: string,
  nearCacheEntries: readonly number[],
  timeouts: { readyTimeoutMs: number; settleTimeoutMs: number },
): Promise<{ workers: CacheWorker[]; ids: string[] }> {
  const workers: CacheWorker[] = [];
  try {
    const ids: string[] = [];
    let seed: string | undefined;
    for (const [i, entries] of nearCacheEntries.entries()) {
      const worker = CacheWorker.spawn(`${label} n${i}`);
      workers.push(worker);
      const started = await worker.call(
        'shoalStart',
        { nodeId: `n${i}`, seeds: seed === undefined ? [] : [seed], nearCacheEntries: entries },
        timeouts.readyTimeoutMs,
      );
      seed ??= started.address;
      ids.push(started.id);
    }
    await waitFor(
      `${label}: every node alive with one partition table`,
      async () => {
        const tables = await Promise.all(workers.map((w) => w.call('shoalTable', null, timeouts.readyTimeoutMs)));
        return tables.every((t) => t.alive === workers.length && t.owners === tables[0]?.owners);
      },
      timeouts.settleTimeoutMs,
    );
    return { workers, ids };
  } catch (err) {
    await killAll(workers);
    throw err;
  }
}

/** `count` BentoCache instances on the Redis at `redisPort`. */
export async function startBentoInstances(
  label: string,
  count: number,
  redisPort: number,
  l1MaxItems: number,
  readyTimeoutMs: number,
): Promise<CacheWorker[]> {
  const workers: CacheWorker[] = [];
  try {
    for (let i = 0; i < count; i++) workers.push(CacheWorker.spawn(`${label} ${i}`));
    await Promise.all(workers.map((w) => w.call('bentoStart', { redisPort, l1MaxItems }, readyTimeoutMs)));
    return workers;
  } catch (err) {
    await killAll(workers);
    throw err;
  }
}

/**
 * Writes probe keys on `writer` until `observer` reports a drop: the stream
 * subscription (Shoal) or the bus subscription (BentoCache) is live. Leaves the
 * observer watching with its record cleared.
 */
export async function proveInvalidationPath(
  writer: CacheWorker,
  observer: CacheWorker,
  probeKeys: readonly string[],
  timeoutMs: number,
): Promise<void> {
  await observer.call('watch', null, timeoutMs);
  let n = 0;
  await waitFor(
    `${observer.label} to see a write of ${writer.label}`,
    async () => {
      await writer.call('write', { key: probeKeys[n++ % probeKeys.length] as string, value: 'probe' }, timeoutMs);
      await sleep(30);
      return (await observer.call('dropCount', null, timeoutMs)) > 0;
    },
    timeoutMs,
  );
  await observer.call('watch', null, timeoutMs);
}

/** How far `worker`'s clock runs ahead of `reference`'s, from `samples` IPC round trips to each. */
export async function measureSkew(
  reference: CacheWorker,
  worker: CacheWorker,
  timeoutMs: number,
  samples = 40,
): Promise<{ skewMs: number; errorMs: number }> {
  const read = async (w: CacheWorker) => {
    const taken: ClockSample[] = [];
    for (let i = 0; i < samples; i++) {
      const sentAt = wallNow();
      const remote = await w.call('clock', null, timeoutMs);
      taken.push({ sentAt, remote, receivedAt: wallNow() });
    }
    return estimateSkew(taken);
  };
  const ref = await read(reference);
  const other = await read(worker);
  return { skewMs: other.skewMs - ref.skewMs, errorMs: other.errorMs + ref.errorMs };
}
