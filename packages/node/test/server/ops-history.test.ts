import t from 'tap';
import { OpsHistory } from '../../src/server/ops-history.js';

t.test('OpsHistory turns a growing count into per-second rates, oldest first, keeping the last N', async (t) => {
  let total = 0;
  const history = new OpsHistory(() => total, 3, 1000);
  t.same(history.rates().values, [], 'nothing before two samples');
  history.sample(10_000);
  t.same(history.rates().values, [], 'one sample is no rate yet');
  total = 50;
  history.sample(11_000);
  total = 150;
  history.sample(11_500); // 100 ops in half a second
  t.same(history.rates(), { endAt: 11_500, intervalMs: 1000, values: [50, 200] });
  total = 150;
  history.sample(12_500);
  total = 160;
  history.sample(13_500);
  t.same(history.rates().values, [200, 0, 10], 'only the newest 3 are kept');
  total = 100; // a counter reset (a store cleared) is not a negative rate
  history.sample(14_500);
  t.same(history.rates().values, [0, 10, 0]);
});

t.test('OpsHistory skips samples while the count is unavailable, and a stopped timer stays stopped', async (t) => {
  let total: number | undefined;
  const history = new OpsHistory(() => total, 5, 1000);
  history.sample(1000);
  total = 10;
  history.sample(2000);
  total = 20;
  history.sample(3000);
  t.same(history.rates().values, [10]);
  history.start();
  history.start();
  history.stop();
  history.stop();
  t.pass('start and stop are idempotent');
});
