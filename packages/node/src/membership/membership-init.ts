/**
 * What a Membership is built from: identity, transport, configuration and the
 * injected seams (clock, random, timers, lag monitor, logger), checked once.
 */
import { ShoalError } from '@shoal/protocol';
import type { Clock } from '../store/clock.js';
import type { LagMonitor } from './lag-monitor.js';
import type { MembershipConfigOptions } from './membership-config.js';
import { MAX_NAME_LENGTH } from './membership-messages.js';
import type { MembershipTransport } from './membership-transport.js';
import type { Random } from './random.js';
import type { MembershipTimers } from './timers.js';

/** Minimal logger (pino-compatible). */
export interface MembershipLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** What a Membership is built from. Everything but id, address and transport has a default. */
export interface MembershipInit {
  /** This node's id, unique in the cluster. */
  readonly id: string;
  /** This node's peer address, 'host:port', as other nodes reach it. */
  readonly address: string;
  /** Outbound messages. */
  readonly transport: MembershipTransport;
  /** Metadata gossiped about this node (opaque to membership). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Overrides over the LAN preset; spread `localConfig()` or `wanConfig()` first for another preset. */
  readonly config?: MembershipConfigOptions;
  /** Time source. Default: Date.now. */
  readonly clock?: Clock;
  /** Random source. Default: Math.random. */
  readonly random?: Random;
  /** Timers. Default: Node's timers, unref'd. */
  readonly timers?: MembershipTimers;
  /** Event-loop lag measurement. Default: perf_hooks.monitorEventLoopDelay. */
  readonly lagMonitor?: LagMonitor;
  /** Diagnostics. Default: none. */
  readonly logger?: MembershipLogger;
}

/** A logger that drops everything. */
export const silentLogger: MembershipLogger = { debug() {}, warn() {} };

/** Checks an id or address: a string of 1..MAX_NAME_LENGTH characters; throws SHOAL_CONFIG_INVALID naming `option`. */
export function checkName(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `${option}: must be a string of 1..${MAX_NAME_LENGTH} characters`, {
      option,
    });
  }
  return value;
}
