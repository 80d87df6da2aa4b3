/**
 * The types a partition log stores and answers with: records, append inputs,
 * read limits and the reports of replication, retention and recovery. Kept
 * apart from the classes so the topic and replication layers can import the
 * shapes without the storage code.
 */

/**
 * One stored message. Records are shared with the log (values are kept by
 * reference, as the cache does): treat them as read-only.
 */
export interface LogRecord {
  /** Position in the partition: dense, 0-based, never reused (truncation aside). */
  readonly offset: number;
  /** Wall-clock ms given by the producer or stamped by the leader at append. */
  readonly timestamp: number;
  /** Partitioning key, if any. */
  readonly key?: string;
  /** Producer message id (idempotent appends), if any. */
  readonly id?: string;
  /** String headers, if any. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The payload: anything msgpack carries (Maps come back as objects once read from disk). */
  readonly value: unknown;
  /**
   * Bytes the record counts for (read `maxBytes`, retention `maxBytes`, `maxMessageBytes`): the exact
   * msgpack payload size when the log is on disk, the store's accounted estimate (key + id + headers +
   * value, see docs/ARCHITECTURE.md "Memory accounting") when it is memory-only.
   */
  readonly size: number;
}

/** One message to append; the log assigns offset and size. */
export interface AppendInput {
  /** The payload (msgpack-able; `undefined`, functions, symbols and cycles are refused). */
  value: unknown;
  /** Wall-clock ms. Default: the log's clock, read once per `append` call. */
  timestamp?: number;
  key?: string;
  id?: string;
  headers?: Record<string, string>;
}

/** A record as a follower receives it from its leader: offset and timestamp are given. */
export interface ReplicatedInput extends AppendInput {
  offset: number;
  timestamp: number;
}

/** Offsets given to one `append` call (`lastOffset = baseOffset + inputs - 1`). */
export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
}

/**
 * What `appendReplicated` did. `appended`: records at `endOffset` and after were added, records the
 * log already held (offset below `endOffset`) were skipped. `gap`: the batch starts after the end,
 * nothing was added; the caller fetches from `expectedOffset` (or calls `resetTo` when its leader
 * no longer has that offset).
 */
export type ReplicatedAppendResult =
  | { readonly status: 'appended'; readonly appended: number; readonly skipped: number; readonly endOffset: number }
  | { readonly status: 'gap'; readonly expectedOffset: number; readonly receivedOffset: number };

/** Limits of one read. At least one record is returned when any is available, whatever `maxBytes`. */
export interface ReadOptions {
  /** Most records returned. Default 1000. */
  maxMessages?: number;
  /** Most bytes (sum of `size`) returned, beyond the first record. Default 1 MiB. */
  maxBytes?: number;
}

/** What one `enforceRetention` call removed. */
export interface RetentionResult {
  readonly removedMessages: number;
  readonly removedSegments: number;
  /** True when the work bound stopped the call early: call again. */
  readonly more: boolean;
}

/** Why recovery stopped reading a segment before its end. */
export type RecoveryCut = 'torn' | 'crc' | 'offset' | 'gap';

/** What `open()` found on disk. */
export interface RecoveryStats {
  /** Segment files read. */
  readonly segments: number;
  /** Records found valid and kept. */
  readonly records: number;
  /** Bytes cut from the first bad frame to the end of its segment. */
  readonly truncatedBytes: number;
  /** Whole segment files deleted because they followed the cut (their offsets would leave a hole). */
  readonly droppedSegments: number;
  /** Bytes of those dropped segments. */
  readonly droppedBytes: number;
  /** Why the cut happened (`null`: every frame was good). */
  readonly cut: RecoveryCut | null;
  /** Offset of the first record lost to the cut (`null` when nothing was cut). */
  readonly cutOffset: number | null;
  readonly durationMs: number;
}

/** Counters and sizes of one partition log. */
export interface PartitionLogStats {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly messages: number;
  /** Retained bytes: sum of record sizes in memory mode, segment file bytes (frames included) on disk. */
  readonly bytes: number;
  /** Segment files (0 in memory mode). */
  readonly segments: number;
  /** Records held decoded in memory (all of them in memory mode, the recent tail on disk). */
  readonly cachedMessages: number;
  readonly cachedBytes: number;
  /** Records appended since open (leader and replicated). */
  readonly appended: number;
  /** Records read back from segment files (cache misses). */
  readonly diskReads: number;
  /** fdatasync calls made. */
  readonly fsyncs: number;
  /** What `open()` recovered (undefined in memory mode). */
  readonly recovery: RecoveryStats | undefined;
}
