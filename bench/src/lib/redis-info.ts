/**
 * Parses the text of Redis's INFO command (`# Section` headers, `field:value`
 * lines, CRLF or LF) into a map, so anchors can read `used_memory` and friends
 * without a regex per field.
 */

/** Every `field:value` line of an INFO reply; section headers and blank lines are skipped. */
export function parseRedisInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** A numeric INFO field; throws naming the field when it is missing or not a number. */
export function infoNumber(fields: ReadonlyMap<string, string>, name: string): number {
  const value = Number(fields.get(name));
  if (fields.get(name) === undefined || !Number.isFinite(value)) {
    throw new Error(`redis INFO has no numeric field ${name}`);
  }
  return value;
}
