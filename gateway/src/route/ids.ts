import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A short id that sorts by creation time: `prefix` + 9 base-36 digits of epoch ms (enough until
 * the year 5188) + 6 random base-36 characters (36^6 ≈ 2·10^9 per millisecond).
 */
export function newId(prefix: string, at: number): string {
  const time = Math.max(0, Math.floor(at)).toString(36).padStart(9, '0');
  let rand = '';
  for (let i = 0; i < 6; i++) rand += ALPHABET[nextRandomByte() % 36];
  return `${prefix}${time}${rand}`;
}

// One randomBytes call per 4 KiB instead of one per id: ids are minted on the hot path.
let pool = Buffer.alloc(0);
let offset = 0;
function nextRandomByte(): number {
  if (offset >= pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  return pool[offset++];
}
