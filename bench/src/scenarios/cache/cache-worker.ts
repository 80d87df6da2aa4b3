/**
 * The script every process of the `cache` scenario runs (forked by
 * worker-client.ts): it holds one cache instance and runs the commands the
 * parent names (worker-commands.ts), one reply per request id. It exits when
 * the IPC channel closes, so a crashed parent leaves nothing behind.
 */
import { WorkerCommands } from './worker-commands.js';

/** A request from the parent: a WorkerCommands method name and its one argument. */
export interface CacheWorkerRequest {
  readonly id: number;
  readonly name: string;
  readonly args: unknown;
}

/** The answer to a request. */
export type CacheWorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string };

const commands = new WorkerCommands();
const table = commands as unknown as Record<string, (args: unknown) => unknown>;

process.on('message', (raw: unknown) => {
  const request = raw as CacheWorkerRequest;
  void (async () => {
    let reply: CacheWorkerReply;
    try {
      const method = table[request.name];
      if (typeof method !== 'function' || request.name === 'constructor') {
        throw new Error(`unknown command ${request.name}`);
      }
      reply = { id: request.id, ok: true, result: await method.call(commands, request.args) };
    } catch (err) {
      reply = { id: request.id, ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    process.send?.(reply);
  })();
});
process.on('disconnect', () => process.exit());

if (process.send === undefined) {
  process.stderr.write('cache-worker: must be started with child_process.fork\n');
  process.exit(2);
}
