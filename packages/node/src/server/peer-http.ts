/**
 * GET of another member's JSON over its HTTP API (same port as its peer
 * endpoint), for routes that gather one view from every node (the dashboard
 * summary). Uses node:http(s) rather than fetch so a private CA can be trusted.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** How to reach other members. */
export interface PeerHttpOptions {
  /** https with this CA (undefined: plain http). */
  tls?: { ca?: string | Buffer | undefined } | undefined;
  timeoutMs: number;
}

/** JSON of GET `path` on `address` ('host:port'); rejects on a non-200 answer, a timeout or bad JSON. */
export function getPeerJson(
  address: string,
  path: string,
  authorization: string | undefined,
  options: PeerHttpOptions,
): Promise<unknown> {
  const secure = options.tls !== undefined;
  const url = `${secure ? 'https' : 'http'}://${address}${path}`;
  const request = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: authorization === undefined ? {} : { authorization },
        timeout: options.timeoutMs,
        ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`${url}: HTTP ${res.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
