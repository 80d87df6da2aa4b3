import t from 'tap';
import { startCluster } from '../cluster/helpers.js';

t.test('GET /metrics serves Prometheus text with cache, cluster and log metrics that move', async (t) => {
  const nodes = await startCluster(t, 2);
  const a = nodes[0] as (typeof nodes)[0];
  const scrape = async () => (await fetch(`http://${a.address}/metrics`)).text();
  const value = (text: string, line: RegExp) =>
    Number(
      text
        .split('\n')
        .find((l) => line.test(l))
        ?.split(' ')
        .at(-1),
    );
  const before = await scrape();
  for (const name of [
    'shoal_cache_hits_total',
    'shoal_cache_misses_total',
    'shoal_cache_entries',
    'shoal_cache_bytes',
    'shoal_cache_max_bytes',
    'shoal_members',
    'shoal_partitions',
    'shoal_partitions_migrating',
    'shoal_partition_table_version',
    'shoal_op_duration_seconds',
  ]) {
    t.match(before, new RegExp(`# TYPE ${name} `), `${name} is exported`);
  }
  t.equal(value(before, /^shoal_members\{.*state="alive"/), 2);
  for (let i = 0; i < 50; i++) await a.cache.set(`m${i}`, i);
  for (let i = 0; i < 50; i++) await a.cache.get(`m${i}`);
  await a.log.createTopic('mt', { partitions: 4 });
  for (let i = 0; i < 10; i++) await a.log.append('mt', i);
  const after = await scrape();
  t.ok(value(after, /^shoal_cache_entries\{/) > value(before, /^shoal_cache_entries\{/), 'entries moved');
  t.ok(value(after, /^shoal_op_duration_seconds_count\{.*op="set".*result="ok"/) >= 50, 'set calls timed');
  // each node exports the partitions it leads: together they account for every message
  const b = nodes[1] as (typeof nodes)[0];
  const texts = [after, await (await fetch(`http://${b.address}/metrics`)).text()];
  const ends = texts.flatMap((text) =>
    text
      .split('\n')
      .filter((l) => l.startsWith('shoal_log_end_offset{') && l.includes('topic="mt"'))
      .map((l) => Number(l.split(' ').at(-1))),
  );
  t.equal(
    ends.reduce((x, y) => x + y, 0),
    10,
    'end offsets of topic partitions sum to the messages appended',
  );
});
