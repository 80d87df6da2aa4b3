import t from 'tap';
import { isShoalError, LocalCache, ManualClock } from '../../src/index.js';

const make = (extra: Record<string, unknown> = {}) => new LocalCache({ maxEntries: 1000, eviction: 'lru', ...extra });

t.test('LocalCache set then get returns the same value for every msgpack-able type', async (t) => {
  const c = make();
  const values: unknown[] = ['text', '', 0, -1.5, 2 ** 52, true, false, null, { a: 1, b: [1, 'x'] }, [1, 2, 3]];
  for (const [i, v] of values.entries()) t.ok(c.set(`k${i}`, v));
  for (const [i, v] of values.entries()) t.same(c.get(`k${i}`), v, `round-trips ${JSON.stringify(v)}`);
  const buf = Buffer.from([1, 2, 3]);
  c.set('buf', buf);
  t.equal(c.get('buf'), buf, 'a Buffer is kept by reference, like lru-cache');
  t.equal(c.get('missing'), undefined);
  t.equal(c.size, values.length + 1);
});

t.test('LocalCache set honours nx, xx and reports whether it wrote', async (t) => {
  const c = make();
  t.equal(c.set('a', 1, { xx: true }), false, 'xx on a missing key does not write');
  t.equal(c.has('a'), false);
  t.equal(c.set('a', 1, { nx: true }), true);
  t.equal(c.set('a', 2, { nx: true }), false, 'nx on an existing key does not write');
  t.equal(c.get('a'), 1);
  t.equal(c.set('a', 3, { xx: true }), true);
  t.equal(c.get('a'), 3);
});

t.test('LocalCache delete and has', async (t) => {
  const c = make();
  c.set('a', 1);
  t.equal(c.has('a'), true);
  t.equal(c.delete('a'), true);
  t.equal(c.delete('a'), false);
  t.equal(c.has('a'), false);
  t.equal(c.get('a'), undefined);
});

t.test('LocalCache counters increment, decrement and refuse non-integers', async (t) => {
  const c = make();
  t.equal(c.incr('n'), 1, 'missing counts as 0');
  t.equal(c.incr('n', 10), 11);
  t.equal(c.decr('n', 2), 9);
  t.equal(c.decr('n'), 8);
  t.equal(c.get('n'), 8, 'a counter reads as a number');
  c.set('s', 'hello');
  t.ok(
    isShoalError(
      t.throws(() => c.incr('s')),
      'SHOAL_STORE_NOT_INTEGER',
    ),
  );
  c.set('f', 1.5);
  t.ok(
    isShoalError(
      t.throws(() => c.incr('f')),
      'SHOAL_STORE_NOT_INTEGER',
    ),
  );
  c.set('big', Number.MAX_SAFE_INTEGER);
  t.ok(
    isShoalError(
      t.throws(() => c.incr('big')),
      'SHOAL_STORE_NOT_INTEGER',
    ),
    'overflow is refused',
  );
  t.equal(c.get('big'), Number.MAX_SAFE_INTEGER, 'nothing changed');
  t.ok(
    isShoalError(
      t.throws(() => c.incr('n', 1.5)),
      'SHOAL_ARGUMENT_INVALID',
    ),
  );
  t.ok(
    isShoalError(
      t.throws(() => c.decr('n', Number.NaN)),
      'SHOAL_ARGUMENT_INVALID',
    ),
  );
  c.hset('h', 'f', 1);
  t.ok(
    isShoalError(
      t.throws(() => c.incr('h')),
      'SHOAL_STORE_WRONG_TYPE',
    ),
  );
});

