/**
 * Delivery ids: `<instanceId>.<offset>.<seq>`. Opaque to consumers; to the
 * state machine they say, without any table of past deliveries, which
 * instance issued a delivery, for which offset, and whether it is the
 * offset's latest one (seq is a per-instance counter), so a late, duplicate or
 * foreign ack gets a precise error in O(1) and bounded memory.
 */

/** The parts of a delivery id. */
export interface DeliveryIdParts {
  readonly instanceId: string;
  readonly offset: number;
  readonly seq: number;
}

/** Builds a delivery id. */
export function formatDeliveryId(instanceId: string, offset: number, seq: number): string {
  return `${instanceId}.${offset}.${seq}`;
}

function canonicalInteger(text: string): number | undefined {
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 && String(n) === text ? n : undefined;
}

/** Splits a delivery id, or undefined when it is not one. */
export function parseDeliveryId(id: unknown): DeliveryIdParts | undefined {
  if (typeof id !== 'string') return undefined;
  const last = id.lastIndexOf('.');
  const middle = last > 0 ? id.lastIndexOf('.', last - 1) : -1;
  if (middle <= 0) return undefined;
  const offset = canonicalInteger(id.slice(middle + 1, last));
  const seq = canonicalInteger(id.slice(last + 1));
  if (offset === undefined || seq === undefined) return undefined;
  return { instanceId: id.slice(0, middle), offset, seq };
}
