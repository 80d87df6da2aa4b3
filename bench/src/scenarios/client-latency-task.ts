/**
 * Sequential get latency of the client scenario, every contender in one
 * process and one time window: @shoal/client against a Shoal node, ioredis
 * against Redis, and the zero-work echo floors (a WebSocket and a TCP echo
 * served by Node.js, see echo-floor-server.ts). After a warm-up of each, the
 * loop takes blocks of `block` sequential calls from each subject in turn,
 * rotating who goes first, until every subject has `gets` samples or the
 * deadline passes. The machine's slow and fast phases (sequential p50 moves
 * between 33 and 60 µs from one minute to the next on the VMs this was
 * written on) then fall on every subject alike, which separate processes
 * minutes apart cannot promise.
 */

import { connect as tcpConnect } from 'node:net';
import { connect } from '@shoal/client';
import { DialMask } from '@shoal/protocol';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { EchoFloorPorts } from '../lib/echo-floor-server.js';
import { ErrorTally } from '../lib/error-tally.js';
import { sortedPercentile as percentile } from '../lib/stats.js';

/** Who is measured: the two clients, and the transport floors beneath them. */
export type LatencySubject = 'shoal' | 'ioredis' | 'ws-floor' | 'tcp-floor';

export interface ClientLatencyInput {
  /** ws URL of the Shoal node. */
  readonly shoalUrl: string;
  /** Port of redis-server; null: the anchor did not run. */
  readonly redisPort: number | null;
  /** Ports of the echo floor; null: not measured. */
  readonly floor: EchoFloorPorts | null;
  readonly keys: number;
  readonly valueBytes: number;
  /** Samples per subject. */
  readonly gets: number;
  /** Sequential calls per subject before the next subject's turn. */
  readonly block: number;
  /** Unmeasured sequential calls per subject first (JIT, socket buffers). */
  readonly warmupGets: number;
  /** The measured loop stops here even if not every sample was taken. */
  readonly maxMs: number;
}

export interface SubjectLatency {
  readonly samples: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  /** Latency at quantiles 0, 1, ..., 100 % and 99.9 % (µs): the CDF. */
  readonly quantilesUs: readonly number[];
}

export interface ClientLatencyResult {
  readonly subjects: Partial<Record<LatencySubject, SubjectLatency>>;
  readonly errors: number;
  readonly firstError: string | null;
}

interface Subject {
  readonly name: LatencySubject;
  readonly call: (i: number) => Promise<unknown>;
  readonly close: () => Promise<void> | void;
}

const keyOf = (i: number) => `key:${i}`;

async function shoalSubject(input: ClientLatencyInput, value: string): Promise<Subject> {
  const shoal = await connect<string>({ nodes: [input.shoalUrl], timeout: 10_000 });
  await fill(input.keys, (key) => shoal.cache.set(key, value));
  return {
    name: 'shoal',
    call: (i) => shoal.cache.get(keyOf(i % input.keys)),
    close: () => shoal.close(),
  };
}

async function ioredisSubject(input: ClientLatencyInput, port: number, value: string): Promise<Subject> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  await fill(input.keys, (key) => redis.set(key, value));
  return {
    name: 'ioredis',
    call: (i) => redis.get(keyOf(i % input.keys)),
    close: () => {
      redis.disconnect();
    },
  };
}

/** A request the size of a Shoal get request; the floor answers each with a reply the size of a get's reply. */
const FLOOR_REQUEST = Buffer.alloc(30, 0x6b);

async function wsFloorSubject(port: number): Promise<Subject> {
  // the options @shoal/client dials with
  const mask = new DialMask();
  const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false, generateMask: mask.generateMask });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const wait = new ReplyWait();
  socket.on('message', () => wait.answered());
  socket.on('close', () => wait.lost('the ws floor closed the connection'));
  socket.on('error', (err) => wait.lost(`ws floor: ${err.message}`));
  return {
    name: 'ws-floor',
    call: () =>
      wait.next(() => {
        mask.next(FLOOR_REQUEST.length);
        socket.send(FLOOR_REQUEST, { binary: true });
      }),
    close: () => socket.terminate(),
  };
}

