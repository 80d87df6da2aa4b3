import { setImmediate as nextTurn } from 'node:timers/promises';
import t from 'tap';
import { CoarseClock } from '../src/index.js';

t.test('CoarseClock reads its clock once per turn, and again after maxUses', async (t) => {
  let reads = 0;
  let time = 1000;
  const clock = new CoarseClock(() => {
    reads++;
    return time;
  }, 3);
  t.equal(clock.now(), 1000);
  time = 2000;
  t.equal(clock.now(), 1000, 'the same turn: the cached time');
  t.equal(clock.now(), 1000);
  t.equal(reads, 1);
  t.equal(clock.now(), 2000, 'maxUses reached: read again');
  t.equal(reads, 2);
  time = 3000;
  await nextTurn();
  t.equal(clock.now(), 3000, 'a new turn reads again');
  t.equal(reads, 3);
});
