import { randomBytes } from 'node:crypto';
import { roleAtLeast, type TokenAuth } from '../api/auth.js';
import type { NodeRedConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import { hashPassword, verifyPassword } from '../listen/credentials.js';

// Node-RED's `adminAuth` setting (https://nodered.org/docs/user-guide/runtime/securing-node-red):
// the configured users log in with their `vigie hash-password` password, and the gateway's own API
// tokens of role integrator or admin are accepted as bearer tokens, so scripts and tests use the
// admin API (GET/POST {path}/flows) with the token they already have.

/** What Node-RED keeps of a user: the permissions are Node-RED's ('*' all, 'read' look only). */
export interface EditorUser {
  username: string;
  permissions: '*' | 'read';
}

export interface NodeRedAdminAuth {
  type: 'credentials';
  users(username: string): Promise<EditorUser | null>;
  authenticate(username: string, password: string): Promise<EditorUser | null>;
  tokens(token: string): Promise<EditorUser | null>;
}

export function createAdminAuth(
  users: NodeRedConfig['users'],
  auth: TokenAuth,
  logger: Logger,
): NodeRedAdminAuth {
  const byName = new Map(users.map((u) => [u.username, u]));
  // An unknown name costs one scrypt like a known one, so timing does not tell which names exist.
  const decoy = hashPassword(randomBytes(16).toString('hex'));
  const view = (u: { username: string; permissions: '*' | 'read' }): EditorUser => ({
    username: u.username,
    permissions: u.permissions,
  });
  return {
    type: 'credentials',
    users: async (username) => {
      const u = byName.get(username);
      return u ? view(u) : null;
    },
    async authenticate(username, password) {
      const u = byName.get(username);
      const ok = await verifyPassword(String(password), u?.passwordHash ?? (await decoy));
      return u && ok ? view(u) : null;
    },
    async tokens(token) {
      const p = auth.verify(token);
      if (!p) return null;
      if (!roleAtLeast(p.role, 'integrator')) {
        logger.debug('Node-RED admin API refused a token below integrator', { token: p.name });
        return null;
      }
      // `token:` cannot clash with a configured username (they have no colon).
      return { username: `token:${p.name}`, permissions: '*' };
    },
  };
}