t.test('LocalCache hashes: hset, hget, hgetall, hlen, hdel', async (t) => {
  const c = make();
  t.equal(c.hset('user:1', 'name', 'ada'), 1);
  t.equal(c.hset('user:1', { name: 'Ada', age: 36 }), 1, 'one new field, one overwritten');
  t.equal(c.hget('user:1', 'name'), 'Ada');
  t.equal(c.hget('user:1', 'nope'), undefined);
  t.equal(c.hget('missing', 'x'), undefined);
  t.same(c.hgetall('user:1'), { name: 'Ada', age: 36 });
  t.same(c.hgetall('missing'), {});
  t.equal(c.hlen('user:1'), 2);
  t.equal(c.hdel('user:1', 'age', 'nope'), 1);
  t.equal(c.hdel('missing', 'x'), 0);
  t.equal(c.hdel('user:1', 'nope'), 0);
  t.equal(c.hdel('user:1', 'name'), 1);
  t.equal(c.has('user:1'), false, 'an emptied hash is deleted');
  t.equal(c.type('user:1'), undefined);
  t.ok(
    isShoalError(
      t.throws(() => c.hset('x', {})),
      'SHOAL_ARGUMENT_INVALID',
    ),
  );
});

t.test('LocalCache lists: push and pop at both ends, lrange with negative indexes', async (t) => {
  const c = make();
  t.equal(c.rpush('l', 'b', 'c'), 2);
  t.equal(c.lpush('l', 'a', 'z'), 4, 'lpush puts the last argument first');
  t.same(c.lrange('l', 0, -1), ['z', 'a', 'b', 'c']);
  t.same(c.lrange('l', 1, 2), ['a', 'b']);
  t.same(c.lrange('l', -2, -1), ['b', 'c']);
  t.same(c.lrange('l', 5, 10), []);
  t.same(c.lrange('l', -100, 0), ['z']);
  t.same(c.lrange('l', 2, 1), []);
  t.same(c.lrange('missing', 0, -1), []);
  t.equal(c.llen('l'), 4);
  t.equal(c.lpop('l'), 'z');
  t.equal(c.rpop('l'), 'c');
  t.equal(c.lpop('missing'), undefined);
  t.equal(c.llen('missing'), 0);
  t.equal(c.lpop('l'), 'a');
  t.equal(c.rpop('l'), 'b');
  t.equal(c.has('l'), false, 'an emptied list is deleted');
  t.ok(
    isShoalError(
      t.throws(() => c.lpush('l')),
      'SHOAL_ARGUMENT_INVALID',
    ),
  );
  t.ok(
    isShoalError(
      t.throws(() => c.lrange('l', 0.5, 1)),
      'SHOAL_ARGUMENT_INVALID',
    ),
  );
});

t.test('LocalCache list grows past its initial ring capacity and keeps order', async (t) => {
  const c = make();
  for (let i = 0; i < 50; i++) {
    if (i % 2 === 0) c.rpush('l', i);
    else c.lpush('l', i);
  }
  const expected = [
    ...Array.from({ length: 25 }, (_, i) => 49 - 2 * i),
    ...Array.from({ length: 25 }, (_, i) => 2 * i),
  ];
  t.same(c.lrange('l', 0, -1), expected);
});

t.test('LocalCache wrong-type operations throw SHOAL_STORE_WRONG_TYPE and overwrite nothing', async (t) => {
  const c = make();
  c.set('v', 'x');
  c.hset('h', 'f', 1);
  c.rpush('l', 1);
  const cases: [string, () => unknown][] = [
    ['get on hash', () => c.get('h')],
    ['get on list', () => c.get('l')],
    ['set on hash', () => c.set('h', 'y')],
    ['set on list', () => c.set('l', 'y')],
    ['hset on value', () => c.hset('v', 'f', 1)],
    ['hget on list', () => c.hget('l', 'f')],
    ['hgetall on value', () => c.hgetall('v')],
    ['hdel on value', () => c.hdel('v', 'f')],
    ['hlen on list', () => c.hlen('l')],
    ['lpush on hash', () => c.lpush('h', 1)],
    ['rpush on value', () => c.rpush('v', 1)],
    ['lpop on value', () => c.lpop('v')],
    ['rpop on hash', () => c.rpop('h')],
    ['lrange on hash', () => c.lrange('h', 0, -1)],
    ['llen on value', () => c.llen('v')],
    ['mset over a hash', () => c.mset({ a: 1, h: 2 })],
  ];
  for (const [name, op] of cases) {
    const err = t.throws(op, name);
    t.ok(isShoalError(err, 'SHOAL_STORE_WRONG_TYPE'), `${name} is SHOAL_STORE_WRONG_TYPE`);
  }
  t.match((t.throws(() => c.get('h')) as Error).message, /holds a hash/);
  t.equal(c.get('v'), 'x');
  t.same(c.hgetall('h'), { f: 1 });
  t.same(c.lrange('l', 0, -1), [1]);
  t.equal(c.has('a'), false, 'the failed mset wrote nothing');
  t.equal(c.type('v'), 'value');
  t.equal(c.type('h'), 'hash');
  t.equal(c.type('l'), 'list');
});

