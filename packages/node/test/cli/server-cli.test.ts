import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t, { type Test } from 'tap';
import { eventually } from '../cluster/helpers.js';

const bin = new URL('../../src/cli/main.js', import.meta.url).pathname;

/** Runs `shoal args`; resolves with the child and the first stdout line starting with `ready `. */
async function run(t: Test, args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const out: string[] = [];
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 40 s: ${stderr}`)), 40_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      out.push(line);
      if (line.startsWith('ready ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as Record<string, unknown>);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${stderr}`));
    });
  });
  return { child, ready, out, stderr: () => stderr };
}

const exited = (child: ChildProcess): Promise<[number | null]> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve([child.exitCode])
    : (once(child, 'exit') as Promise<[number | null]>);

t.test(
  'shoal start with a YAML config: ready line names the dashboard and API; token enforced; data dir used',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-cli-'));
    const config = join(dir, 'shoal.yaml');
    writeFileSync(
      config,
      `port: 0\nlogLevel: info\ntoken: cli-token-1\ndataDir: ${JSON.stringify(join(dir, 'data'))}\nmembership: local\n`,
    );
    const { child, ready, stderr } = await run(t, ['start', '--config', config]);
    const base = ready.http as string;
    t.match(ready, {
      address: /^127\.0\.0\.1:\d+$/,
      dashboard: `${base}/`,
      api: `${base}/v1`,
      openapi: `${base}/openapi.json`,
      metrics: `${base}/metrics`,
    });
    await eventually(t, 'the log says where the dashboard and API are', () =>
      /shoal node serving: dashboard http:\/\/127\.0\.0\.1:\d+\/, API http:\/\/127\.0\.0\.1:\d+\/v1/.test(stderr()),
    );
    t.equal((await fetch(`${base}/v1/stats`)).status, 401, 'the token from the YAML file is enforced');
    t.equal((await fetch(`${base}/health`)).status, 200);
    t.match(await (await fetch(`${base}/`)).text(), /<title>Shoal dashboard<\/title>/, 'the dashboard page is served');
    const auth = { authorization: 'Bearer cli-token-1' };
    const posted = await fetch(`${base}/v1/topics/orders/messages`, {
      method: 'POST',
      body: JSON.stringify({ n: 1 }),
      headers: { ...auth, 'content-type': 'application/json' },
    });
    t.equal(posted.status, 201);
    t.ok(readdirSync(join(dir, 'data'), { recursive: true }).length > 0, 'topic data lands in --data-dir');
    await eventually(t, 'the refusal is logged', () => stderr().includes('"msg":"HTTP request refused"'));
    child.kill('SIGTERM');
    const [code] = await exited(child);
    t.equal(code, 0);
  },
);
