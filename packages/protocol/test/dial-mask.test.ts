import t from 'tap';
import { DialMask, ZERO_MASK_FROM_BYTES } from '../src/index.js';

const maskFor = (dial: DialMask, bytes: number) => {
  dial.next(bytes);
  const mask = new Uint8Array(4).fill(0xff);
  dial.generateMask(mask);
  return [...mask];
};

t.test('a small frame gets a nonzero mask (ws then writes it once), a large one the zero mask (no copy)', async (t) => {
  const dial = new DialMask();
  const small = maskFor(dial, 40);
  t.not(small.join(), '0,0,0,0', 'nonzero below the limit');
  t.same(maskFor(dial, ZERO_MASK_FROM_BYTES - 1), small, 'the same mask up to the limit');
  t.same(maskFor(dial, ZERO_MASK_FROM_BYTES), [0, 0, 0, 0], 'zero from the limit on');
  t.same(maskFor(dial, 1 << 20), [0, 0, 0, 0]);
  t.same(maskFor(dial, 1), small, 'back to the nonzero mask for the next small frame');
});

t.test('each socket chooses for itself', async (t) => {
  const a = new DialMask();
  const b = new DialMask();
  a.next(1 << 20);
  b.next(10);
  const ma = new Uint8Array(4).fill(0xff);
  const mb = new Uint8Array(4);
  a.generateMask(ma);
  b.generateMask(mb);
  t.same([...ma], [0, 0, 0, 0]);
  t.not([...mb].join(), '0,0,0,0');
});