t.test('LocalCache mget and mset', async (t) => {
  const c = make();
  c.mset({ a: 1, b: 'two' });
  c.mset([['c', 3]], { ttl: 1000 });
  c.hset('h', 'f', 1);
  t.same(c.mget(['a', 'b', 'c', 'missing', 'h']), [1, 'two', 3, undefined, undefined]);
  t.ok(c.ttl('c') > 0);
  t.ok(
    isShoalError(
      t.throws(() => c.mset({ ok: 1, bad: () => 1 })),
      'SHOAL_VALUE_INVALID',
    ),
  );
  t.equal(c.has('ok'), false, 'validation runs before any write');
});

t.test('LocalCache rejects bad keys and values with typed errors', async (t) => {
  const c = make({ maxKeyBytes: 8, maxValueBytes: 64 });
  const badKeys: unknown[] = ['', 123, null, undefined, 'x'.repeat(9), 'ééééé'];
  for (const key of badKeys) {
    t.ok(
      isShoalError(
        t.throws(() => c.set(key as string, 1)),
        'SHOAL_KEY_INVALID',
      ),
      `rejects key ${String(key)}`,
    );
  }
  t.ok(
    isShoalError(
      t.throws(() => c.get(42 as unknown as string)),
      'SHOAL_KEY_INVALID',
    ),
    'get with a non-string key',
  );
  t.ok(c.set('12345678', 1), 'a key of exactly maxKeyBytes is fine');
  const badValues: unknown[] = [undefined, () => 1, Symbol('s'), { f: () => 1 }, Promise.resolve(1)];
  for (const v of badValues)
    t.ok(
      isShoalError(
        t.throws(() => c.set('k', v)),
        'SHOAL_VALUE_INVALID',
      ),
    );
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  t.ok(
    isShoalError(
      t.throws(() => c.set('k', cyclic)),
      'SHOAL_VALUE_INVALID',
    ),
    'a cycle is refused',
  );
  const big = t.throws(() => c.set('k', 'x'.repeat(65)));
  t.ok(isShoalError(big, 'SHOAL_VALUE_TOO_LARGE'));
  t.match((big as Error).message, /65 bytes exceeds the maximum of 64/);
  t.ok(
    isShoalError(
      t.throws(() => c.set('k', 'é'.repeat(33))),
      'SHOAL_VALUE_TOO_LARGE',
    ),
    'counts UTF-8 bytes',
  );
  t.ok(
    isShoalError(
      t.throws(() => c.set('k', { a: 'x'.repeat(80) })),
      'SHOAL_VALUE_TOO_LARGE',
    ),
  );
  t.ok(
    isShoalError(
      t.throws(() => c.set('k', Buffer.alloc(100))),
      'SHOAL_VALUE_TOO_LARGE',
    ),
  );
  t.ok(
    isShoalError(
      t.throws(() => c.hset('h', 'f', 'x'.repeat(100))),
      'SHOAL_VALUE_TOO_LARGE',
    ),
  );
  t.ok(
    isShoalError(
      t.throws(() => c.rpush('l', 'x'.repeat(100))),
      'SHOAL_VALUE_TOO_LARGE',
    ),
  );
  t.ok(
    isShoalError(
      t.throws(() => c.hset('h', 'x'.repeat(9), 1)),
      'SHOAL_KEY_INVALID',
    ),
    'field names are bounded',
  );
  t.ok(c.set('k', 'x'.repeat(64)), 'a value of exactly maxValueBytes is fine');
  const roomy = make();
  t.ok(roomy.set('n', { nested: [1, 2, { deep: new Map([['a', 1]]), s: new Set([1]), d: new Date(0) }] }));
  t.ok(roomy.set('bytes', new Uint8Array(10).buffer));
});

