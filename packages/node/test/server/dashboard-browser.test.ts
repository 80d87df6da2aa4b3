/**
 * The dashboard end to end: headless Debian Chromium (driven by playwright-core)
 * against a real 3-node cluster of child processes. The page must show three
 * members alive, and one member dead after it is SIGKILLed. Saves a screenshot
 * (to docs/dashboard.png when SHOAL_DASHBOARD_SCREENSHOT says so).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import t from 'tap';
import { createNode } from '../../src/index.js';
import { eventually } from '../cluster/helpers.js';
import { type ChildNode, settled, spawnNode, writeLoad } from '../cluster/process-helpers.js';

const CHROMIUM = '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  t.plan(0, `dashboard browser test skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);
} else {
  t.test('Dashboard in Chromium shows 3 members alive, then a SIGKILLed member dead', async (t) => {
    const a = await spawnNode(t, 'node-a');
    const [b, c] = await Promise.all([
      spawnNode(t, 'node-b', ['--seeds', a.address]),
      spawnNode(t, 'node-c', ['--seeds', a.address]),
    ]);
    const nodes: ChildNode[] = [a, b, c];
    await eventually(t, 'the 3 processes converge', () => settled(nodes, ['node-a', 'node-b', 'node-c'], 2), 30_000);
    await fetch(`${a.http}/v1/topics/orders/messages?key=customer-7`, {
      method: 'POST',
      body: JSON.stringify({ total: 42 }),
      headers: { 'content-type': 'application/json' },
    });

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${a.http}/`);

    const states = () =>
      page.$$eval('tr[data-member]', (rows) =>
        rows.map((r) => `${r.getAttribute('data-member')}=${r.getAttribute('data-state')}`).join(' '),
      );
    await eventually(
      t,
      'the page lists 3 members alive',
      async () => (await states()) === 'node-a=alive node-b=alive node-c=alive',
      20_000,
    );
    t.equal(await states(), 'node-a=alive node-b=alive node-c=alive', 'the page shows 3 members alive');
    t.equal(await page.$$eval('#grid > div', (cells) => cells.length), 271, 'one grid cell per partition');
    t.match(await page.textContent('#topics'), /orders/, 'the topic is listed');

    // a bounded write load, so the ops/s plot has a line for every node
    await writeLoad(() => nodes, { keys: 200, maxWrites: 3000, maxMs: 4000, stop: () => false, concurrency: 4 });
    await eventually(
      t,
      'the ops plot draws a line per node',
      async () => (await page.$$('#ops polyline')).length === 3,
    );

    c.process.kill('SIGKILL');
    await eventually(
      t,
      'the page shows node-c dead',
      async () => (await states()) === 'node-a=alive node-b=alive node-c=dead',
      30_000,
    );
    t.equal(await states(), 'node-a=alive node-b=alive node-c=dead', 'the killed member is shown dead');
    t.match(await page.textContent('#status'), /2 of 3 members alive/);
    await eventually(
      t,
      'the grid is recolored to the 2 survivors',
      async () =>
        (await page.$$eval(
          '#grid > div',
          (cells) =>
            new Set(cells.map((c) => (c as unknown as { style: { background: string } }).style.background)).size,
        )) === 2,
      30_000,
    );
    t.same(errors, [], 'no script error on the page');

    const target = process.env.SHOAL_DASHBOARD_SCREENSHOT
      ? resolve(process.env.SHOAL_DASHBOARD_SCREENSHOT)
      : join(mkdtempSync(join(tmpdir(), 'shoal-dash-')), 'dashboard.png');
    await page.screenshot({ path: target, fullPage: true });
    t.ok(existsSync(target), `screenshot saved to ${target}`);
  });

  t.test('Dashboard of a node with a token asks for it, then shows the node', async (t) => {
    const node = await createNode({ port: 0, nodeId: 'locked', membership: 'local', token: 'dash-token-1' });
    t.teardown(() => node.shutdown());
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`http://${node.address}/`);
    await page.waitForSelector('#auth', { state: 'visible', timeout: 15_000 });
    t.equal(await page.$$eval('tr[data-member]', (rows) => rows.length), 0, 'nothing is shown without the token');
    await page.fill('#token', 'dash-token-1');
    await page.click('#auth-form button');
    await page.waitForSelector('tr[data-member="locked"][data-state="alive"]', { timeout: 15_000 });
    t.ok(await page.isHidden('#auth'), 'the token prompt goes away');
  });
}
