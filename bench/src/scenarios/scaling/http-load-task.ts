/**
 * Worker task of the throughput-vs-nodes part (run by runTask in its own
 * process, so the load never shares a node's event loop): the closed-loop
 * get/set load of cluster/load.ts against one node's HTTP API (`/v1/keys`),
 * over keep-alive connections, one per operation in flight.
 */
import http from 'node:http';
import { type LoadResult, type LoadSpec, runLoad } from '../cluster/load.js';

export interface HttpLoadInput {
  /** The node's `host:port`, which serves the HTTP API and peers alike. */
  readonly address: string;
  readonly spec: LoadSpec;
}

const REQUEST_TIMEOUT_MS = 10_000;

/** One request; resolves with the body, rejects on a non-2xx status, a socket error or the timeout. */
function request(agent: http.Agent, address: string, method: 'GET' | 'PUT', key: string, body?: string) {
  const colon = address.lastIndexOf(':');
  return new Promise<string>((resolve, reject) => {
    const req = http.request(
      {
        host: address.slice(0, colon),
        port: Number(address.slice(colon + 1)),
        method,
        path: `/v1/keys/${encodeURIComponent(key)}`,
        agent,
        headers: body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(text);
          else reject(new Error(`${method} ${key}: HTTP ${status} ${text.slice(0, 200)}`));
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`${method} ${key}: no answer in ${REQUEST_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs the load against the node at `address`. */
export async function httpLoad(input: HttpLoadInput): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: input.spec.concurrency });
  try {
    return await runLoad(
      {
        get: (key) => request(agent, input.address, 'GET', key),
        set: (key, value) => request(agent, input.address, 'PUT', key, value),
      },
      input.spec,
    );
  } finally {
    agent.destroy();
  }
}
