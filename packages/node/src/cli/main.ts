#!/usr/bin/env node
/**
 * The `shoal` binary. `shoal start` runs a node until SIGTERM/SIGINT and prints
 * one `ready {json}` line on stdout once it serves (logs go to stderr, so
 * scripts can wait on stdout alone). The first signal leaves the cluster
 * gracefully (partitions handed off, bounded in time); a second exits at once.
 */
import { readFileSync } from 'node:fs';
import { isShoalError } from '@shoal/protocol';
import { pino } from 'pino';
import { createNode } from '../node.js';
import { clusterHelp, runCluster } from './cluster-command.js';
import { parseStartOptions, startHelp } from './start-options.js';

const USAGE = `Usage: shoal <command> [options]

Commands:
  start        start a node (shoal start --help for its options)
  cluster      start a local cluster of N nodes (shoal cluster --help)

Options:
  --help       this text
  --version    print the version
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function start(argv: string[]): Promise<void> {
  if (argv.includes('--help')) {
    process.stdout.write(startHelp());
    return;
  }
  const options = parseStartOptions(argv, process.env);
  const logger = pino({ level: options.logLevel, name: 'shoal' }, pino.destination(2));
  const node = await createNode({
    host: options.host,
    port: options.port,
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
    seeds: options.seeds,
    replicas: options.replicas,
    partitionCount: options.partitionCount,
    memory: options.memory,
    ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }),
    eviction: options.eviction,
    maxValueBytes: options.maxBodyBytes,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    maxConnectionsPerIp: options.maxConnectionsPerIp,
    membership: options.membership,
    logger,
    version: version(),
  });
  const base = `${options.tls === undefined ? 'http' : 'https'}://${node.address}`;
  const ready = {
    address: node.address,
    id: node.id,
    http: base,
    api: `${base}/v1`,
    dashboard: `${base}/`,
    openapi: `${base}/openapi.json`,
    metrics: `${base}/metrics`,
    pid: process.pid,
    version: version(),
  };
  process.stdout.write(`ready ${JSON.stringify(ready)}\n`);
  logger.info(ready, `shoal node serving: dashboard ${ready.dashboard}, API ${ready.api}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'leaving the cluster');
    const timer = setTimeout(() => {
      logger.error('graceful leave took too long: exiting');
      process.exit(1);
    }, options.shutdownTimeoutMs + 5000);
    timer.unref();
    node
      .close(options.shutdownTimeoutMs)
      .then(() => {
        logger.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'leave failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command === 'start') return start(rest);
  if (command === 'cluster') {
    if (rest.includes('--help')) {
      process.stdout.write(clusterHelp());
      return;
    }
    process.exitCode = await runCluster(rest, new URL(import.meta.url).pathname);
    return;
  }
  throw new Error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`shoal: ${isShoalError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
  process.exit(2);
});
