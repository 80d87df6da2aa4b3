import t from 'tap';
import { formatBytes, isShoalError, parseBytes, parseDuration } from '../src/index.js';

t.test('parseBytes reads numbers and human sizes', async (t) => {
  t.equal(parseBytes(0), 0);
  t.equal(parseBytes(1234), 1234);
  t.equal(parseBytes('512'), 512);
  t.equal(parseBytes('64kb'), 65536);
  t.equal(parseBytes('256mb'), 256 * 1024 * 1024);
  t.equal(parseBytes('1.5GB'), 1.5 * 1024 ** 3);
  t.equal(parseBytes(' 2 MiB '), 2 * 1024 ** 2);
});

t.test('parseBytes rejects bad sizes naming the option and the allowed units', async (t) => {
  for (const bad of ['12zb', '', 'mb', '-1', -1, 1.5, Number.NaN, null, {}, '1e3kb']) {
    const err = t.throws(() => parseBytes(bad, 'memory'));
    t.ok(isShoalError(err, 'SHOAL_CONFIG_INVALID'), `rejects ${String(bad)}`);
    t.match((err as Error).message, /^memory: /);
  }
  t.match(
    t.throws(() => parseBytes('12zb', 'memory')),
    { message: /kb, .*gb/ },
  );
});

t.test('parseDuration reads milliseconds and unit strings', async (t) => {
  t.equal(parseDuration(250), 250);
  t.equal(parseDuration('250'), 250);
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('30s'), 30_000);
  t.equal(parseDuration('1.5m'), 90_000);
  t.equal(parseDuration('2h'), 7_200_000);
  t.equal(parseDuration('1d'), 86_400_000);
  for (const bad of ['5 weeks', 'soon', -5, Number.POSITIVE_INFINITY, true]) {
    t.ok(
      isShoalError(
        t.throws(() => parseDuration(bad, 'ttl')),
        'SHOAL_CONFIG_INVALID',
      ),
    );
  }
});

t.test('formatBytes renders binary units', async (t) => {
  t.equal(formatBytes(512), '512 B');
  t.equal(formatBytes(1536), '1.5 KiB');
  t.equal(formatBytes(256 * 1024 * 1024), '256.0 MiB');
});
