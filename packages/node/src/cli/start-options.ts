/**
 * Options of `shoal start`, from flags, SHOAL_* environment variables and an
 * optional JSON or YAML config file (flags win over env, env over file, file over
 * defaults). Every value is validated here with a message naming the flag, so
 * a typo fails at start, not at the first request.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseBytes, ShoalError } from '@shoal/protocol';
import { parse as parseYaml } from 'yaml';
import type { EvictionPolicyName } from '../eviction/eviction-policy.js';

/** Resolved options of a started node. */
export interface StartOptions {
  host: string;
  port: number;
  memory: number;
  maxEntries: number | undefined;
  eviction: EvictionPolicyName;
  maxBodyBytes: number;
  nodeId: string | undefined;
  seeds: string[];
  replicas: number;
  partitionCount: number;
  secret: string | undefined;
  /** Bearer token of the HTTP API and client endpoint. */
  token: string | undefined;
  /** Bearer token of the admin routes. */
  adminToken: string | undefined;
  /** Directory for durable data (topic segments). */
  dataDir: string | undefined;
  /** PEM contents read from --tls-cert, --tls-key and --tls-ca. */
  tls: { cert: string; key: string; ca?: string } | undefined;
  maxConnectionsPerIp: number;
  membership: 'lan' | 'wan' | 'local';
  shutdownTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Flag name, its environment variable, and how to read it. */
const FLAGS = {
  host: { env: 'SHOAL_HOST', type: 'string', help: 'address to listen on (default 127.0.0.1)' },
  port: { env: 'SHOAL_PORT', type: 'string', help: 'port; 0 picks a free one (default 7400)' },
  memory: { env: 'SHOAL_MEMORY', type: 'string', help: "memory budget, bytes or '256mb' (default 256mb)" },
  'max-entries': { env: 'SHOAL_MAX_ENTRIES', type: 'string', help: 'most entries kept (default: memory only)' },
  eviction: { env: 'SHOAL_EVICTION', type: 'string', help: 'lru | lfu | tinylfu (default tinylfu)' },
  'max-body': { env: 'SHOAL_MAX_BODY', type: 'string', help: "largest HTTP request body (default '16mb')" },
  'log-level': {
    env: 'SHOAL_LOG_LEVEL',
    type: 'string',
    help: 'fatal|error|warn|info|debug|trace|silent (default info)',
  },
  seeds: {
    env: 'SHOAL_SEEDS',
    type: 'string',
    help: 'host:port,host:port of nodes to join (default: start a cluster)',
  },
  replicas: { env: 'SHOAL_REPLICAS', type: 'string', help: 'copies of each key, primary included (default 2)' },
  'partition-count': {
    env: 'SHOAL_PARTITION_COUNT',
    type: 'string',
    help: 'partitions, fixed per cluster (default 271)',
  },
  'node-id': { env: 'SHOAL_NODE_ID', type: 'string', help: 'stable node id (default: random)' },
  secret: { env: 'SHOAL_SECRET', type: 'string', help: 'cluster secret peers must prove (8+ chars)' },
  token: { env: 'SHOAL_TOKEN', type: 'string', help: 'bearer token the HTTP API and clients need (8+ chars)' },
  'admin-token': {
    env: 'SHOAL_ADMIN_TOKEN',
    type: 'string',
    help: 'bearer token the admin routes need (8+ chars; default: --token)',
  },
  'data-dir': { env: 'SHOAL_DATA_DIR', type: 'string', help: 'directory for durable data (default: memory only)' },
  'tls-cert': { env: 'SHOAL_TLS_CERT', type: 'string', help: 'PEM certificate file: serve https/wss (with --tls-key)' },
  'tls-key': { env: 'SHOAL_TLS_KEY', type: 'string', help: 'PEM private key file of --tls-cert' },
  'tls-ca': { env: 'SHOAL_TLS_CA', type: 'string', help: 'PEM CA file trusted when dialing peers (self-signed)' },
  'max-connections-per-ip': {
    env: 'SHOAL_MAX_CONNECTIONS_PER_IP',
    type: 'string',
    help: 'simultaneous connections allowed from one IP (default 256)',
  },
  membership: {
    env: 'SHOAL_MEMBERSHIP',
    type: 'string',
    help: 'failure-detection timers: lan | wan | local (default lan)',
  },
  'shutdown-timeout': {
    env: 'SHOAL_SHUTDOWN_TIMEOUT',
    type: 'string',
    help: 'bound on the graceful leave, ms (default 30000)',
  },
  config: {
    env: 'SHOAL_CONFIG',
    type: 'string',
    help: 'JSON or YAML (.yaml/.yml) file with any of these options (camelCase keys)',
  },
} as const;

type FlagName = keyof typeof FLAGS;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const POLICIES = ['lru', 'lfu', 'tinylfu'] as const;

/** The `--help` text of `shoal start`. */
export function startHelp(): string {
  const lines = Object.entries(FLAGS).map(([name, f]) => `  --${name.padEnd(22)} ${f.help} [${f.env}]`);
  return `Usage: shoal start [options]\n\nStarts a Shoal node.\n\nOptions:\n${lines.join('\n')}\n  --help                   this text\n`;
}

function invalid(flag: string, message: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `--${flag}: ${message}`, { option: flag });
}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Parses `shoal start` arguments (after the command word) and the environment. */
export function parseStartOptions(argv: string[], env: NodeJS.ProcessEnv): StartOptions {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', (err as Error).message.replace(/\. To specify.*$/s, ''), {});
  }
  const raw = new Map<FlagName, string>();
  const configPath = (parsed.values.config as string | undefined) ?? env.SHOAL_CONFIG;
  if (configPath !== undefined) {
    const file = readConfigFile(configPath);
    for (const [key, value] of Object.entries(file)) {
      const flag = (Object.keys(FLAGS) as FlagName[]).find((f) => camel(f) === key || f === key);
      if (flag === undefined || flag === 'config') throw invalid('config', `unknown option ${JSON.stringify(key)}`);
      if (value === null || typeof value === 'object') {
        // a YAML or JSON list of seeds is natural; any other structure is a mistake
        if (!(flag === 'seeds' && Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
          throw invalid('config', `${key} must be a single value`);
        }
      }
      raw.set(flag, String(value));
    }
  }
  for (const [flag, spec] of Object.entries(FLAGS) as [FlagName, (typeof FLAGS)[FlagName]][]) {
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') raw.set(flag, fromEnv);
    const fromFlag = parsed.values[flag];
    if (typeof fromFlag === 'string') raw.set(flag, fromFlag);
  }
  return resolve(raw);
}

