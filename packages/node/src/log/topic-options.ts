/**
 * Options of a topic and of one append, validated at the edge. A topic's
 * options are fixed when it is created (its partition count decides where
 * every key's messages go, so it cannot change under running producers).
 */
import { parseBytes, parseDuration, ShoalError, type TopicOptions } from '@shoal/protocol';

/** User options of a topic. */
export type { TopicOptions } from '@shoal/protocol';

/** Resolved, frozen topic options (they travel between nodes as they are). */
export interface ResolvedTopicOptions {
  readonly partitions: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly maxMessageBytes: number;
  readonly dedupeWindowMs: number;
}

/** Options of one append. */
export interface AppendOptions {
  /** Partitioning key: same key, same partition, same order. */
  key?: string;
  /** Producer message id: an append retried with the same id returns the first append's offset. */
  id?: string;
  /** String headers carried with the message. */
  headers?: Record<string, string>;
  /** How many copies must hold the message before the call returns. Default 'quorum' (survives one node's SIGKILL). */
  acks?: 'leader' | 'quorum';
}

const TOPIC_KEYS = new Set(['partitions', 'maxMessages', 'maxBytes', 'maxAge', 'maxMessageBytes', 'dedupeWindow']);
const TOPIC_NAME = /^[A-Za-z0-9._:\-/]{1,200}$/;

function invalid(option: string, message: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `${option}: ${message}`, { option });
}

/** Throws SHOAL_ARGUMENT_INVALID unless `topic` is 1-200 characters of [A-Za-z0-9._:-/]. */
export function checkTopicName(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic)) {
    throw new ShoalError(
      'SHOAL_ARGUMENT_INVALID',
      `topic ${JSON.stringify(topic)} is not 1-200 characters of A-Z a-z 0-9 . _ : - /`,
      {
        topic: String(topic).slice(0, 200),
      },
    );
  }
}

/** Applies defaults to topic options, validates each and freezes the result. */
export function resolveTopicOptions(options: TopicOptions = {}): ResolvedTopicOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  for (const name of Object.keys(options)) {
    if (!TOPIC_KEYS.has(name)) throw invalid(name, `unknown topic option (known: ${[...TOPIC_KEYS].join(', ')})`);
  }
  const partitions = options.partitions ?? 8;
  if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > 4096) {
    throw invalid('partitions', `${JSON.stringify(partitions)} is not an integer from 1 to 4096`);
  }
  const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
  if (maxMessages !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(maxMessages) || maxMessages < 1)) {
    throw invalid('maxMessages', `${JSON.stringify(maxMessages)} is not a positive integer`);
  }
  const maxBytes = parseBytes(options.maxBytes ?? '256mb', 'maxBytes');
  const maxMessageBytes = parseBytes(options.maxMessageBytes ?? '1mb', 'maxMessageBytes');
  if (maxBytes < 1 || maxMessageBytes < 1) throw invalid('maxBytes', 'sizes must be above 0');
  if (maxMessageBytes > maxBytes) throw invalid('maxMessageBytes', 'must not exceed maxBytes');
  return Object.freeze({
    partitions,
    maxMessages,
    maxBytes,
    maxAgeMs: parseDuration(options.maxAge ?? '7d', 'maxAge'),
    maxMessageBytes,
    dedupeWindowMs: parseDuration(options.dedupeWindow ?? '10m', 'dedupeWindow'),
  });
}

const APPEND_KEYS = new Set(['key', 'id', 'headers', 'acks']);

/** Checks append options; returns them with the default ack level. */
export function checkAppendOptions(options: AppendOptions = {}): Required<Pick<AppendOptions, 'acks'>> & AppendOptions {
  return { ...options, acks: appendAcks(options) };
}

/**
 * Checks append options and returns the ack level (default 'quorum'). Allocates nothing: it runs
 * once per appended message.
 */
export function appendAcks(options: AppendOptions): 'leader' | 'quorum' {
  if (typeof options !== 'object' || options === null) {
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'append options must be an object');
  }
  for (const name in options) {
    if (!APPEND_KEYS.has(name)) {
      throw new ShoalError(
        'SHOAL_ARGUMENT_INVALID',
        `unknown append option ${JSON.stringify(name)} (known: key, id, headers, acks)`,
      );
    }
  }
  if (options.key !== undefined && (typeof options.key !== 'string' || options.key.length > 1024)) {
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'key must be a string of at most 1024 characters');
  }
  if (
    options.id !== undefined &&
    (typeof options.id !== 'string' || options.id.length === 0 || options.id.length > 256)
  ) {
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'id must be a string of 1-256 characters');
  }
  if (options.headers !== undefined) {
    if (typeof options.headers !== 'object' || options.headers === null || Array.isArray(options.headers)) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'headers must be an object of strings');
    }
    for (const [k, v] of Object.entries(options.headers)) {
      if (typeof v !== 'string')
        throw new ShoalError('SHOAL_ARGUMENT_INVALID', `header ${JSON.stringify(k)} is not a string`);
    }
  }
  const acks = options.acks ?? 'quorum';
  if (acks !== 'leader' && acks !== 'quorum')
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'acks must be leader or quorum');
  return acks;
}
