import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { createNode } from '../../src/index.js';
import { converged, eventually } from '../cluster/helpers.js';

/** A self-signed certificate for 127.0.0.1, made by the openssl CLI in a temp dir. */
function selfSigned(): { cert: string; key: string; certPath: string; keyPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-tls-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath };
}

const pem = selfSigned();
const tls = { cert: pem.cert, key: pem.key, ca: pem.cert };

/** GET over https trusting `ca`; resolves with status and body. */
const httpsGet = (url: string, ca?: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

t.test('TLS: the HTTP API answers over https with the self-signed certificate, and refuses plain http', async (t) => {
  const node = await createNode({ port: 0, membership: 'local', tls, token: 'tls-token-1' });
  t.teardown(() => node.shutdown());
  const health = await httpsGet(`https://${node.address}/health`, pem.cert);
  t.equal(health.status, 200);
  t.match(JSON.parse(health.body), { status: 'ok' });
  const auth = { authorization: 'Bearer tls-token-1' };
  const put = await new Promise<number>((resolve, reject) => {
    const req = request(
      `https://${node.address}/v1/keys/k`,
      { method: 'PUT', ca: pem.cert, headers: { ...auth, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ secure: true }));
  });
  t.equal(put, 200);
  t.same(JSON.parse((await httpsGet(`https://${node.address}/v1/keys/k`, pem.cert, auth)).body), { secure: true });
  await t.rejects(httpsGet(`https://${node.address}/health`), 'an untrusted certificate is refused by the client');
  await t.rejects(
    fetch(`http://${node.address}/health`, { signal: AbortSignal.timeout(2000) }),
    'plain http gets no answer',
  );
});

t.test('TLS: two nodes form a cluster over wss and replicate a key; a plain-ws node cannot join', async (t) => {
  const a = await createNode({ port: 0, nodeId: 'ta', membership: 'local', tls, replicas: 2 });
  t.teardown(() => a.shutdown());
  const b = await createNode({ port: 0, nodeId: 'tb', membership: 'local', tls, replicas: 2, seeds: [a.address] });
  t.teardown(() => b.shutdown());
  await converged(t, [a, b]);
  await a.cache.set('over-tls', { v: 42 });
  t.same(await b.cache.get('over-tls'), { v: 42 }, 'read through the other node');
  t.same(b.localCache.get('over-tls'), { v: 42 }, 'both nodes hold a copy (2 replicas)');
  t.same(a.localCache.get('over-tls'), { v: 42 });
  const dash = JSON.parse((await httpsGet(`https://${a.address}/v1/dashboard`, pem.cert)).body) as {
    nodes: { id: string; summary?: { memory: { entries: number } } }[];
  };
  t.same(
    dash.nodes.map((n) => [n.id, n.summary !== undefined]),
    [
      ['ta', true],
      ['tb', true],
    ],
    'the dashboard summary reaches the peer over https',
  );
  const plain = await createNode({ port: 0, nodeId: 'tp', membership: 'local', seeds: [a.address] });
  t.teardown(() => plain.shutdown());
  t.same(
    plain.members().map((m) => m.id),
    ['tp'],
    'a node dialing ws:// cannot reach the TLS cluster',
  );
  await eventually(
    t,
    'the TLS cluster is still exactly ta and tb',
    () =>
      a
        .members()
        .map((m) => m.id)
        .sort()
        .join() === 'ta,tb',
  );
});

t.test('TLS: a connection over maxConnectionsPerIp is closed before the handshake', async (t) => {
  const node = await createNode({ port: 0, membership: 'local', tls, maxConnectionsPerIp: 1 });
  t.teardown(() => node.shutdown());
  const port = Number(node.address.split(':')[1]);
  const { connect } = await import('node:tls');
  const first = connect({ port, host: '127.0.0.1', ca: pem.cert });
  t.teardown(() => first.destroy());
  await once(first, 'secureConnect');
  const second = connect({ port, host: '127.0.0.1', ca: pem.cert });
  const outcome = await new Promise<string>((resolve) => {
    second.once('secureConnect', () => resolve('handshake completed'));
    second.once('error', (err) => resolve(`refused: ${err.message}`));
    second.once('close', () => resolve('refused: closed'));
  });
  second.destroy();
  t.match(outcome, /^refused/, 'the second connection from the same address gets no TLS session');
  first.destroy();
  await eventually(t, 'the freed slot admits a new https request', async () => {
    try {
      return (await httpsGet(`https://${node.address}/health`, pem.cert)).status === 200;
    } catch {
      return false;
    }
  });
});

t.test('TLS: shoal start --tls-cert --tls-key prints an https ready line', async (t) => {
  const bin = new URL('../../src/cli/main.js', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [bin, 'start', '--port', '0', '--log-level', 'silent', '--tls-cert', pem.certPath, '--tls-key', pem.keyPath],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('ready ')) resolve(JSON.parse(line.slice(6)) as Record<string, string>);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}`)));
  });
  t.match(ready.http, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.equal((await httpsGet(`${ready.http}/ready`, pem.cert)).status, 200);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 0);
});
