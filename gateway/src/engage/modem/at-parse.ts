// What a modem prints, turned into values: lines, final result codes (ITU-T V.250 §5.7.1,
// 3GPP TS 27.007 §9.2 +CME ERROR, TS 27.005 §3.2.5 +CMS ERROR), unsolicited result codes, and the
// text-mode SMS listings (+CMTI, +CMGR, +CMGL; TS 27.005 §3.4 and §4).

import { decodeGsm } from './gsm-text.js';

/**
 * Cuts the byte stream (read as latin1: one char per byte, so GSM codes survive) into lines. A modem
 * frames its answers as <CR><LF>text<CR><LF> and echoes commands ending in <CR> alone, so any run of
 * CR and LF ends a line. The SMS prompt `> ` has no line end: it stays in `partial`.
 */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split(/\r|\n/);
    this.rest = parts.pop() ?? '';
    return parts.filter((l) => l.trim().length > 0);
  }

  get partial(): string {
    return this.rest;
  }

  clear(): void {
    this.rest = '';
  }
}

export type FinalResult = { ok: true } | { ok: false; text: string };

/** The line that ends a command's answer, or undefined for an information line. */
export function finalResult(line: string): FinalResult | undefined {
  const l = line.trim();
  if (l === 'OK') return { ok: true };
  if (l === 'ERROR' || /^\+CM[ES] ERROR:/.test(l)) return { ok: false, text: l };
  return undefined;
}

/** The prompt for the SMS text (TS 27.005 §3.5.1: <CR><LF><greater_than><space>). */
export function isPrompt(partial: string): boolean {
  return /^ *> ?$/.test(partial);
}

// Unsolicited result codes a modem may print at any time, even in the middle of another command's
// answer. Boot chatter (RDY, SMS Ready...) comes from SIMCom and Quectel modules.
const UNSOLICITED = [
  /^\+CMTI: /,
  /^\+CDSI: /,
  /^\+CMT: /,
  /^\+CBM: /,
  /^\+CDS: /,
  /^RING$/,
  /^\+CRING: /,
  /^\+CLIP: /,
  /^NO CARRIER$/,
  /^\+C(G|E)?REG: /,
  /^\+CUSD: /,
  /^\+CIEV: /,
  /^\+CPIN: /,
  /^\+CFUN: /,
  /^\+QIND: /,
  /^\^[A-Z]+:/,
  /^(RDY|SMS Ready|Call Ready|PB DONE|SMS DONE)$/,
];

/**
 * Whether `line` is an unsolicited result code. `answerPrefix` is what the running command answers
 * with (`+CPIN:` for AT+CPIN?): such a line belongs to the command even when the same code also comes
 * unsolicited.
 */
export function isUnsolicited(line: string, answerPrefix?: string): boolean {
  if (answerPrefix && line.startsWith(answerPrefix)) return false;
  return UNSOLICITED.some((re) => re.test(line));
}

/** Splits `a,"b,c",,d` into its fields, quotes removed (TS 27.007 §4.1 string parameters). */
export function splitFields(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** `+CMTI: "SM",3` -> the storage and index of a new message. */
export function parseCmti(line: string): { storage: string; index: number } | undefined {
  const m = /^\+CMTI:\s*"([^"]*)",\s*(\d+)\s*$/.exec(line.trim());
  return m ? { storage: m[1], index: Number(m[2]) } : undefined;
}

export interface StoredSms {
  /** Slot in the modem's storage (AT+CMGR/AT+CMGD argument). */
  index: number;
  /** `REC UNREAD`, `REC READ`, `STO UNSENT`, `STO SENT`. */
  status: string;
  /** Sender (received) or recipient (stored) as the modem shows it: E.164 when the network gave one. */
  number: string;
  /** Service centre time stamp as sent (`26/11/23,10:00:00+04`); absent for stored messages. */
  timestamp?: string;
  /** The text, GSM alphabet decoded; lines joined with LF. */
  text: string;
}

function fromHeader(index: number, fields: string[], textLines: string[]): StoredSms {
  const [status = '', number = '', , timestamp] = fields;
  return {
    index,
    status,
    number: decodeGsm(number),
    ...(timestamp ? { timestamp } : {}),
    text: textLines.map(decodeGsm).join('\n'),
  };
}

/**
 * The answer to AT+CMGR=<index> in text mode, without the final OK:
 * `+CMGR: <stat>,<oa>,[<alpha>],<scts>[,...]` then the text line(s). Undefined when empty.
 */
export function parseCmgr(index: number, lines: readonly string[]): StoredSms | undefined {
  const at = lines.findIndex((l) => l.startsWith('+CMGR:'));
  if (at < 0) return undefined;
  return fromHeader(index, splitFields(lines[at].slice('+CMGR:'.length)), lines.slice(at + 1));
}

/**
 * The answer to AT+CMGL=<stat>: per message `+CMGL: <index>,<stat>,<oa/da>,[<alpha>],[<scts>]...`
 * then its text line(s), up to the next +CMGL header.
 */
export function parseCmgl(lines: readonly string[]): StoredSms[] {
  const out: StoredSms[] = [];
  let head: string[] | undefined;
  let text: string[] = [];
  const flush = () => {
    if (head) out.push(fromHeader(Number(head[0]), head.slice(1), text));
  };
  for (const line of lines) {
    if (line.startsWith('+CMGL:')) {
      flush();
      head = splitFields(line.slice('+CMGL:'.length));
      text = [];
    } else if (head) text.push(line);
  }
  flush();
  return out.filter((m) => Number.isInteger(m.index));
}

/**
 * The service centre time stamp (`yy/MM/dd,hh:mm:ss±zz`, zone in quarters of an hour; TS 23.040
 * §9.2.3.11) as ISO 8601, or undefined when it has another shape.
 */
export function sctsToIso(scts: string): string | undefined {
  const m = /^(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-])(\d\d?)$/.exec(scts.trim());
  if (!m) return undefined;
  const [, yy, mo, dd, hh, mi, ss, sign, q] = m;
  const zone = Number(q) * 15;
  const zh = String(Math.floor(zone / 60)).padStart(2, '0');
  const zm = String(zone % 60).padStart(2, '0');
  return `20${yy}-${mo}-${dd}T${hh}:${mi}:${ss}${sign}${zh}:${zm}`;
}
