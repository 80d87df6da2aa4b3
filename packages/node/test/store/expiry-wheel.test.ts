import t from 'tap';
import { ExpiryWheel } from '../../src/store/expiry-wheel.js';

t.test('ExpiryWheel sweeps only due slots, across buckets, and resumes after its work bound', async (t) => {
  const wheel = new ExpiryWheel(100, 10, 8);
  for (let slot = 0; slot < 50; slot++) wheel.schedule(slot, 1000 + slot * 3);
  const expired: number[] = [];
  const expire = (slot: number) => {
    expired.push(slot);
    wheel.cancel(slot);
  };
  t.equal(wheel.sweep(999, 100, expire), 0);
  t.equal(wheel.sweep(1030, 100, expire), 11, 'slots 0..10 have deadlines <= 1030');
  t.same(
    expired,
    Array.from({ length: 11 }, (_, i) => i),
  );
  expired.length = 0;
  let total = 0;
  for (let i = 0; i < 100 && wheel.size > 0; i++) total += wheel.sweep(2000, 3, expire);
  t.equal(total, 39, 'small work bounds still make progress');
  t.equal(wheel.size, 0);
});

t.test('ExpiryWheel moving a deadline and cancelling unlinks from the old bucket', async (t) => {
  const wheel = new ExpiryWheel(4, 10, 8);
  wheel.schedule(0, 100);
  wheel.schedule(1, 100);
  wheel.schedule(0, 500);
  wheel.cancel(1);
  wheel.cancel(1);
  t.equal(wheel.size, 1);
  const expired: number[] = [];
  wheel.sweep(200, 10, (s) => {
    expired.push(s);
    wheel.cancel(s);
  });
  t.same(expired, []);
  wheel.resize(16);
  wheel.schedule(10, 150);
  wheel.sweep(600, 10, (s) => {
    expired.push(s);
    wheel.cancel(s);
  });
  t.same(expired.sort(), [0, 10]);
  wheel.schedule(3, 1000);
  wheel.clear();
  t.equal(wheel.size, 0);
  t.equal(
    wheel.sweep(5000, 10, () => t.fail('nothing scheduled')),
    0,
  );
  t.throws(() => new ExpiryWheel(4, 10, 6), /power of two/);
});
