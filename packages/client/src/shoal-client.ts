/**
 * The client: a pool of pipelined connections (one per node), the partition
 * table, and the call loop every operation goes through. A keyed call goes to
 * the key's primary; a call whose node is unreachable goes to any connected
 * node instead (nodes route among themselves, so it still lands). Retryable
 * failures (connection lost, node busy, quorum not reached yet) are retried
 * with a short backoff until the call's own timeout, then reported as
 * SHOAL_REQUEST_TIMEOUT carrying the last failure as `cause`. One connection
 * is the control connection (pub/sub subscriptions live on it); when it drops
 * the client reconnects with exponential backoff and jitter, trying every
 * known node, and re-subscribes.
 */
import { EventEmitter } from 'node:events';
import { CoarseClock, isShoalError, MessageKind, type NearCacheStats, ShoalError } from '@shoal/protocol';
import { ClientNearCache } from './client-near-cache.js';
import {
  type ConnectOptions,
  type ResolvedConnectOptions,
  reconnectDelay,
  resolveConnectOptions,
} from './client-options.js';
import { type Hello, NodeConnection } from './node-connection.js';
import { RemoteCache } from './remote-cache.js';
import { RemoteLog } from './remote-log.js';
import { RemotePubSub } from './remote-pubsub.js';
import { RoutingTable } from './routing-table.js';

/** Per-call options the client adds to every operation. */
export interface RequestOptions {
  /** Budget of this call in ms, retries included (default: the client's `timeout`). */
  timeout?: number;
  /** Aborts the call (it rejects with SHOAL_CLIENT_ABORTED). */
  signal?: AbortSignal;
}

/** A node connection, as events report it. */
export interface ConnectionInfo {
  nodeId: string | undefined;
  url: string;
}

/** Events of a client (observability; none needs a listener). */
export type ClientEventMap = {
  /** A connection to a node is open (hello answered). */
  connect: [info: ConnectionInfo];
  /** A connection to a node closed or failed. */
  disconnect: [info: ConnectionInfo & { reason: string }];
  /** A connection to a node that had been lost is open again. */
  reconnect: [info: ConnectionInfo];
  /** A newer partition table arrived. */
  topology: [info: { id: number; partitionCount: number; nodes: number }];
};

/** Counters of one client. */
export interface ClientStats {
  calls: number;
  retries: number;
  timeouts: number;
  connects: number;
  disconnects: number;
  topologyUpdates: number;
  /** Frames and messages sent over connections that have closed or are open. */
  framesOut: number;
  messagesOut: number;
}

const unavailable = () => new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', 'no node connection is open');

/** A connection to a Shoal cluster. Create with `connect`. */
export class ShoalClient<V = unknown> extends EventEmitter<ClientEventMap> {
  /** The cluster-wide cache, same operations, options and errors as `node.cache`. */
  readonly cache: RemoteCache<V>;
  /** The durable message log: topics, appends, consumer groups. */
  readonly log: RemoteLog<V>;
  /** Ephemeral publish/subscribe. */
  readonly pubsub: RemotePubSub<V>;
  readonly counters: ClientStats = {
    calls: 0,
    retries: 0,
    timeouts: 0,
    connects: 0,
    disconnects: 0,
    topologyUpdates: 0,
    framesOut: 0,
    messagesOut: 0,
  };
  private readonly table = new RoutingTable();
  private readonly clock = new CoarseClock(Date.now, 256);
  /** @internal the near cache, when `nearCache` is on (shoal.nearCacheStats() reports it). */
  readonly near: ClientNearCache | undefined;
  /** Open or opening connections, by endpoint URL. */
  private readonly connections = new Map<string, NodeConnection>();
  /** Endpoint URL by 'host:port' (grows only with the addresses the cluster ever had). */
  private readonly urls = new Map<string, string>();
  /** Reconnect backoff of endpoints that failed, by URL. */
  private readonly down = new Map<string, { attempts: number; retryAt: number }>();
  private readonly everConnected = new Set<string>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private readonly closeHooks: (() => Promise<void>)[] = [];
  private control: NodeConnection | undefined;
  /** Spreads replica reads over a partition's replicas. */
  private replicaTurn = 0;
  private reconnecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Set once consumers have stopped: from then on no call is accepted. */
  private closed = false;
  private readonly scheme: string;

