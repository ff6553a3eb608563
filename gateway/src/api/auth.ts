import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { VigieError } from '../core/errors.js';
import type { Role } from './ports.js';

// Bearer tokens with roles. Only sha256 digests are kept in memory (the admin token is hashed on
// construction too), and every lookup compares digests of equal length with timingSafeEqual, so
// neither the token nor how much of it matched leaks through timing.

export const ROLES: readonly Role[] = ['viewer', 'operator', 'integrator', 'admin'];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, integrator: 2, admin: 3 };

/** True when `have` is at least `need` in viewer < operator < integrator < admin. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** Who made a request: the token's name from config (`admin` for the admin token) and its role. */
export interface Principal {
  name: string;
  role: Role;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A new token for `vigie token create`: 32 random bytes, base64url (43 characters, no padding). */
export function generateToken(bytes = 32): string {
  if (bytes < 32) throw new VigieError('VIGIE_ERR_BAD_REQUEST', 'a token needs at least 32 random bytes');
  return randomBytes(bytes).toString('base64url');
}

interface Entry {
  name: string;
  role: Role;
  digest: Buffer;
}

export type AuthConfig = Pick<Config['auth'], 'adminToken' | 'tokens'>;

export class TokenAuth {
  private readonly entries: readonly Entry[];

  constructor(config: AuthConfig) {
    const entries: Entry[] = [];
    if (config.adminToken) {
      entries.push({
        name: 'admin',
        role: 'admin',
        digest: createHash('sha256').update(config.adminToken).digest(),
      });
    }
    for (const t of config.tokens) {
      entries.push({ name: t.name, role: t.role, digest: Buffer.from(t.sha256, 'hex') });
    }
    this.entries = entries;
  }

  /** The principal for a plain token, or undefined when no configured token matches. */
  verify(token: string): Principal | undefined {
    if (token.length === 0) return undefined;
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: Entry | undefined;
    // No early exit: the time taken does not depend on which entry (if any) matched.
    for (const e of this.entries) {
      if (timingSafeEqual(e.digest, digest) && !found) found = e;
    }
    return found ? { name: found.name, role: found.role } : undefined;
  }

  /** The principal for an `Authorization` header value; only the Bearer scheme is accepted (RFC 6750 §2.1). */
  fromHeader(header: string | undefined): Principal | undefined {
    const token = bearerToken(header);
    return token === undefined ? undefined : this.verify(token);
  }
}

/** The token of an `Authorization: Bearer <token>` header; the scheme name is case-insensitive (RFC 7235 §2.1). */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
