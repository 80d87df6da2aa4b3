import t from 'tap';
import type { LocalCacheOptions } from '../../src/index.js';
import { isShoalError, LocalCache } from '../../src/index.js';

t.test('LocalCache options: defaults are resolved and frozen', async (t) => {
  const c = new LocalCache({ maxEntries: 10 });
  t.match(c.options, {
    maxEntries: 10,
    maxBytes: Number.POSITIVE_INFINITY,
    eviction: 'tinylfu',
    maxKeyBytes: 1024,
    maxValueBytes: 16 * 1024 * 1024,
    defaultTtlMs: 0,
    sweepIntervalMs: 100,
    maxSweepWork: 10_000,
    nodeId: 'local',
  });
  t.ok(Object.isFrozen(c.options));
  const m = new LocalCache({ memory: '256mb', maxValueBytes: '1mb', defaultTtl: '30s' });
  t.equal(m.options.maxBytes, 256 * 1024 * 1024);
  t.equal(m.options.maxEntries, Number.POSITIVE_INFINITY);
  t.equal(m.options.maxValueBytes, 1024 * 1024);
  t.equal(m.options.defaultTtlMs, 30_000);
});

t.test('LocalCache options: every bad option fails with SHOAL_CONFIG_INVALID naming it', async (t) => {
  const cases: [unknown, string | RegExp][] = [
    [{}, /needs a bound/],
    [null, /must be an object/],
    [{ maxEntries: 0 }, /^maxEntries: 0 is not a positive integer/],
    [{ maxEntries: 1.5 }, /^maxEntries/],
    [{ maxEntries: '10' }, /^maxEntries/],
    [{ maxEntries: 2 ** 32 }, /^maxEntries/],
    [{ memory: '12zb' }, /^memory: "12zb" is not a size .*kb/],
    [{ memory: 0 }, /^memory/],
    [{ maxEntries: 1, eviction: 'fifo' }, /^eviction: "fifo" is not one of lru, lfu, tinylfu/],
    [{ maxEntries: 1, maxKeyBytes: 0 }, /^maxKeyBytes/],
    [{ maxEntries: 1, maxValueBytes: 'lots' }, /^maxValueBytes/],
    [{ maxEntries: 1, maxValueBytes: 0 }, /^maxValueBytes/],
    [{ maxEntries: 1, defaultTtl: 'forever' }, /^defaultTtl/],
    [{ maxEntries: 1, sweepIntervalMs: -1 }, /^sweepIntervalMs/],
    [{ maxEntries: 1, maxSweepWork: 0 }, /^maxSweepWork/],
    [{ maxEntries: 1, clock: {} }, /^clock/],
    [{ maxEntries: 1, nodeId: '' }, /^nodeId/],
    [{ maxEntries: 1, onRemove: 'x' }, /^onRemove/],
    [{ max: 10 }, /unknown option "max" \(did you mean maxEntries\?\)/],
    [{ maxEntries: 1, ttl: 5 }, /did you mean defaultTtl/],
    [{ maxEntries: 1, colour: 'red' }, /unknown option "colour"/],
  ];
  for (const [options, message] of cases) {
    const err = t.throws(() => new LocalCache(options as LocalCacheOptions), JSON.stringify(options));
    t.ok(isShoalError(err, 'SHOAL_CONFIG_INVALID'), `${JSON.stringify(options)} is SHOAL_CONFIG_INVALID`);
    t.match((err as Error).message, message);
  }
});