  /** @internal use `connect` */
  constructor(readonly options: ResolvedConnectOptions) {
    super();
    this.scheme = new URL(options.nodes[0] as string).protocol;
    this.near = options.nearCache === undefined ? undefined : new ClientNearCache(options.nearCache, options.timeoutMs);
    this.cache = new RemoteCache<V>(this);
    this.log = new RemoteLog<V>(this);
    this.pubsub = new RemotePubSub<V>(this);
  }

  /** Id of the partition table the client routes with (a hash of its owners; 0 before the first). */
  get tableId(): number {
    return this.table.id;
  }

  /** Near-cache counters (hits, misses, invalidations, drops), when `nearCache` is on. */
  nearCacheStats(): NearCacheStats | undefined {
    return this.near?.stats();
  }

  /** Node ids with an open connection. */
  connectedNodes(): string[] {
    return [...this.connections.values()].filter((c) => c.usable).map((c) => c.nodeId as string);
  }

  /** Endpoint counters of one node (or of the control connection's node): routing tests read them. */
  nodeStats(nodeId?: string): Promise<Record<string, number>> {
    const connection = nodeId === undefined ? this.control : this.connectionFor(nodeId);
    if (connection === undefined) return Promise.reject(unavailable());
    return connection.request(MessageKind.ClientStats, null, this.options.timeoutMs, undefined) as Promise<
      Record<string, number>
    >;
  }

  /** @internal first connection: tries every seed until one answers, within connectTimeout. */
  async start(): Promise<void> {
    const deadline = Date.now() + this.options.connectTimeoutMs;
    let attempt = 0;
    let last: unknown;
    while (!this.isClosed()) {
      for (const url of this.candidates()) {
        try {
          this.control = await this.open(url, deadline - Date.now());
          for (const [id] of this.table.nodes()) this.connectionFor(id);
          return;
        } catch (err) {
          last = err;
          // a wrong token is wrong on every node: waiting will not fix it
          if (isShoalError(err, 'SHOAL_AUTH_FAILED') || isShoalError(err, 'SHOAL_PROTOCOL_INVALID')) throw err;
        }
        if (Date.now() >= deadline) break;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.sleep(Math.min(left, this.delay(attempt++)));
    }
    throw new ShoalError(
      'SHOAL_TRANSPORT_UNAVAILABLE',
      `no node of ${this.options.nodes.join(', ')} answered within ${this.options.connectTimeoutMs} ms: ${String((last as Error)?.message ?? 'closed')}`,
      { nodes: [...this.options.nodes] },
      { cause: last },
    );
  }

  /**
   * @internal Runs one request: to the primary of `key` when given, else to
   * the control connection; retries retryable failures until the timeout.
   */
  call(
    kind: number,
    body: unknown,
    key: string | undefined,
    options?: RequestOptions,
    replica = false,
  ): Promise<unknown> {
    if (this.isClosed()) return Promise.reject(new ShoalError('SHOAL_CLIENT_CLOSED'));
    this.counters.calls++;
    const timeoutMs = options?.timeout ?? this.options.timeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
      return Promise.reject(
        new ShoalError('SHOAL_ARGUMENT_INVALID', `timeout ${String(timeoutMs)} is not a positive integer`),
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) {
      return Promise.reject(new ShoalError('SHOAL_CLIENT_ABORTED', undefined, undefined, { cause: signal.reason }));
    }
    // one clock read per turn for every call's deadline: it may start up to a turn early, never late
    const deadline = this.clock.now() + timeoutMs;
    const connection = this.pick(key, replica);
    if (connection === undefined) {
      return this.retry(kind, body, key, deadline, timeoutMs, signal, unavailable(), replica);
    }
    // fast path: one promise per call and no async frame; the retry loop only on failure
    return new Promise((resolve, reject) =>
      connection.start(kind, body, deadline, timeoutMs, signal, resolve, (err) =>
        this.retry(kind, body, key, deadline, timeoutMs, signal, err, replica).then(resolve, reject),
      ),
    );
  }

  private async retry(
    kind: number,
    body: unknown,
    key: string | undefined,
    deadline: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    failure: unknown,
    replica: boolean,
  ): Promise<unknown> {
    let last = failure;
    let backoff = 5;
    for (;;) {
      if (!isShoalError(last) || !last.retryable || this.isClosed()) throw last;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.counters.timeouts++;
        throw new ShoalError(
          'SHOAL_REQUEST_TIMEOUT',
          `the call did not complete within ${timeoutMs} ms: ${last.message}`,
          { lastCode: last.code, ...(key === undefined ? {} : { key }) },
          { cause: last },
        );
      }
      await this.sleep(Math.min(backoff, left), signal);
      backoff = Math.min(backoff * 2, 200);
      if (this.isClosed()) throw new ShoalError('SHOAL_CLIENT_CLOSED');
      if (signal?.aborted) throw new ShoalError('SHOAL_CLIENT_ABORTED', undefined, undefined, { cause: signal.reason });
      this.counters.retries++;
      const connection = this.pick(key, replica);
      if (connection === undefined) {
        this.ensureControl();
        last = unavailable();
        continue;
      }
      try {
        return await connection.request(kind, body, Math.max(1, deadline - Date.now()), signal);
      } catch (err) {
        last = err;
      }
    }
  }

