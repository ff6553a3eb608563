// Text mode SMS with AT+CSCS="GSM" (3GPP TS 27.005 §3.1, TS 23.038 §6.2.1): every byte written
// between the `> ` prompt and Ctrl-Z is one septet of the GSM 7-bit default alphabet, and the modem
// shows received text the same way. The alphabet is not ASCII: '@' is 0x00, '$' is 0x02, '_' is 0x11,
// and the ASCII codes of [ \ ] ^ { | } ~ ` stand for other letters (Ä Ö Ñ Ü ä ö ñ ü ¿).

/** TS 23.038 default alphabet, by code. 0x1B is the escape to the extension table. */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Extension table (after 0x1B): only decoded; sending it would need an ESC, which aborts text mode. */
const EXTENSION: Record<number, string> = {
  0x0a: '\f',
  0x14: '^',
  0x28: '{',
  0x29: '}',
  0x2f: '\\',
  0x3c: '[',
  0x3d: '~',
  0x3e: ']',
  0x40: '|',
  0x65: '€',
};

/** Text-mode SMS limit for one message (160 septets); longer text is cut, never split. */
export const MAX_SMS_CHARS = 160;

const CODE = new Map<string, number>([...BASIC].map((c, i) => [c, i]));
// Ctrl-Z ends the text and ESC cancels it (TS 27.005 §3.5.1): their letters cannot be written.
CODE.delete('Ξ');
CODE.delete('\x1b');

/** Look-alikes for what the alphabet lacks and accent stripping cannot fix. */
const SUBSTITUTES: Record<string, string> = {
  '[': '(',
  ']': ')',
  '{': '(',
  '}': ')',
  '\\': '/',
  '|': '/',
  '~': '-',
  '`': "'",
  '‘': "'",
  '’': "'",
  '‚': ',',
  '“': '"',
  '”': '"',
  '„': '"',
  '«': '"',
  '»': '"',
  '–': '-',
  '—': '-',
  '−': '-',
  '…': '...',
  '€': 'EUR',
  '°': 'o',
  œ: 'oe',
  Œ: 'OE',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  '\t': ' ',
  '\u00a0': ' ',
  '\u202f': ' ',
};

function toAlphabet(ch: string): string {
  if (CODE.has(ch)) return ch;
  const sub = SUBSTITUTES[ch];
  if (sub !== undefined) return sub;
  // ê -> e, ç -> c, Ô -> O: the base letter when the alphabet lacks the accented one.
  const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  if (base.length > 0 && [...base].every((c) => CODE.has(c))) return base;
  return '?';
}

/**
 * `text` in letters the default alphabet has (look-alikes or '?' for the others), line breaks as LF,
 * cut to `max` characters ending in '...' (the alphabet has no '…').
 */
export function toGsmText(text: string, max = MAX_SMS_CHARS): string {
  let out = '';
  // CR inside the text makes a modem prompt again (TS 27.005 §3.5.1): LF alone breaks the line.
  for (const ch of text.replace(/\r\n?/g, '\n')) out += toAlphabet(ch);
  return out.length > max ? out.slice(0, max - 3) + '...' : out;
}

/** The bytes to write after the `> ` prompt; letters outside the alphabet become '?'. */
export function encodeGsm(text: string): Buffer {
  const bytes: number[] = [];
  for (const ch of text) bytes.push(CODE.get(ch) ?? 0x3f);
  return Buffer.from(bytes);
}

/**
 * Text the modem showed (read as latin1, one char per byte) back to Unicode. Bytes above 0x7F do not
 * exist in the alphabet: a modem that ignores CSCS and sends Latin-1 keeps them as they are.
 */
export function decodeGsm(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0x1b && i + 1 < raw.length) {
      const ext = EXTENSION[raw.charCodeAt(i + 1)];
      if (ext !== undefined) {
        out += ext;
        i++;
        continue;
      }
    }
    out += code < 0x80 ? BASIC[code] : raw[i];
  }
  return out;
}
