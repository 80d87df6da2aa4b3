/**
 * The file-system calls the disk log makes, as an injectable seam: the default
 * is `node:fs`; tests wrap it to count fsyncs or inject failures. Everything is
 * synchronous except `fdatasync`, which the 'interval' policy runs on libuv's
 * thread pool so a slow disk never stalls the event loop.
 */
import * as fs from 'node:fs';

/** The subset of `node:fs` a disk partition log uses. */
export interface LogFs {
  mkdirSync(path: string, options: { recursive: true }): unknown;
  readdirSync(path: string): string[];
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  fstatSync(fd: number): { size: number };
  /** Positional write; may write fewer bytes than asked (the caller loops). */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  ftruncateSync(fd: number, length: number): void;
  fdatasyncSync(fd: number): void;
  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void;
  /** Used on directory descriptors, so that created and deleted segment files are durable. */
  fsyncSync(fd: number): void;
  unlinkSync(path: string): void;
}

/** The real file system. */
export const nodeLogFs: LogFs = fs;
