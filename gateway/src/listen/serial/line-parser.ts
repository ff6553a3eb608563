import type { Scalar } from '../../../../rules/src/model.js';
import type { FieldType, KindSpec } from '../../site/kinds.js';
import type { Device, SerialLine } from '../../site/model.js';
import type { LocalReading } from '../local/model.js';
import { isPlainObject, parseTs } from '../validate.js';

/*
 * Text-line sensors: bytes -> records (LineFramer) -> readings (compileRecordParser). Pure: no I/O,
 * no clock. A sensor that powers up, a loose RS-485 pair or a baud-rate mismatch all produce bytes
 * that are not text: those records are refused as `garbage` and the line goes on at the next
 * delimiter, the way a terminal recovers.
 */

export const RECORD_REFUSALS = [
  'malformed',
  'no_match',
  'unknown_device',
  'bad_value',
  'too_long',
  'garbage',
] as const;
export type RecordRefusal = (typeof RECORD_REFUSALS)[number];

export type Refused = { ok: false; reason: RecordRefusal; detail: string };
export type Frame = { ok: true; text: string } | (Refused & { reason: 'too_long' | 'garbage' });
export type RecordResult = { ok: true; reading: LocalReading } | Refused;

const utf8 = new TextDecoder('utf-8', { fatal: true });
// C0 controls but TAB, DEL and C1 controls: no sensor prints them; line noise does.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
const CR = 0x0d;
const LF = 0x0a;

/** Cuts the byte stream into records at the line's delimiter. */
export class LineFramer {
  private readonly delimiter: Buffer;
  private pending = Buffer.alloc(0);
  /** A record past the limit: its bytes are dropped up to the next delimiter. */
  private discarding = false;

  constructor(private readonly o: { delimiter: string; maxLineBytes: number }) {
    this.delimiter = Buffer.from(o.delimiter, 'utf8');
  }

  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const at = buf.indexOf(this.delimiter);
      if (at < 0) break;
      const record = buf.subarray(0, at);
      buf = buf.subarray(at + this.delimiter.length);
      if (this.discarding) this.discarding = false;
      else this.frame(record, out);
    }
    // Room for a trailing CR and a delimiter cut in two by the chunking.
    const limit = this.o.maxLineBytes + this.delimiter.length;
    if (!this.discarding && buf.length > limit) {
      this.discarding = true;
      out.push(tooLong(buf.length, this.o.maxLineBytes));
    }
    // While discarding, only a possible start of the delimiter is worth keeping.
    if (this.discarding) buf = buf.subarray(Math.max(0, buf.length - (this.delimiter.length - 1)));
    this.pending = Buffer.from(buf);
    return out;
  }

  /** The port closed: half a record from before is not the start of the next one. */
  reset(): void {
    this.pending = Buffer.alloc(0);
    this.discarding = false;
  }

  private frame(record: Buffer, out: Frame[]): void {
    // CRLF, LFCR or a lone CR around the delimiter: line endings, not content.
    let start = 0;
    let end = record.length;
    while (start < end && (record[start] === CR || record[start] === LF)) start++;
    while (end > start && (record[end - 1] === CR || record[end - 1] === LF)) end--;
    record = record.subarray(start, end);
    // Blank lines (CRLF CRLF, a keep-alive) carry nothing: not a record.
    if (record.length === 0) return;
    if (record.length > this.o.maxLineBytes) {
      out.push(tooLong(record.length, this.o.maxLineBytes));
      return;
    }
    let text: string;
    try {
      text = utf8.decode(record);
    } catch {
      out.push({ ok: false, reason: 'garbage', detail: `not UTF-8 text: ${hexHead(record)}` });
      return;
    }
    if (CONTROL.test(text)) {
      out.push({ ok: false, reason: 'garbage', detail: `control characters: ${hexHead(record)}` });
      return;
    }
    out.push({ ok: true, text });
  }
}

function tooLong(bytes: number, max: number): Frame {
  return { ok: false, reason: 'too_long', detail: `more than ${max} bytes without a delimiter (${bytes})` };
}

function hexHead(b: Buffer): string {
  return b.subarray(0, 16).toString('hex') + (b.length > 16 ? '...' : '');
}

