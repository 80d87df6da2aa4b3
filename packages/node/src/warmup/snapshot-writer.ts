/**
 * Writes a snapshot file in the format of snapshot-format.ts, streaming:
 * records are framed RECORDS_PER_FRAME at a time into a temporary file next
 * to the target, which is fsynced and renamed over it only once complete, so
 * a crash mid-write leaves the previous snapshot intact.
 */
import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ShoalError } from '@shoal/protocol';
import {
  encodeFrame,
  FRAME_HEADER,
  FRAME_RECORDS,
  FRAME_TRAILER,
  fileIntro,
  RECORDS_PER_FRAME,
  type SnapshotHeader,
  type SnapshotRecord,
} from './snapshot-format.js';

function ioFailed(file: string, err: unknown): ShoalError {
  return new ShoalError('SHOAL_SNAPSHOT_IO_FAILED', `writing snapshot ${file} failed: ${(err as Error).message}`, {
    file,
  });
}

/** One snapshot being written. `add` records, then `finish` (or `abort`). */
export class SnapshotWriter {
  private pending: SnapshotRecord[] = [];
  private records = 0;
  private frames = 0;
  private bytes = 0;

  private constructor(
    private readonly file: string,
    private readonly temp: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the temporary file and writes the intro and header. */
  static async open(file: string, header: Omit<SnapshotHeader, 'formatVersion'>): Promise<SnapshotWriter> {
    const temp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
    let handle: FileHandle;
    try {
      await mkdir(dirname(file), { recursive: true });
      handle = await open(temp, 'w');
    } catch (err) {
      throw ioFailed(file, err);
    }
    const writer = new SnapshotWriter(file, temp, handle);
    try {
      await writer.write(fileIntro());
      await writer.write(encodeFrame(FRAME_HEADER, { formatVersion: 1, ...header }));
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return writer;
  }

  /** Queues a record; writes a frame when enough are queued. */
  async add(record: SnapshotRecord): Promise<void> {
    this.pending.push(record);
    if (this.pending.length >= RECORDS_PER_FRAME) await this.flush();
  }

  /** Writes the rest and the trailer, fsyncs and renames into place. Returns counts. */
  async finish(): Promise<{ records: number; bytes: number }> {
    try {
      await this.flush();
      await this.write(encodeFrame(FRAME_TRAILER, { records: this.records, frames: this.frames }));
      await this.handle.sync();
      await this.handle.close();
      await rename(this.temp, this.file);
    } catch (err) {
      await this.abort();
      throw isShoal(err) ? err : ioFailed(this.file, err);
    }
    return { records: this.records, bytes: this.bytes };
  }

  /** Drops the temporary file. Safe after a failure. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.temp, { force: true }).catch(() => {});
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const frame = encodeFrame(FRAME_RECORDS, this.pending);
    this.records += this.pending.length;
    this.frames++;
    this.pending = [];
    await this.write(frame);
  }

  private async write(bytes: Buffer): Promise<void> {
    try {
      await this.handle.write(bytes);
    } catch (err) {
      throw ioFailed(this.file, err);
    }
    this.bytes += bytes.length;
  }
}

function isShoal(err: unknown): err is ShoalError {
  return err instanceof ShoalError;
}
