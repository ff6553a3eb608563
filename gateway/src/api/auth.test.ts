import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerToken, generateToken, roleAtLeast, sha256Hex, TokenAuth } from './auth.js';

describe('TokenAuth', () => {
  const consoleToken = generateToken();
  const auth = new TokenAuth({
    adminToken: 'an-admin-token-of-some-length',
    tokens: [{ name: 'ops-console', role: 'operator', sha256: sha256Hex(consoleToken) }],
  });

  it('knows the admin token and configured tokens by their digest', () => {
    assert.deepEqual(auth.verify('an-admin-token-of-some-length'), { name: 'admin', role: 'admin' });
    assert.deepEqual(auth.fromHeader(`Bearer ${consoleToken}`), { name: 'ops-console', role: 'operator' });
    assert.deepEqual(auth.fromHeader(`bearer ${consoleToken}`), { name: 'ops-console', role: 'operator' });
  });

  it('refuses unknown, empty, truncated and non-Bearer credentials', () => {
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Basic ${consoleToken}`,
      `Bearer ${consoleToken.slice(1)}`,
    ]) {
      assert.equal(auth.fromHeader(header), undefined, String(header));
    }
    assert.equal(auth.verify(''), undefined);
  });

  it('accepts nobody when neither an admin token nor tokens are configured', () => {
    assert.equal(new TokenAuth({ tokens: [] }).verify('anything-at-all'), undefined);
  });
});

describe('tokens and roles', () => {
  it('generates url-safe tokens of at least 32 random bytes, all different', () => {
    const a = generateToken();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, generateToken());
    assert.throws(() => generateToken(16), { code: 'VIGIE_ERR_BAD_REQUEST' });
  });

  it('hashes with sha256 hex as stored in config', () => {
    assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('parses only the Bearer scheme', () => {
    assert.equal(bearerToken('Bearer abc.def'), 'abc.def');
    assert.equal(bearerToken('Bearer a b'), undefined);
  });

  it('orders roles viewer < operator < integrator < admin', () => {
    const table: [Parameters<typeof roleAtLeast>[0], Parameters<typeof roleAtLeast>[1], boolean][] = [
      ['viewer', 'viewer', true],
      ['viewer', 'operator', false],
      ['operator', 'viewer', true],
      ['operator', 'integrator', false],
      ['integrator', 'operator', true],
      ['integrator', 'admin', false],
      ['admin', 'integrator', true],
    ];
    for (const [have, need, ok] of table) assert.equal(roleAtLeast(have, need), ok, `${have} >= ${need}`);
  });
});