  /**
   * The connection for a call: the key's primary (or, for a replica read, its
   * owners in turn starting with a replica), else the control connection,
   * else any open one.
   */
  private pick(key: string | undefined, replica = false): NodeConnection | undefined {
    if (key !== undefined) {
      const owners = this.table.ownersOf(key);
      if (replica && owners.length > 1) {
        const start = 1 + (this.replicaTurn++ % (owners.length - 1));
        for (let i = 0; i < owners.length; i++) {
          const connection = this.connectionFor(owners[(start + i) % owners.length] as string);
          if (connection !== undefined) return connection;
        }
      }
      const primary = owners[0];
      if (primary !== undefined) {
        const connection = this.connectionFor(primary);
        if (connection !== undefined) return connection;
      }
    }
    if (this.control !== undefined && !this.control.closed) return this.control;
    for (const connection of this.connections.values()) if (connection.usable) return connection;
    this.ensureControl();
    return undefined;
  }

  /** The connection to a node: open, opening, or opened now (undefined while the node is backing off). */
  private connectionFor(nodeId: string): NodeConnection | undefined {
    const address = this.table.addressOf(nodeId);
    if (address === undefined) return undefined;
    let url = this.urls.get(address);
    if (url === undefined) {
      // built once per address: a new string per call cost a tenth of the client's CPU (built, then hashed by the map)
      url = `${this.scheme}//${address}/v1/client`;
      this.urls.set(address, url);
    }
    const existing = this.connections.get(url);
    if (existing !== undefined) return existing.closed ? undefined : existing;
    const down = this.down.get(url);
    if (down !== undefined && Date.now() < down.retryAt) return undefined;
    if (this.isClosed()) return undefined;
    const connection = this.connect(url);
    connection.ready.catch(() => {}); // failures arrive through onClose
    return connection;
  }

  private connect(url: string): NodeConnection {
    const connection = new NodeConnection(url, this.options, {
      onPush: (kind, body) => this.onPush(kind, body),
      onClose: (c, reason) => this.onClose(c, reason),
    });
    this.connections.set(url, connection);
    connection.ready.then(
      (hello) => this.onOpen(connection, hello),
      () => {},
    );
    return connection;
  }

