// What a person means by the SMS they send back. Kept forgiving: at 3 a.m. people type "ok",
// "Ack 4821", "1." or "oui"; anything else is not guessed at.

export interface ReplyIntent {
  action: 'acknowledge' | 'escalate';
  /** The incident's acknowledgement code when they gave one. */
  code?: string;
}

const ACK_WORDS = new Set(['1', 'ACK', 'OK', 'YES', 'Y', 'OUI', 'O', 'ACCEPT', 'ACQ', 'ACQUITTER', 'VU']);
const ESCALATE_WORDS = new Set(['2', 'ESC', 'ESCALATE', 'ESCALADE', 'ESCALADER']);

export function parseReply(text: string): ReplyIntent | undefined {
  const clean = text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
  if (clean === '') return undefined;
  // "ACK4821" typed without the space.
  const m = /^([A-Z]+|[12])\s*(\d{4,5})?$/.exec(clean) ?? /^(\d{4,5})$/.exec(clean);
  if (!m) return undefined;
  if (m.length === 2) {
    // A bare code is an acknowledgement of that incident.
    return { action: 'acknowledge', code: m[1] };
  }
  const [, word, code] = m;
  const action = ACK_WORDS.has(word) ? 'acknowledge' : ESCALATE_WORDS.has(word) ? 'escalate' : undefined;
  if (!action) return undefined;
  return code ? { action, code } : { action };
}

/** Phone numbers as people write them in the site file ("+33 6 12 34 56 78") compared with E.164. */
export function samePhone(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/[\s().-]/g, '');
  return norm(a) === norm(b);
}