interface Target {
  id: string;
  fields: Readonly<Record<string, { type: FieldType }>>;
  fixed: Readonly<Record<string, Scalar>>;
}

/**
 * Compiles the line's record format for the devices on it: text record -> reading of one device,
 * values in the kind's types. Ranges and required fields are left to the listen stage, which checks
 * every reading against the kind like any MQTT payload.
 */
export function compileRecordParser(
  line: SerialLine,
  devices: readonly Device[],
  kinds: Readonly<Record<string, KindSpec>>,
): (text: string) => RecordResult {
  const byMatch = new Map<string, Target>();
  for (const d of devices) {
    if (!d.line) continue;
    const kind = Object.hasOwn(kinds, d.kind) ? kinds[d.kind] : { fields: {} };
    byMatch.set(d.line.match, { id: d.id, fields: kind.fields, fixed: d.line.fixed });
  }
  const only = byMatch.size === 1 ? [...byMatch.values()][0] : undefined;
  const deviceField = line.deviceField;
  const regex = line.format === 'regex' && line.regex ? new RegExp(line.regex) : undefined;

  const find = (raw: Record<string, unknown>): Target | Refused => {
    if (deviceField === undefined) {
      return only ?? { ok: false, reason: 'unknown_device', detail: 'no device on this line' };
    }
    const v = Object.hasOwn(raw, deviceField) ? raw[deviceField] : undefined;
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      return { ok: false, reason: 'unknown_device', detail: `the record has no "${deviceField}"` };
    }
    const target = byMatch.get(String(v));
    return target ?? { ok: false, reason: 'unknown_device', detail: `no device "${clip(String(v))}"` };
  };

  return (text) => {
    let raw: Record<string, unknown>;
    if (regex) {
      const m = regex.exec(text);
      if (!m) return { ok: false, reason: 'no_match', detail: `does not match: ${clip(text)}` };
      raw = m.groups ?? {};
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { ok: false, reason: 'malformed', detail: `not JSON: ${clip(text)}` };
      }
      if (!isPlainObject(parsed)) return { ok: false, reason: 'malformed', detail: 'not a JSON object' };
      raw = parsed;
    }
    const target = find(raw);
    if ('ok' in target) return target;
    const values: Record<string, Scalar> = {};
    for (const [name, spec] of Object.entries(target.fields)) {
      const v = Object.hasOwn(raw, name) ? raw[name] : undefined;
      // An optional regex group that did not take part, or a JSON null: the field is not in the record.
      if (v === undefined || v === null) continue;
      const converted = convert(v, spec.type);
      if (converted === undefined) {
        return { ok: false, reason: 'bad_value', detail: `${name}: ${clip(show(v))} is not a ${spec.type}` };
      }
      values[name] = converted;
    }
    for (const [name, v] of Object.entries(target.fixed)) if (!Object.hasOwn(values, name)) values[name] = v;
    const reading: LocalReading = { deviceId: target.id, values };
    if (Object.hasOwn(raw, 'ts') && raw.ts !== undefined && raw.ts !== null) {
      const ts = parseTs(typeof raw.ts === 'string' && /^\d+$/.test(raw.ts) ? Number(raw.ts) : raw.ts);
      if (ts === undefined) {
        return { ok: false, reason: 'bad_value', detail: `ts: ${clip(show(raw.ts))} is not a time` };
      }
      reading.ts = ts;
    }
    return { ok: true, reading };
  };
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE = new Set(['true', '1', 'on']);
const FALSE = new Set(['false', '0', 'off']);

/** A record value in the field's type, or undefined when it is not one. */
export function convert(v: unknown, type: FieldType): Scalar | undefined {
  if (type === 'number') {
    if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
    if (typeof v !== 'string' || !NUMBER.test(v.trim())) return undefined;
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  if (type === 'boolean') {
    if (typeof v === 'boolean') return v;
    const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim().toLowerCase() : '';
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
    return undefined;
  }
  // Sensors print codes as numbers ("code": 42) as often as strings.
  if (typeof v === 'string') return v;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
  return undefined;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
}

/** Record text ends up in logs: bounded. */
function clip(s: string): string {
  return s.length > 80 ? s.slice(0, 80) + '...' : s;
}
