import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A short id that sorts by creation time: `prefix` + 9 base-36 digits of epoch ms (enough until
 * the year 5188) + 6 random base-36 characters (36^6 ≈ 2·10^9 per millisecond).
 */
export function newId(prefix: string, at: number): string {
  const time = Math.max(0, Math.floor(at)).toString(36).padStart(9, '0');
  const bytes = randomBytes(6);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 36];
  return `${prefix}${time}${rand}`;
}
