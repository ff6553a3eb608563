import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// Passwords are stored as `scrypt$N$r$p$saltB64$keyB64` (32-byte key). The async scrypt runs on the
// libuv pool: the sync one would stall every device on the broker for ~50 ms per login.

export const HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

const KEY_BYTES = 32;
const DEFAULT = { N: 16384, r: 8, p: 1 };

export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** Parses a stored hash; undefined when it is not in our format or its parameters are unsafe. */
export function parseHash(hash: string): ParsedHash | undefined {
  const m = HASH_PATTERN.exec(hash);
  if (!m) return undefined;
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  // N must be a power of two; the bounds keep one login under a few hundred ms and 256 MB.
  if (N < 1024 || N > 1_048_576 || (N & (N - 1)) !== 0) return undefined;
  if (r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4], 'base64');
  const key = Buffer.from(m[5], 'base64');
  if (salt.length < 8 || key.length !== KEY_BYTES) return undefined;
  return { N, r, p, salt, key };
}

function derive(password: string, salt: Buffer, o: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + 1_048_576 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, DEFAULT);
  return `scrypt$${DEFAULT.N}$${DEFAULT.r}$${DEFAULT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

// A reconnect storm (every device after a Wi-Fi outage) would otherwise cost one scrypt per login.
// Only successes are cached, keyed by a digest so the cache never holds a password in clear.
const CACHE_MAX = 4096;
const verified = new Set<string>();

function cacheKey(password: string, hash: string): string {
  return createHash('sha256').update(hash).update('\u0000').update(password).digest('base64');
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const key = cacheKey(password, hash);
  if (verified.has(key)) return true;
  const parsed = parseHash(hash);
  if (!parsed) return false;
  let derived: Buffer;
  try {
    derived = await derive(password, parsed.salt, parsed);
  } catch {
    return false;
  }
  const ok = timingSafeEqual(derived, parsed.key);
  if (ok) {
    if (verified.size >= CACHE_MAX) verified.delete(verified.values().next().value as string);
    verified.add(key);
  }
  return ok;
}
