/**
 * The latency floor of the client scenario: a Node.js server that does no
 * work at all, over the same transports a Shoal client could use. It answers
 * every WebSocket message (the transport @shoal/client speaks, with the same
 * server options as the node's client endpoint) and every TCP read with a
 * fixed reply the size of a get's reply, straight from the event handler.
 * Whatever a sequential round trip costs through it is what the runtime and
 * the machine charge before any cache code runs, so it is measured in the same
 * interleaved loop as Shoal and ioredis.
 *
 * Run as a child process: `node echo-floor-server.js <replyBytes>`; prints
 * `ready {"ws":<port>,"tcp":<port>}` and serves 127.0.0.1 until killed.
 */
import { createServer, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';

/** Ports the floor server listens on. */
export interface EchoFloorPorts {
  readonly ws: number;
  readonly tcp: number;
}

/** Starts both echo servers on 127.0.0.1 (free ports); resolves with their ports. */
export async function startEchoFloor(replyBytes: number): Promise<EchoFloorPorts & { close(): Promise<void> }> {
  const reply = Buffer.alloc(replyBytes, 0x76);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('connection', (socket) => {
    socket.on('message', () => socket.send(reply, { binary: true }));
    socket.on('error', () => socket.terminate());
  });
  const sockets = new Set<Socket>();
  const tcp = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    // one reply per read: the loop on the other side sends one request and waits for its whole reply
    socket.on('data', () => socket.write(reply));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await Promise.all([
    new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    }),
    new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, '127.0.0.1', resolve);
    }),
  ]);
  const port = (address: ReturnType<typeof tcp.address>) =>
    typeof address === 'object' && address !== null ? address.port : 0;
  return {
    ws: port(wss.address()),
    tcp: port(tcp.address()),
    close: async () => {
      for (const s of sockets) s.destroy();
      for (const c of wss.clients) c.terminate();
      await Promise.all([new Promise((resolve) => wss.close(resolve)), new Promise((resolve) => tcp.close(resolve))]);
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const replyBytes = Number(process.argv[2] ?? 110);
  if (!Number.isSafeInteger(replyBytes) || replyBytes < 1) {
    process.stderr.write(`echo-floor-server: reply size ${process.argv[2]} is not a positive integer\n`);
    process.exit(2);
  }
  const ports = await startEchoFloor(replyBytes);
  process.stdout.write(`ready ${JSON.stringify({ ws: ports.ws, tcp: ports.tcp })}\n`);
}
