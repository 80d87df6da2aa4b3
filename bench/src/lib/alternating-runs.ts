/**
 * The measuring loop every Shoal-vs-Redis scenario shares: find the anchor
 * (or say why it is skipped), start one redis-server for the whole loop, run
 * Shoal and the anchor `runs` times each, alternating which goes first so
 * neither always runs on a cooler machine, and stop the server whatever happens.
 */
import type { ScenarioContext } from '../scenario.js';
import { type RedisServer, redisBinary, startRedisServer } from './redis-anchor.js';

/** Whether the Redis anchor can run, decided once before counting progress steps. */
export interface RedisAnchor {
  /** The redis-server binary, or null when the anchor is skipped. */
  readonly bin: string | null;
  /** Why it is skipped (for the notes), or null. */
  readonly skipped: string | null;
}

type AnchorContext = Pick<ScenarioContext, 'installAnchors' | 'log'>;
type StepContext = Pick<ScenarioContext, 'progress'>;

/** Looks up (or, with --install-anchors, installs) redis-server; `what` names the anchor in a skip note. */
export function redisAnchor(ctx: AnchorContext, what: string): RedisAnchor {
  const found = redisBinary(ctx, what);
  return 'bin' in found ? { bin: found.bin, skipped: null } : { bin: null, skipped: found.skipped };
}

/** Progress steps `runAlternating` takes: one per run and contender, plus the server start. */
export function alternatingSteps(runs: number, anchor: RedisAnchor): number {
  return anchor.bin === null ? runs : runs * 2 + 1;
}

/** What `withRedisServer` hands its body: the server, or null and why not. */
export interface AnchorServer {
  readonly server: RedisServer | null;
  /** Why the anchor did not run (skipped or failed to start), or null. */
  readonly note: string | null;
}

/** Starts redis-server (one progress step) when available, runs `body`, and always stops the server. */
export async function withRedisServer<T>(
  ctx: StepContext,
  anchor: RedisAnchor,
  what: string,
  body: (anchor: AnchorServer) => Promise<T>,
): Promise<T> {
  if (anchor.bin === null) return body({ server: null, note: anchor.skipped });
  const bin = anchor.bin;
  let server: RedisServer | null = null;
  let note: string | null = null;
  try {
    server = await ctx.progress.step('redis-server start', () => startRedisServer(bin));
  } catch (err) {
    note = `${what} skipped: ${(err as Error).message}`;
  }
  try {
    return await body({ server, note });
  } finally {
    await server?.stop();
  }
}

/** The two contenders of one alternating loop. */
export interface Contenders<S, A> {
  /** Step label prefix, e.g. 'throughput' gives 'throughput shoal run 1/5'. */
  readonly label: string;
  shoal(run: number): Promise<S>;
  anchor(server: RedisServer, run: number): Promise<A>;
}

/** Every run of both contenders; `anchor` is null when Redis did not run. */
export interface AlternatingResult<S, A> {
  readonly shoal: S[];
  readonly anchor: A[] | null;
  readonly anchorVersion: string | null;
  readonly note: string | null;
}

/** Alternates the contenders over `runs` runs against an already started (or absent) server. */
export async function alternate<S, A>(
  ctx: StepContext,
  runs: number,
  on: AnchorServer,
  contenders: Contenders<S, A>,
): Promise<AlternatingResult<S, A>> {
  const shoal: S[] = [];
  const anchor: A[] = [];
  const server = on.server;
  const prefix = contenders.label === '' ? '' : `${contenders.label} `;
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? (['shoal', 'redis'] as const) : (['redis', 'shoal'] as const);
    for (const c of order) {
      const step = `${prefix}${c} run ${run + 1}/${runs}`;
      if (c === 'shoal') shoal.push(await ctx.progress.step(step, () => contenders.shoal(run)));
      else if (server !== null) anchor.push(await ctx.progress.step(step, () => contenders.anchor(server, run)));
    }
  }
  return { shoal, anchor: server === null ? null : anchor, anchorVersion: server?.version ?? null, note: on.note };
}

/** One redis-server for the whole loop, `runs` alternating runs of each contender, server stopped at the end. */
export function runAlternating<S, A>(
  ctx: StepContext,
  anchor: RedisAnchor,
  what: string,
  runs: number,
  contenders: Contenders<S, A>,
): Promise<AlternatingResult<S, A>> {
  return withRedisServer(ctx, anchor, what, (on) => alternate(ctx, runs, on, contenders));
}
