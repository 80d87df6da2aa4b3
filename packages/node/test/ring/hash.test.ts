import t from 'tap';
import { createXxHash32, XXHASH32_SEED } from '../../src/index.js';

t.test('createXxHash32 matches the reference xxh32 test vectors with seed 0', async (t) => {
  const hash = await createXxHash32();
  t.equal(XXHASH32_SEED, 0);
  // From the xxHash specification's test vectors: a library change or a seed change is caught here.
  t.equal(hash(''), 0x02cc5d05);
  t.equal(hash('a'), 0x550d7456);
  t.equal(hash('abc'), 0x32d153ff);
  t.equal(hash('The string that is being hashed'), 3998627172, 'xxhash-wasm README example');
});

t.test('createXxHash32 hashes the UTF-8 bytes of non-ASCII keys', async (t) => {
  const hash = await createXxHash32();
  t.equal(hash('ключ'), 0x4f28515b);
  t.equal(hash('🐟'), 0x84c131b8);
});

t.test('createXxHash32 returns unsigned 32-bit integers and shares one WebAssembly instance', async (t) => {
  const [a, b] = await Promise.all([createXxHash32(), createXxHash32()]);
  for (const key of ['', 'x', 'user:42', 'a'.repeat(1000)]) {
    const h = a(key);
    t.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, key.slice(0, 10));
    t.equal(b(key), h);
  }
});

t.test('createXxHash32 with another seed gives another function and rejects a bad seed', async (t) => {
  const seeded = await createXxHash32(7);
  t.equal(seeded('abc'), 1473238068);
  t.not(seeded('abc'), (await createXxHash32())('abc'));
  await t.rejects(createXxHash32(-1), { code: 'SHOAL_ARGUMENT_INVALID' });
  await t.rejects(createXxHash32(2 ** 32), { code: 'SHOAL_ARGUMENT_INVALID' });
});
