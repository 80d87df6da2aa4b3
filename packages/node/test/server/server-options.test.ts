import { isShoalError } from '@shoal/protocol';
import t, { type Test } from 'tap';
import { resolveNodeOptions } from '../../src/node-options.js';

const rejects = (t: Test, options: Parameters<typeof resolveNodeOptions>[0], option: string, message: RegExp) => {
  try {
    resolveNodeOptions(options);
  } catch (err) {
    if (!isShoalError(err, 'SHOAL_CONFIG_INVALID')) throw err;
    t.equal(err.details?.option, option, `names ${option}`);
    t.match(err.message, message);
    return;
  }
  t.fail(`${JSON.stringify(options)} was accepted`);
};

t.test('Node options: tls, maxConnectionsPerIp and tokens are validated, naming the option', async (t) => {
  const pem = '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n';
  t.equal(resolveNodeOptions({}).maxConnectionsPerIp, 256, 'generous default');
  t.equal(resolveNodeOptions({}).tls, undefined);
  const resolved = resolveNodeOptions({ tls: { cert: pem, key: Buffer.from(pem), ca: pem }, maxConnectionsPerIp: 5 });
  t.equal(resolved.maxConnectionsPerIp, 5);
  t.ok(Object.isFrozen(resolved.tls), 'tls is frozen with the rest');
  rejects(t, { maxConnectionsPerIp: 0 }, 'maxConnectionsPerIp', /^maxConnectionsPerIp: 0 is not an integer from 1/);
  rejects(t, { maxConnectionsPerIp: 2.5 }, 'maxConnectionsPerIp', /2\.5 is not an integer/);
  rejects(t, { tls: { cert: pem } as never }, 'tls', /^tls: must be \{ cert, key, ca\? \}/);
  rejects(t, { tls: { cert: 1, key: pem } as never }, 'tls', /PEM strings or buffers/);
  rejects(t, { tls: { cert: pem, key: pem, ca: 7 } as never }, 'tls', /^tls: ca must be a PEM string or buffer$/);
  rejects(t, { token: 'short' }, 'token', /^token: must be a string of at least 8 characters$/);
  rejects(t, { adminToken: 'short' }, 'adminToken', /^adminToken: must be a string of at least 8 characters$/);
});
