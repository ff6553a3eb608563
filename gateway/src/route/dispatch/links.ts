import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { persistentSecret } from '../../store/secrets.js';

/*
 * Short signed links for people who have no account: the technician's job page (`/j/TOKEN`) and the
 * customer's survey (`/s/TOKEN`). The token is the credential, so it is unguessable, tamper-evident
 * and expires:
 *   token   = base64url(id "." expiry) "." base64url(HMAC-SHA256(secret, purpose "|" first part)[0..12])
 * The expiry (epoch seconds, base 36) sits inside the signed part; the purpose is signed but not
 * carried, so a job link is never a valid survey link. 96 bits of MAC are plenty against guesses made
 * one HTTP request at a time, and keep the SMS short.
 */

export type LinkPurpose = 'job' | 'survey';

const MAC_BYTES = 12;
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** 12 bytes in base64url: 16 characters, no padding. */
const SIG_PATTERN = /^[A-Za-z0-9_-]{16}$/;

export type LinkCheck =
  { ok: true; id: string; expiresAt: number } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

export class LinkSigner {
  private readonly key: Buffer;

  constructor(
    secret: string | Buffer,
    private readonly ttlMs: number,
  ) {
    this.key = Buffer.from(secret);
  }

  /** A token for `id`, valid until now + the link TTL. */
  sign(purpose: LinkPurpose, id: string, now: number): string {
    if (!ID_PATTERN.test(id)) throw new Error(`cannot sign the id "${id}"`);
    const exp = Math.ceil((now + this.ttlMs) / 1000).toString(36);
    const body = Buffer.from(`${id}.${exp}`).toString('base64url');
    return `${body}.${this.mac(purpose, body).toString('base64url')}`;
  }

  verify(purpose: LinkPurpose, token: string, now: number): LinkCheck {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 200) return { ok: false, reason: 'malformed' };
    const body = token.slice(0, dot);
    const sig = token.slice(dot + 1);
    // Node decodes base64 leniently (a stray trailing character is dropped): check the text first.
    if (!SIG_PATTERN.test(sig)) return { ok: false, reason: 'malformed' };
    if (!timingSafeEqual(Buffer.from(sig, 'base64url'), this.mac(purpose, body)))
      return { ok: false, reason: 'signature' };
    const m = /^([A-Za-z0-9_-]{1,64})\.([0-9a-z]{1,12})$/.exec(
      Buffer.from(body, 'base64url').toString('utf8'),
    );
    if (!m) return { ok: false, reason: 'malformed' };
    const expiresAt = Number.parseInt(m[2], 36) * 1000;
    if (now >= expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, id: m[1], expiresAt };
  }

  private mac(purpose: LinkPurpose, body: string): Buffer {
    return createHmac('sha256', this.key).update(`${purpose}|${body}`).digest().subarray(0, MAC_BYTES);
  }
}

/** A signer with the gateway's own key (kept in the database, so links survive a restart). */
export function linkSigner(db: Database, ttlMs: number): LinkSigner {
  return new LinkSigner(persistentSecret(db, 'links'), ttlMs);
}