/** The options object of a JSON or YAML (by extension) config file. */
function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid('config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  const yaml = /\.ya?ml$/i.test(path);
  try {
    parsed = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw invalid('config', `${path} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalid('config', `${path} must hold an object of options`);
  }
  return parsed as Record<string, unknown>;
}

function readPem(raw: Map<FlagName, string>, flag: FlagName): string | undefined {
  const path = raw.get(flag);
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(flag, `cannot read ${path}: ${(err as Error).message}`);
  }
  if (!text.includes('-----BEGIN ')) throw invalid(flag, `${path} is not a PEM file`);
  return text;
}

function resolveSecurity(raw: Map<FlagName, string>) {
  const secrets: Record<'secret' | 'token' | 'admin-token', string | undefined> = {
    secret: raw.get('secret'),
    token: raw.get('token'),
    'admin-token': raw.get('admin-token'),
  };
  for (const [flag, value] of Object.entries(secrets)) {
    if (value !== undefined && value.length < 8) throw invalid(flag, 'must be at least 8 characters');
  }
  const cert = readPem(raw, 'tls-cert');
  const key = readPem(raw, 'tls-key');
  const ca = readPem(raw, 'tls-ca');
  if ((cert === undefined) !== (key === undefined)) {
    throw invalid(cert === undefined ? 'tls-cert' : 'tls-key', '--tls-cert and --tls-key go together');
  }
  if (ca !== undefined && cert === undefined) throw invalid('tls-ca', 'needs --tls-cert and --tls-key');
  const dataDir = raw.get('data-dir');
  if (dataDir !== undefined && dataDir.length === 0) throw invalid('data-dir', 'must not be empty');
  return {
    secret: secrets.secret,
    token: secrets.token,
    adminToken: secrets['admin-token'],
    dataDir,
    tls: cert === undefined || key === undefined ? undefined : { cert, key, ...(ca === undefined ? {} : { ca }) },
  };
}

function resolve(raw: Map<FlagName, string>): StartOptions {
  const host = raw.get('host') ?? '127.0.0.1';
  if (host.length === 0) throw invalid('host', 'must not be empty');
  const portText = raw.get('port') ?? '7400';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw invalid('port', `${portText} is not a port (0-65535)`);
  const bytes = (flag: FlagName, fallback: string) => {
    try {
      return parseBytes(raw.get(flag) ?? fallback, `--${flag}`);
    } catch (err) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', (err as Error).message, { option: flag });
    }
  };
  const memory = bytes('memory', '256mb');
  if (memory === 0) throw invalid('memory', 'must be larger than 0');
  const maxEntriesText = raw.get('max-entries');
  const maxEntries = maxEntriesText === undefined ? undefined : Number(maxEntriesText);
  if (maxEntries !== undefined && (!/^\d+$/.test(maxEntriesText as string) || maxEntries < 1)) {
    throw invalid('max-entries', `${maxEntriesText} is not a positive integer`);
  }
  const eviction = raw.get('eviction') ?? 'tinylfu';
  if (!(POLICIES as readonly string[]).includes(eviction)) {
    throw invalid('eviction', `${eviction} is not one of ${POLICIES.join(', ')}`);
  }
  const logLevel = raw.get('log-level') ?? 'info';
  if (!(LEVELS as readonly string[]).includes(logLevel)) {
    throw invalid('log-level', `${logLevel} is not one of ${LEVELS.join(', ')}`);
  }
  const seedsText = raw.get('seeds') ?? '';
  const seeds = seedsText
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
  for (const seed of seeds) if (!/^[^\s/]+:\d{1,5}$/.test(seed)) throw invalid('seeds', `${seed} is not host:port`);
  const int = (flag: FlagName, fallback: string, min: number, max: number) => {
    const text = raw.get(flag) ?? fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max)
      throw invalid(flag, `${text} is not an integer from ${min} to ${max}`);
    return n;
  };
  const membership = raw.get('membership') ?? 'lan';
  if (!['lan', 'wan', 'local'].includes(membership))
    throw invalid('membership', `${membership} is not one of lan, wan, local`);
  return {
    ...resolveSecurity(raw),
    maxConnectionsPerIp: int('max-connections-per-ip', '256', 1, 1_000_000),
    host,
    port,
    nodeId: raw.get('node-id'),
    seeds,
    replicas: int('replicas', '2', 1, 16),
    partitionCount: int('partition-count', '271', 1, 65536),
    membership: membership as StartOptions['membership'],
    shutdownTimeoutMs: int('shutdown-timeout', '30000', 0, 3_600_000),
    memory,
    maxEntries,
    eviction: eviction as EvictionPolicyName,
    maxBodyBytes: bytes('max-body', '16mb'),
    logLevel: logLevel as StartOptions['logLevel'],
  };
}
