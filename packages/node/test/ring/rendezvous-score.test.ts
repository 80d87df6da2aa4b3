import t from 'tap';
import { rendezvousKey, rendezvousScore } from '../../src/index.js';
import { rendezvousRank, rendezvousTiebreak } from '../../src/ring/rendezvous-score.js';

t.test('rendezvousKey derives step and offset from the member hash (hand-checked)', async (t) => {
  // partitionCount 7: step = 1 + h mod 6, offset = floor(h / 6) mod 7.
  t.match(rendezvousKey(1, 7), { step: 2, offset: 0, salt: 1 });
  t.match(rendezvousKey(7, 7), { step: 2, offset: 1, salt: 7 });
  t.match(rendezvousKey(50, 7), { step: 3, offset: 1, salt: 50 });
  // partitionCount 4096: an even step is bumped to the next odd one so the map stays a bijection.
  t.match(rendezvousKey(1, 4096), { step: 3, offset: 0 });
  t.match(rendezvousKey(2, 4096), { step: 3, offset: 0 });
});

t.test('rendezvousKey handles partition counts of 1 and 2', async (t) => {
  t.match(rendezvousKey(5, 1), { step: 1, offset: 0 });
  t.match(rendezvousKey(5, 2), { step: 1, offset: 1 });
});

t.test('rendezvousRank is a permutation of the partitions for every member', async (t) => {
  for (const count of [1, 2, 3, 7, 12, 271, 1000, 4096]) {
    for (const h of [0, 1, 2, 0x7fffffff, 0xdeadbeef, 0xffffffff]) {
      const key = rendezvousKey(h, count);
      const seen = new Uint8Array(count);
      for (let p = 0; p < count; p++) seen[rendezvousRank(key, p, count)]++;
      t.ok(
        seen.every((c) => c === 1),
        `count ${count} hash ${h}`,
      );
    }
  }
});

t.test('rendezvousScore orders by rank first, then by the tiebreak', async (t) => {
  const a = rendezvousKey(1, 7); // ranks 0 2 4 6 1 3 5
  const b = rendezvousKey(7, 7); // ranks 1 3 5 0 2 4 6
  t.ok(rendezvousScore(b, 0, 7) > rendezvousScore(a, 0, 7));
  t.ok(rendezvousScore(a, 3, 7) > rendezvousScore(b, 3, 7));
  t.equal(rendezvousScore(a, 3, 7), 6 * 2 ** 32 + rendezvousTiebreak(1, 3));
  t.ok(Number.isSafeInteger(rendezvousScore(rendezvousKey(0xffffffff, 1 << 20), (1 << 20) - 1, 1 << 20)));
});

t.test('rendezvousTiebreak does not let one member win every tie', async (t) => {
  let wins = 0;
  for (let p = 0; p < 1000; p++) if (rendezvousTiebreak(1, p) > rendezvousTiebreak(2, p)) wins++;
  t.ok(wins > 400 && wins < 600, `member 1 wins ${wins} of 1000`);
});

t.test('rendezvousKey capShare is uniform in [0, 1)', async (t) => {
  let low = 0;
  let outside = 0;
  for (let h = 0; h < 10_000; h++) {
    const share = rendezvousKey(h, 271).capShare;
    if (!(share >= 0 && share < 1)) outside++;
    if (share < 0.5) low++;
  }
  t.equal(outside, 0);
  t.ok(low > 4700 && low < 5300, `${low} of 10000 below 0.5`);
});
