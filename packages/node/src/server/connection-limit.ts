/**
 * Per-IP connection cap of the node's port (HTTP and WebSocket upgrades share
 * it). A connection over the cap is refused before any parsing: answered 429
 * on plain HTTP, closed at once under TLS (a plaintext answer would be noise
 * inside a handshake). One log line per address per 10 s, so a flood cannot
 * flood the log too.
 */
import type { Server } from 'node:net';
import { ShoalError } from '@shoal/protocol';

const LOG_EVERY_MS = 10_000;

/** Caps simultaneous connections per remote address on `server`; returns a way to read the current counts. */
export function limitConnectionsPerIp(
  server: Server,
  maxPerIp: number,
  options: { tls: boolean; onRefuse: (remote: string, open: number) => void },
): { open: (remote: string) => number; refused: () => number } {
  const open = new Map<string, number>();
  const lastLogged = new Map<string, number>();
  let refused = 0;
  const body = JSON.stringify(
    new ShoalError('SHOAL_HTTP_TOO_MANY_CONNECTIONS', `more than ${maxPerIp} connections from this address`).toJSON(),
  );
  const answer = `HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
  server.on('connection', (socket) => {
    const remote = socket.remoteAddress ?? 'unknown';
    const count = open.get(remote) ?? 0;
    if (count >= maxPerIp) {
      refused++;
      const now = Date.now();
      if (now - (lastLogged.get(remote) ?? 0) >= LOG_EVERY_MS) {
        lastLogged.set(remote, now);
        options.onRefuse(remote, count);
      }
      socket.on('error', () => {});
      if (options.tls) socket.destroy();
      else socket.end(answer);
      return;
    }
    open.set(remote, count + 1);
    socket.once('close', () => {
      const left = (open.get(remote) ?? 1) - 1;
      if (left <= 0) open.delete(remote);
      else open.set(remote, left);
    });
  });
  return { open: (remote) => open.get(remote) ?? 0, refused: () => refused };
}
