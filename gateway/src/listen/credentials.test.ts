import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, parseHash, verifyPassword } from './credentials.js';

test('credentials - a hash verifies its password and nothing else', async () => {
  const h = await hashPassword('correct horse battery');
  assert.match(h, /^scrypt\$16384\$8\$1\$/);
  assert.equal(await verifyPassword('correct horse battery', h), true);
  assert.equal(await verifyPassword('correct horse battery', h), true); // cached
  assert.equal(await verifyPassword('correct horse batterY', h), false);
  assert.equal(await verifyPassword('', h), false);
});

test('credentials - the example site hashes match the documented demo passwords', async () => {
  const g12 = 'scrypt$16384$8$1$HMEyoLNuKj2LMdeLtVanSw==$u3yGVraVR/DmMd1Ju1HxynK+ZLO9eGTYFN7wvJxawtU=';
  assert.equal(await verifyPassword('demo-door-g12', g12), true);
  assert.equal(await verifyPassword('demo-door-g14', g12), false);
});

test('credentials - malformed or unsafe hashes never verify', async () => {
  const key = Buffer.alloc(32, 1).toString('base64');
  const salt = Buffer.alloc(16, 2).toString('base64');
  for (const bad of [
    'plain-text',
    `scrypt$16384$8$1$${salt}`,
    `scrypt$1000$8$1$${salt}$${key}`, // N not a power of two
    `scrypt$67108864$8$1$${salt}$${key}`, // too costly
    `scrypt$16384$8$1$${salt}$${Buffer.alloc(16).toString('base64')}`, // short key
    `bcrypt$16384$8$1$${salt}$${key}`,
  ]) {
    assert.equal(parseHash(bad), undefined, bad);
    assert.equal(await verifyPassword('x', bad), false);
  }
});

test('credentials - verification does not block the event loop', async () => {
  const h = await hashPassword('another password');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await Promise.all([
    verifyPassword('wrong 1', h),
    verifyPassword('wrong 2', h),
    verifyPassword('wrong 3', h),
  ]);
  clearInterval(timer);
  assert.ok(ticks > 0, 'timers ran while scrypt was computing');
});
