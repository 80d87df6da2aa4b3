import t from 'tap';
import { max, median, min, percentile, summarize } from '../src/lib/stats.js';

t.test('stats median takes the middle sample, or the mean of the two middle ones', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.equal(median([7]), 7);
});

t.test('stats percentile interpolates linearly between closest ranks', async (t) => {
  const xs = [10, 20, 30, 40, 50];
  t.equal(percentile(xs, 0), 10);
  t.equal(percentile(xs, 100), 50);
  t.equal(percentile(xs, 50), 30);
  t.equal(percentile(xs, 25), 20);
  t.equal(percentile(xs, 90), 46);
  t.equal(percentile([1, 2], 50), 1.5);
});

t.test('stats summarize reports median, extremes, mean and count without mutating input', async (t) => {
  const xs = [5, 1, 9, 3];
  t.same(summarize(xs), { median: 4, min: 1, max: 9, mean: 4.5, n: 4 });
  t.same(xs, [5, 1, 9, 3]);
  t.equal(min(xs), 1);
  t.equal(max(xs), 9);
});

t.test('stats reject empty sample sets, non-finite samples and bad percentiles', async (t) => {
  t.throws(() => median([]), RangeError);
  t.throws(() => summarize([1, Number.NaN]), RangeError);
  t.throws(() => percentile([1], 101), RangeError);
  t.throws(() => percentile([1], -1), RangeError);
});