t.test('LocalCache scan pages through keys by prefix and glob', async (t) => {
  const c = make();
  for (let i = 0; i < 250; i++) c.set(`user:${i}`, i);
  for (let i = 0; i < 50; i++) c.set(`order:${i}`, i);
  const all = (options: { match?: string; prefix?: string; count?: number }) => {
    const seen: string[] = [];
    let cursor = 0;
    let pages = 0;
    do {
      const page = c.scan({ ...options, cursor });
      seen.push(...page.keys);
      cursor = page.cursor;
      pages++;
    } while (cursor !== 0 && pages < 1000);
    return { seen, pages };
  };
  const users = all({ prefix: 'user:', count: 40 });
  t.equal(users.seen.length, 250);
  t.ok(users.pages > 1, 'paged');
  t.equal(new Set(users.seen).size, 250, 'no duplicates when nothing changes');
  t.equal(all({ match: 'order:*' }).seen.length, 50);
  t.same(all({ match: 'user:1?' }).seen.sort(), Array.from({ length: 10 }, (_, i) => `user:1${i}`).sort());
  t.same(all({ match: 'order:[0-2]' }).seen.sort(), ['order:0', 'order:1', 'order:2']);
  t.same(all({ match: 'order:[^0-8]' }).seen, ['order:9']);
  t.equal(all({}).seen.length, 300);
  t.ok(
    isShoalError(
      t.throws(() => c.scan({ cursor: -1 })),
      'SHOAL_ARGUMENT_INVALID',
    ),
  );
  t.ok(
    isShoalError(
      t.throws(() => c.scan({ count: 0 })),
      'SHOAL_ARGUMENT_INVALID',
    ),
  );
  t.ok(
    isShoalError(
      t.throws(() => c.scan({ match: 'a[b' })),
      'SHOAL_ARGUMENT_INVALID',
    ),
  );
});

t.test(
  'LocalCache scan returns every key present for the whole scan despite concurrent deletes and inserts',
  async (t) => {
    const c = make({ maxEntries: 10_000 });
    for (let i = 0; i < 1000; i++) c.set(`stable:${i}`, i);
    for (let i = 0; i < 1000; i++) c.set(`churn:${i}`, i);
    const seen = new Set<string>();
    let cursor = 0;
    let n = 0;
    do {
      const page = c.scan({ cursor, count: 50 });
      for (const k of page.keys) seen.add(k);
      cursor = page.cursor;
      c.delete(`churn:${n}`);
      c.set(`new:${n}`, n);
      n++;
    } while (cursor !== 0 && n < 10_000);
    for (let i = 0; i < 1000; i++) t.ok(seen.has(`stable:${i}`) || t.fail(`stable:${i} missed`));
  },
);

t.test('LocalCache stats count hits, misses, sets, deletes and ratio', async (t) => {
  const c = make();
  t.equal(c.stats().hitRatio, 0);
  c.set('a', 1);
  c.get('a');
  c.get('a');
  c.get('b');
  c.delete('a');
  const s = c.stats();
  t.match(s, { hits: 2, misses: 1, sets: 1, deletes: 1, evictions: 0, expirations: 0, entries: 0, bytes: 0 });
  t.equal(s.hitRatio, 2 / 3);
  t.equal(s.eviction, 'lru');
});

t.test('LocalCache close stops writes with SHOAL_STORE_CLOSED and is safe twice', async (t) => {
  const c = make({ clock: new ManualClock() });
  c.set('a', 1, { ttl: 1000 });
  c.close();
  c.close();
  t.equal(c.get('a'), undefined);
  t.ok(
    isShoalError(
      t.throws(() => c.set('a', 1)),
      'SHOAL_STORE_CLOSED',
    ),
  );
});

t.test('LocalCache clear drops everything and the cache keeps working', async (t) => {
  const c = make();
  for (let i = 0; i < 2000; i++) c.set(`k${i}`, i);
  c.clear();
  t.equal(c.size, 0);
  t.equal(c.stats().bytes, 0);
  for (let i = 0; i < 1500; i++) c.set(`k${i}`, i);
  t.equal(c.size, 1000);
  t.equal(c.get('k1499'), 1499);
});
