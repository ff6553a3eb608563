import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex, TokenAuth } from '../api/auth.js';
import { silentLogger } from '../core/log.js';
import { hashPassword } from '../listen/credentials.js';
import { createAdminAuth } from './admin-auth.js';

const ADMIN = 'admin-token-0123456789abcdef';
const tokens = {
  integrator: 'integrator-token-0123456789abcdef',
  operator: 'operator-token-0123456789abcdef',
  viewer: 'viewer-token-0123456789abcdef',
};

async function setup() {
  const auth = new TokenAuth({
    adminToken: ADMIN,
    tokens: Object.entries(tokens).map(([role, t]) => ({
      name: `${role}-bot`,
      role: role as 'viewer',
      sha256: sha256Hex(t),
    })),
  });
  const users = [
    { username: 'ana', passwordHash: await hashPassword('correct horse'), permissions: '*' as const },
    { username: 'vic', passwordHash: await hashPassword('battery staple'), permissions: 'read' as const },
  ];
  return createAdminAuth(users, auth, silentLogger);
}

describe('node-red admin auth', () => {
  it('logs configured users in with their own password only, never revealing the hash', async () => {
    const a = await setup();
    assert.deepEqual(await a.authenticate('ana', 'correct horse'), { username: 'ana', permissions: '*' });
    assert.deepEqual(await a.authenticate('vic', 'battery staple'), { username: 'vic', permissions: 'read' });
    assert.equal(await a.authenticate('ana', 'battery staple'), null);
    assert.equal(await a.authenticate('mallory', 'correct horse'), null);
    assert.deepEqual(await a.users('vic'), { username: 'vic', permissions: 'read' });
    assert.equal(await a.users('mallory'), null);
  });

  it('takes the API tokens of integrators and admins as full editors, not lower roles', async () => {
    const a = await setup();
    assert.deepEqual(await a.tokens(tokens.integrator), {
      username: 'token:integrator-bot',
      permissions: '*',
    });
    assert.deepEqual(await a.tokens(ADMIN), { username: 'token:admin', permissions: '*' });
    assert.equal(await a.tokens(tokens.operator), null);
    assert.equal(await a.tokens(tokens.viewer), null);
    assert.equal(await a.tokens('made-up-token-0123456789abcdef'), null);
    assert.equal(await a.tokens(''), null);
  });
});
