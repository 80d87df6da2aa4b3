/**
 * Waiting for enough copies: sends to every other holder at once and settles
 * as soon as `needed` copies exist (the ones already held count) or as soon
 * as that can no longer happen. Sends still running after it settles carry on;
 * their failures are left to repair (anti-entropy, follower catch-up).
 */
import { ShoalError } from '@shoal/protocol';

/**
 * Runs `send(target)` for every target concurrently; resolves once `held` +
 * successes reach `needed`, rejects with SHOAL_REPLICATION_QUORUM (naming
 * `what` and each failure) once they cannot.
 */
export function awaitQuorum(
  targets: readonly string[],
  send: (target: string) => Promise<unknown>,
  held: number,
  needed: number,
  what: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  let acks = held;
  if (acks >= needed) {
    for (const target of targets) send(target).catch(() => {});
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    let pending = targets.length;
    let settled = false;
    const failed: string[] = [];
    const check = () => {
      if (settled) return;
      if (acks >= needed) {
        settled = true;
        resolve();
      } else if (acks + pending < needed) {
        settled = true;
        reject(
          new ShoalError(
            'SHOAL_REPLICATION_QUORUM',
            `${acks} of ${needed} copies of ${what} (${failed.join('; ') || 'no owner to ask'})`,
            {
              ...details,
              acks,
              needed,
            },
          ),
        );
      }
    };
    for (const target of targets) {
      send(target).then(
        () => {
          acks++;
          pending--;
          check();
        },
        (err: Error) => {
          pending--;
          failed.push(`${target}: ${err.message}`);
          check();
        },
      );
    }
    check();
  });
}