  /** Opens (or reuses) the connection to `url` and waits for its hello. */
  private async open(url: string, timeoutMs: number): Promise<NodeConnection> {
    let connection = this.connections.get(url);
    if (connection === undefined || connection.closed) connection = this.connect(url);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connection.ready,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new ShoalError('SHOAL_TRANSPORT_TIMEOUT', `${url} did not answer`)),
            Math.max(1, timeoutMs),
          );
        }),
      ]);
    } catch (err) {
      connection.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return connection;
  }

  private onOpen(connection: NodeConnection, hello: Hello): void {
    if (connection.closed) return;
    this.down.delete(connection.url);
    this.counters.connects++;
    this.adoptTable(hello.table);
    this.near?.connected(connection, hello.nodeId);
    const info = { nodeId: hello.nodeId, url: connection.url };
    this.emit('connect', info);
    if (this.everConnected.has(connection.url)) this.emit('reconnect', info);
    this.everConnected.add(connection.url);
  }

  /** Counters, with the frames and messages of the open connections added in. */
  stats(): ClientStats {
    const out = { ...this.counters };
    for (const c of this.connections.values()) {
      out.framesOut += c.counters.framesOut;
      out.messagesOut += c.counters.messagesOut;
    }
    return out;
  }

  private onClose(connection: NodeConnection, reason: string): void {
    if (this.connections.get(connection.url) === connection) this.connections.delete(connection.url);
    this.counters.framesOut += connection.counters.framesOut;
    this.counters.messagesOut += connection.counters.messagesOut;
    if (this.isClosed()) return;
    const previous = this.down.get(connection.url);
    const attempts = connection.nodeId === undefined ? (previous?.attempts ?? 0) + 1 : 0;
    this.down.set(connection.url, { attempts, retryAt: Date.now() + this.delay(attempts) });
    if (connection.nodeId !== undefined) {
      this.near?.disconnected(connection.nodeId);
      this.counters.disconnects++;
      this.emit('disconnect', { nodeId: connection.nodeId, url: connection.url, reason });
    }
    if (connection === this.control) {
      this.control = undefined;
      this.ensureControl();
    }
  }

  private onPush(kind: number, body: unknown): void {
    if (kind === MessageKind.ClientTopology) this.adoptTable(body as never);
    else if (kind === MessageKind.ClientMessage) this.pubsub.deliver(body);
    else if (kind === MessageKind.ClientInvalidate) this.near?.events(body);
  }

  private adoptTable(table: Parameters<RoutingTable['update']>[0]): void {
    if (!this.table.update(table)) return;
    this.near?.tableChanged(this.table.partitionCount, this.table.primaries());
    this.counters.topologyUpdates++;
    this.emit('topology', {
      id: this.table.id,
      partitionCount: this.table.partitionCount,
      nodes: this.table.nodes().length,
    });
  }

  /** Makes sure a control connection exists, reconnecting in the background when none is open. */
  private ensureControl(): void {
    if (this.isClosed() || this.reconnecting !== undefined) return;
    if (this.control !== undefined && !this.control.closed) return;
    this.reconnecting = this.reconnect().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private async reconnect(): Promise<void> {
    let attempt = 0;
    while (!this.isClosed()) {
      const open = [...this.connections.values()].find((c) => c.usable);
      if (open !== undefined) {
        this.useControl(open);
        return;
      }
      for (const url of this.candidates()) {
        if (this.isClosed()) return;
        try {
          this.useControl(await this.open(url, this.options.connectTimeoutMs));
          return;
        } catch {
          // next candidate
        }
      }
      await this.sleep(this.delay(attempt++));
    }
  }

  private useControl(connection: NodeConnection): void {
    this.control = connection;
    this.pubsub.resubscribe();
  }

  /** Endpoints to try: every node of the table, then the seeds. */
  private candidates(): string[] {
    const urls = this.table.nodes().map(([, address]) => `${this.scheme}//${address}/v1/client`);
    return [...new Set([...urls, ...this.options.nodes])];
  }

  private delay(attempt: number): number {
    return reconnectDelay(attempt, this.options.reconnectBaseMs, this.options.reconnectMaxMs);
  }

  /** Waits `ms` (woken early by close or the signal). */
  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => sleeper.wake(), ms),
        wake: () => {
          clearTimeout(sleeper.timer);
          this.sleepers.delete(sleeper);
          signal?.removeEventListener('abort', sleeper.wake);
          resolve();
        },
      };
      this.sleepers.add(sleeper);
      signal?.addEventListener('abort', sleeper.wake, { once: true });
    });
  }

  /** @internal consumers register here so close() stops them first (their acks still need a connection). */
  onClosing(hook: () => Promise<void>): void {
    this.closeHooks.push(hook);
  }

  private isClosed(): boolean {
    return this.closed;
  }

  /** Stops consumers (their acks flushed), closes every socket and timer; pending calls fail with SHOAL_CLIENT_CLOSED. Safe twice. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const hooks = this.closeHooks.splice(0);
    this.closing = (async () => {
      await Promise.allSettled(hooks.map((hook) => hook()));
      this.closed = true;
      this.near?.close();
      for (const sleeper of [...this.sleepers]) sleeper.wake();
      for (const connection of [...this.connections.values()]) connection.close();
      this.connections.clear();
      this.control = undefined;
      await this.reconnecting;
    })();
    return this.closing;
  }
}

/** Connects to a cluster through any of `options.nodes`; resolves once one node has answered. */
export async function connect<V = unknown>(options: ConnectOptions): Promise<ShoalClient<V>> {
  const client = new ShoalClient<V>(resolveConnectOptions(options));
  try {
    await client.start();
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}
