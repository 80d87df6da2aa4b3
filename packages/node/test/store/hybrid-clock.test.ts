import t from 'tap';
import { compareVersions, HybridClock, ManualClock, VERSION_EPOCH_MS, versionTimeMs } from '../../src/index.js';

t.test('HybridClock versions grow strictly within one millisecond and carry the wall time', async (t) => {
  const clock = new ManualClock(VERSION_EPOCH_MS + 1000);
  const hlc = new HybridClock(clock);
  const a = hlc.next();
  const b = hlc.next();
  t.ok(b > a);
  t.equal(versionTimeMs(a), VERSION_EPOCH_MS + 1000);
  clock.advance(1);
  const c = hlc.next();
  t.ok(c > b);
  t.equal(versionTimeMs(c), VERSION_EPOCH_MS + 1001);
});

t.test('HybridClock never goes backward when the wall clock steps back', async (t) => {
  const clock = new ManualClock(VERSION_EPOCH_MS + 10_000);
  const hlc = new HybridClock(clock);
  const a = hlc.next();
  clock.set(VERSION_EPOCH_MS + 5_000);
  t.ok(hlc.next() > a);
});

t.test('HybridClock orders local versions after an observed remote one', async (t) => {
  const clock = new ManualClock(VERSION_EPOCH_MS + 1000);
  const ahead = new HybridClock(new ManualClock(VERSION_EPOCH_MS + 50_000)).next();
  const hlc = new HybridClock(clock);
  hlc.observe(ahead);
  t.ok(hlc.next() > ahead);
  hlc.observe(1);
  t.ok(hlc.next() > ahead, 'an older observation changes nothing');
});

t.test('HybridClock versions stay exact float64 integers until 2094', async (t) => {
  const hlc = new HybridClock(new ManualClock(Date.UTC(2094, 0, 1)));
  const v = hlc.next();
  t.ok(Number.isSafeInteger(v));
  t.ok(Number.isSafeInteger(v + 4095));
});

t.test('compareVersions breaks ties by writer id, the same way everywhere', async (t) => {
  t.equal(compareVersions(1, 'b', 2, 'a'), -1);
  t.equal(compareVersions(2, 'a', 1, 'b'), 1);
  t.equal(compareVersions(5, 'a', 5, 'b'), -1);
  t.equal(compareVersions(5, 'b', 5, 'a'), 1);
  t.equal(compareVersions(5, 'a', 5, 'a'), 0);
});
