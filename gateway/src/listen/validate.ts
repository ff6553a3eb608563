import type { Scalar } from '../../../rules/src/model.js';
import type { FieldSpec, KindSpec } from '../site/kinds.js';

// Payload validation on the hot path (50k msg/s): each kind is compiled once into a flat list of
// field checks; no schema library, no allocation but the output object.

export const REJECT_REASONS = [
  'malformed_json',
  'not_an_object',
  'wrong_type',
  'missing_field',
  'out_of_range',
  'too_large',
  'unknown_device',
  'wrong_site',
  'kind_mismatch',
  'bad_topic',
  'bad_ts',
  'bad_status',
  'unmapped_topic',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Validated {
  values: Record<string, Scalar>;
  ts?: number;
  battery?: number;
}

/** Returns the validated fields, or why the payload is refused. */
export type Checker = (obj: Readonly<Record<string, unknown>>) => Validated | RejectReason;

/** Strings without a declared maxLength are still bounded: they end up in memory, logs and SQLite. */
export const DEFAULT_MAX_STRING = 256;
/** Date's own range ([ECMA-262 21.4.1.22]): anything beyond is not a time. */
const MAX_TS = 8.64e15;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

interface CompiledField {
  name: string;
  type: FieldSpec['type'];
  required: boolean;
  min: number;
  max: number;
  maxLength: number;
}

export function compileKind(kind: KindSpec): Checker {
  const fields: CompiledField[] = Object.entries(kind.fields).map(([name, f]) => ({
    name,
    type: f.type,
    required: f.required === true,
    min: f.min ?? -Infinity,
    max: f.max ?? Infinity,
    maxLength: f.maxLength ?? DEFAULT_MAX_STRING,
  }));
  const n = fields.length;
  return (obj) => {
    const values: Record<string, Scalar> = {};
    for (let i = 0; i < n; i++) {
      const f = fields[i];
      // Own properties only: a payload key named like an Object.prototype member must not leak in.
      const v = Object.hasOwn(obj, f.name) ? obj[f.name] : undefined;
      if (v === undefined || v === null) {
        if (f.required) return 'missing_field';
        continue;
      }
      if (f.type === 'number') {
        if (typeof v !== 'number') return 'wrong_type';
        if (!Number.isFinite(v) || v < f.min || v > f.max) return 'out_of_range';
      } else if (f.type === 'boolean') {
        if (typeof v !== 'boolean') return 'wrong_type';
      } else {
        if (typeof v !== 'string') return 'wrong_type';
        if (v.length > f.maxLength) return 'out_of_range';
      }
      values[f.name] = v;
    }
    const out: Validated = { values };
    if (Object.hasOwn(obj, 'ts') && obj.ts !== null) {
      const ts = parseTs(obj.ts);
      if (ts === undefined) return 'bad_ts';
      out.ts = ts;
    }
    if (Object.hasOwn(obj, 'battery') && obj.battery !== null) {
      const b = obj.battery;
      if (typeof b !== 'number') return 'wrong_type';
      if (!(b >= 0 && b <= 100)) return 'out_of_range';
      out.battery = b;
    }
    return out;
  };
}

/** Epoch milliseconds or ISO 8601 text; undefined when neither. */
export function parseTs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 && v <= MAX_TS ? Math.round(v) : undefined;
  if (typeof v !== 'string' || v.length > 40 || !ISO_8601.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
export const MALFORMED: unique symbol = Symbol('malformed');

/** Strict UTF-8 then JSON; MALFORMED for anything else (never throws). */
export function decodeJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(payload));
  } catch {
    return MALFORMED;
  }
}

/** Strict UTF-8 text, or undefined. */
export function decodeText(payload: Uint8Array): string | undefined {
  try {
    return utf8.decode(payload);
  } catch {
    return undefined;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
