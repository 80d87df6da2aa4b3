import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isShoalError } from '@shoal/protocol';
import t from 'tap';
import { parseClusterArgs } from '../../src/cli/cluster-command.js';
import { parseStartOptions } from '../../src/cli/start-options.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-opts-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

/** The message of the SHOAL_CONFIG_INVALID that `fn` throws, with its option. */
const failure = (fn: () => unknown): { message: string; option: unknown } => {
  try {
    fn();
  } catch (err) {
    if (isShoalError(err, 'SHOAL_CONFIG_INVALID')) return { message: err.message, option: err.details?.option };
    throw err;
  }
  return { message: '(no error)', option: undefined };
};

t.test('Start options: security, data and limit flags with their environment variables', async (t) => {
  const cert = file('cert.pem', PEM);
  const key = file('key.pem', PEM.replaceAll('CERTIFICATE', 'PRIVATE KEY'));
  const o = parseStartOptions(
    [
      '--token',
      'client-token',
      '--admin-token',
      'admin-token',
      '--data-dir',
      dir,
      '--tls-cert',
      cert,
      '--tls-key',
      key,
    ],
    { SHOAL_MAX_CONNECTIONS_PER_IP: '12', SHOAL_TLS_CA: cert },
  );
  t.equal(o.token, 'client-token');
  t.equal(o.adminToken, 'admin-token');
  t.equal(o.dataDir, dir);
  t.equal(o.maxConnectionsPerIp, 12);
  t.same(o.tls, { cert: PEM, key: PEM.replaceAll('CERTIFICATE', 'PRIVATE KEY'), ca: PEM }, 'PEM contents are read');
  const defaults = parseStartOptions([], {});
  t.match(defaults, { token: undefined, adminToken: undefined, dataDir: undefined, tls: undefined });
  t.equal(defaults.maxConnectionsPerIp, 256);
  t.equal(parseStartOptions([], { SHOAL_TOKEN: 'from-the-env' }).token, 'from-the-env');
});

t.test('Start options: a YAML config file, lists included; flags win over it', async (t) => {
  const yaml = file(
    'shoal.yaml',
    'port: 0\nmemory: 2mb\neviction: lfu\nseeds:\n  - 127.0.0.1:7401\n  - 127.0.0.1:7402\ntoken: yaml-token-1\nmaxConnectionsPerIp: 9\n',
  );
  const o = parseStartOptions(['--config', yaml, '--eviction', 'lru'], {});
  t.match(o, { port: 0, memory: 2 * 1024 * 1024, eviction: 'lru', token: 'yaml-token-1', maxConnectionsPerIp: 9 });
  t.same(o.seeds, ['127.0.0.1:7401', '127.0.0.1:7402']);
  t.equal(parseStartOptions(['--config', file('s.yml', 'replicas: 3\n')], {}).replicas, 3, '.yml works too');
});

t.test('Start options: every new option rejects bad input with a message naming it', async (t) => {
  const cert = file('c.pem', PEM);
  const notPem = file('not.pem', 'hello');
  const cases: [string[], string, RegExp][] = [
    [['--token', 'short'], 'token', /^--token: must be at least 8 characters$/],
    [['--admin-token', 'short'], 'admin-token', /^--admin-token: must be at least 8 characters$/],
    [['--secret', 'short'], 'secret', /^--secret: must be at least 8 characters$/],
    [['--data-dir', ''], 'data-dir', /^--data-dir: must not be empty$/],
    [['--tls-cert', cert], 'tls-key', /^--tls-key: --tls-cert and --tls-key go together$/],
    [['--tls-key', cert], 'tls-cert', /^--tls-cert: --tls-cert and --tls-key go together$/],
    [['--tls-cert', '/nonexistent.pem', '--tls-key', cert], 'tls-cert', /^--tls-cert: cannot read \/nonexistent\.pem/],
    [['--tls-cert', notPem, '--tls-key', cert], 'tls-cert', /^--tls-cert: .*not\.pem is not a PEM file$/],
    [['--tls-ca', cert], 'tls-ca', /^--tls-ca: needs --tls-cert and --tls-key$/],
    [['--max-connections-per-ip', '0'], 'max-connections-per-ip', /is not an integer from 1 to 1000000/],
    [['--max-connections-per-ip', 'many'], 'max-connections-per-ip', /^--max-connections-per-ip: many is not/],
    [['--config', file('bad.yaml', 'port: [1\n')], 'config', /^--config: .*bad\.yaml is not valid YAML/],
    [['--config', file('bad.json', '{')], 'config', /^--config: .*bad\.json is not valid JSON/],
    [['--config', file('list.yaml', '- 1\n- 2\n')], 'config', /must hold an object of options/],
    [['--config', file('unknown.yaml', 'colour: blue\n')], 'config', /unknown option "colour"/],
    [['--config', file('nested.yaml', 'memory:\n  size: 1mb\n')], 'config', /memory must be a single value/],
  ];
  for (const [args, option, message] of cases) {
    const { message: got, option: named } = failure(() => parseStartOptions(args, {}));
    t.match(got, message, args.join(' '));
    t.equal(named, option, `${args.join(' ')} names ${option}`);
  }
});

t.test('Cluster options: --nodes bounds, flags it owns, and start options checked once', async (t) => {
  t.same(parseClusterArgs([], {}), { nodes: 3, forward: [] });
  t.same(parseClusterArgs(['--nodes', '5', '--memory', '1mb'], {}), { nodes: 5, forward: ['--memory', '1mb'] });
  t.same(parseClusterArgs(['--nodes=2'], {}).nodes, 2);
  t.match(failure(() => parseClusterArgs(['--nodes', '0'], {})).message, /^--nodes: 0 is not an integer from 1 to 16$/);
  t.match(failure(() => parseClusterArgs(['--nodes', '17'], {})).message, /^--nodes: 17 is not/);
  t.match(failure(() => parseClusterArgs(['--nodes'], {})).message, /^--nodes: \(missing\)/);
  t.match(failure(() => parseClusterArgs(['--port', '7400'], {})).message, /^--port: shoal cluster chooses it/);
  t.match(failure(() => parseClusterArgs(['--seeds', 'a:1'], {})).message, /^--seeds: shoal cluster chooses it/);
  t.match(failure(() => parseClusterArgs(['--memory', '12zb'], {})).message, /--memory/);
});
