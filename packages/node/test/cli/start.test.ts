import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import t from 'tap';

const bin = new URL('../../src/cli/main.js', import.meta.url).pathname;

/** Starts `shoal` with args; resolves with the child and its parsed ready line (or its exit code). */
async function startShoal(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<Record<string, unknown> | undefined>((resolve) => {
    lines.on('line', (line) => {
      if (line.startsWith('ready ')) resolve(JSON.parse(line.slice(6)) as Record<string, unknown>);
    });
    child.on('exit', () => resolve(undefined));
  });
  const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const info = await ready;
  clearTimeout(deadline);
  return { child, info, stderr: () => stderr };
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null ? Promise.resolve([child.exitCode]) : once(child, 'exit');

t.test('shoal start prints a ready line, serves HTTP, and leaves on SIGTERM with exit 0', async (t) => {
  const { child, info } = await startShoal(['start', '--port', '0', '--log-level', 'silent']);
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  t.ok(info, 'ready line seen');
  t.match(info, { address: /^127\.0\.0\.1:\d+$/, http: /^http:\/\/127\.0\.0\.1:\d+$/ });
  const base = info?.http as string;
  const put = await fetch(`${base}/v1/keys/hello`, {
    method: 'PUT',
    body: JSON.stringify({ world: true }),
    headers: { 'content-type': 'application/json' },
  });
  t.equal(put.status, 200);
  t.same(await (await fetch(`${base}/v1/keys/hello`)).json(), { world: true });
  child.kill('SIGTERM');
  const [code] = await exited(child);
  t.equal(code, 0);
});

t.test('shoal start takes options from the environment and a JSON config file', async (t) => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'shoal-'));
  const config = join(dir, 'shoal.json');
  writeFileSync(config, JSON.stringify({ eviction: 'lru', memory: '1mb', logLevel: 'silent' }));
  const { child, info } = await startShoal(['start', '--config', config], { SHOAL_PORT: '0', SHOAL_MAX_ENTRIES: '5' });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const stats = (await (await fetch(`${info?.http as string}/v1/stats`)).json()) as Record<string, unknown>;
  t.match(stats.node, { eviction: 'lru', maxBytes: 1024 * 1024, maxEntries: 5 });
  child.kill('SIGTERM');
  await exited(child);
});

t.test('shoal start rejects bad options with a message naming the option and exit 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['start', '--memory', '12zb'], /--memory: "12zb" is not a size .*kb.*mb.*gb/],
    [['start', '--port', '70000'], /--port: 70000 is not a port/],
    [['start', '--eviction', 'fifo'], /--eviction: fifo is not one of lru, lfu, tinylfu/],
    [['start', '--log-level', 'loud'], /--log-level/],
    [['start', '--max-entries', '-3'], /--max-entries/],
    [['start', '--bogus', '1'], /Unknown option '--bogus'/],
    [['start', '--config', '/nonexistent/shoal.json'], /--config: cannot read/],
    [['launch'], /unknown command "launch"/],
  ];
  for (const [args, message] of cases) {
    const { child, info, stderr } = await startShoal(args);
    const [code] = await exited(child);
    t.equal(info, undefined);
    t.equal(code, 2, `${args.join(' ')} exits 2`);
    t.match(stderr(), message);
  }
});

t.test('shoal --help and --version', async (t) => {
  const run = async (args: string[]) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await exited(child);
    return out;
  };
  t.match(await run(['--help']), /Usage: shoal <command>/);
  t.match(await run(['start', '--help']), /--memory .*256mb/);
  t.match(await run(['--version']), /^\d+\.\d+\.\d+\n$/);
});
