/**
 * Inputs shared by the `store` tasks, built before any timing starts: key
 * strings (`key:123456`, flat one-byte strings), 100-byte value strings, and
 * a helper to force garbage collection in a `--expose-gc` worker.
 */

/** `count` distinct keys `key:0 .. key:<count-1>`. */
export function buildKeys(count: number): string[] {
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i++) keys[i] = `key:${i}`;
  return keys;
}

const FILL = 0x76; // 'v'

/**
 * A distinct flat string of exactly `bytes` one-byte characters ending in the
 * decimal `id`. Built through a Buffer so V8 stores it as one sequential
 * string (a `+` concatenation would make a cons string that shares its prefix
 * and understates value memory).
 */
export function valueString(id: number, bytes: number, scratch: Buffer = Buffer.alloc(bytes, FILL)): string {
  const digits = String(id);
  if (digits.length > bytes) throw new RangeError(`value: id ${id} does not fit in ${bytes} bytes`);
  scratch.fill(FILL, 0, bytes);
  scratch.write(digits, bytes - digits.length, 'latin1');
  return scratch.toString('latin1', 0, bytes);
}

/** `count` distinct values of `bytes` bytes each. */
export function buildValues(count: number, bytes: number): string[] {
  const scratch = Buffer.alloc(bytes, FILL);
  const values = new Array<string>(count);
  for (let i = 0; i < count; i++) values[i] = valueString(i, bytes, scratch);
  return values;
}

/** Full collections until the heap settles (a few rounds, letting finalizers run between them). */
export async function settleHeap(rounds = 4): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (the child runner passes it)');
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
