import { readFileSync } from 'node:fs';
import t from 'tap';
import { ERROR_CODES, errorFromWire, isShoalError, ShoalError } from '../src/index.js';

t.test('Errors registry: every code is documented in docs/errors.md with its status', async (t) => {
  const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    const row = doc.split('\n').find((line) => line.includes(`\`${code}\``));
    t.ok(row, `${code} is documented`);
    t.match(row ?? '', new RegExp(`\\|\\s*${spec.status}\\s*\\|`), `${code} documents status ${spec.status}`);
  }
  for (const match of doc.matchAll(/`(SHOAL_[A-Z_]+)`/g)) {
    t.ok(Object.hasOwn(ERROR_CODES, match[1] as string), `${match[1]} in the doc is a registered code`);
  }
});

t.test('ShoalError carries code, status, retryable and details, and survives the wire', async (t) => {
  const err = new ShoalError('SHOAL_VALUE_TOO_LARGE', 'value of 10 bytes exceeds 5', { size: 10, max: 5 });
  t.equal(err.code, 'SHOAL_VALUE_TOO_LARGE');
  t.equal(err.status, 413);
  t.equal(err.retryable, false);
  t.ok(err instanceof Error);
  t.ok(isShoalError(err));
  t.ok(isShoalError(err, 'SHOAL_VALUE_TOO_LARGE'));
  t.notOk(isShoalError(err, 'SHOAL_KEY_INVALID'));
  t.notOk(isShoalError(new Error('x')));
  t.notOk(isShoalError(null));
  const back = errorFromWire(JSON.parse(JSON.stringify(err)));
  t.same(back.toJSON(), err.toJSON());
  t.equal(new ShoalError('SHOAL_KEY_INVALID').message, ERROR_CODES.SHOAL_KEY_INVALID.message);
  t.equal(errorFromWire({ code: 'NOPE', message: 'm' }).code, 'SHOAL_ARGUMENT_INVALID');
});