async function tcpFloorSubject(port: number, replyBytes: number): Promise<Subject> {
  const socket = tcpConnect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const wait = new ReplyWait();
  let awaited = 0;
  socket.on('data', (chunk: Buffer) => {
    awaited -= chunk.length;
    if (awaited <= 0) wait.answered();
  });
  socket.on('close', () => wait.lost('the tcp floor closed the connection'));
  socket.on('error', (err) => wait.lost(`tcp floor: ${err.message}`));
  return {
    name: 'tcp-floor',
    call: () =>
      wait.next(() => {
        awaited = replyBytes;
        socket.write(FLOOR_REQUEST);
      }),
    close: () => {
      socket.destroy();
    },
  };
}

/** The one outstanding call of a floor client: settled by its reply, failed if the connection goes. */
class ReplyWait {
  private resolve: (() => void) | undefined;
  private reject: ((err: Error) => void) | undefined;
  private gone: string | undefined;

  next(send: () => void): Promise<void> {
    if (this.gone !== undefined) return Promise.reject(new Error(this.gone));
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      send();
    });
  }

  answered(): void {
    const resolve = this.resolve;
    this.resolve = this.reject = undefined;
    resolve?.();
  }

  lost(why: string): void {
    this.gone ??= why;
    const reject = this.reject;
    this.resolve = this.reject = undefined;
    reject?.(new Error(why));
  }
}

async function fill(keys: number, set: (key: string) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < keys; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, keys - i) }, (_, j) => set(keyOf(i + j))));
  }
}

/** Reply size of a Shoal get of `valueBytes` (frame array, reply header, msgpack string header). */
export const floorReplyBytes = (valueBytes: number) => valueBytes + 8;

/** One interleaved measurement of every subject. */
export async function clientLatency(input: ClientLatencyInput): Promise<ClientLatencyResult> {
  const value = 'v'.repeat(input.valueBytes);
  const subjects: Subject[] = [];
  const errors = new ErrorTally();
  const fail = errors.note;
  try {
    subjects.push(await shoalSubject(input, value));
    if (input.redisPort !== null) subjects.push(await ioredisSubject(input, input.redisPort, value));
    if (input.floor !== null) {
      subjects.push(await wsFloorSubject(input.floor.ws));
      subjects.push(await tcpFloorSubject(input.floor.tcp, floorReplyBytes(input.valueBytes)));
    }
    for (const s of subjects) {
      for (let i = 0; i < input.warmupGets; i++) await s.call(i).catch(fail);
    }
    const samples = subjects.map(() => new Float64Array(input.gets));
    const taken = subjects.map(() => 0);
    // a failed call is counted (errors) but is no latency sample
    const stored = subjects.map(() => 0);
    const deadline = Date.now() + input.maxMs;
    for (let round = 0; Date.now() < deadline && taken.some((n) => n < input.gets); round++) {
      for (let k = 0; k < subjects.length; k++) {
        const at = (round + k) % subjects.length;
        const s = subjects[at] as Subject;
        const out = samples[at] as Float64Array;
        let n = taken[at] as number;
        let filled = stored[at] as number;
        const end = Math.min(input.gets, n + input.block);
        for (; n < end; n++) {
          const started = performance.now();
          const ok = await s.call(n).then(
            () => true,
            (err: unknown) => {
              fail(err);
              return false;
            },
          );
          if (ok) out[filled++] = (performance.now() - started) * 1000;
        }
        taken[at] = n;
        stored[at] = filled;
      }
    }
    const result: Partial<Record<LatencySubject, SubjectLatency>> = {};
    subjects.forEach((s, i) => {
      const sorted = (samples[i] as Float64Array).subarray(0, stored[i]).sort();
      result[s.name] = {
        samples: sorted.length,
        p50Us: percentile(sorted, 50),
        p90Us: percentile(sorted, 90),
        p99Us: percentile(sorted, 99),
        p999Us: percentile(sorted, 99.9),
        quantilesUs: [...Array.from({ length: 101 }, (_, q) => percentile(sorted, q)), percentile(sorted, 99.9)],
      };
    });
    return { subjects: result, errors: errors.count, firstError: errors.first };
  } finally {
    for (const s of subjects) await s.close();
  }
}
