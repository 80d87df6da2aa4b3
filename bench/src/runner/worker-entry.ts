/**
 * The script every measured run forks (`node --expose-gc worker-entry.js`).
 * It waits for one request naming a task module and export, runs it, sends the
 * result back over IPC and exits, so each run starts with a cold JIT and an
 * empty heap that no other contender has touched.
 */
import type { WorkerReply, WorkerRequest } from './child-runner.js';

function describe(err: unknown): { message: string; stack?: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      message: err.message,
      ...(err.stack === undefined ? {} : { stack: err.stack }),
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { message: String(err) };
}

function reply(message: WorkerReply, exitCode: number): void {
  // Exit explicitly: a task may leave a timer behind (a cache's sweep timer) and must not hang its run.
  process.send?.(message, undefined, {}, () => process.exit(exitCode));
}

process.once('message', (raw: unknown) => {
  const request = raw as WorkerRequest;
  void (async () => {
    try {
      const mod = (await import(request.moduleUrl)) as Record<string, unknown>;
      const task = mod[request.exportName];
      if (typeof task !== 'function')
        throw new Error(`${request.moduleUrl} has no exported function ${request.exportName}`);
      const started = performance.now();
      const output: unknown = await task(request.input);
      reply({ ok: true, output, durationMs: performance.now() - started }, 0);
    } catch (err) {
      reply({ ok: false, error: describe(err) }, 1);
    }
  })();
});

if (process.send === undefined) {
  process.stderr.write('worker-entry: must be started with child_process.fork\n');
  process.exit(2);
}
