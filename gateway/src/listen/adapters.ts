import type { AdapterSpec, FieldMapping } from '../site/model.js';
import { decodeJson, decodeText, isPlainObject, MALFORMED, type RejectReason } from './validate.js';

// Foreign payloads (Zigbee2MQTT, Tasmota, Shelly...) are turned into the native field object here,
// then go through the same kind validation as native ones.

export type Adapt = (payload: Uint8Array) => Record<string, unknown> | RejectReason;

interface CompiledMapping {
  field: string;
  path: readonly string[];
  invert: boolean;
  scale: number | undefined;
  offset: number | undefined;
  map: ReadonlyMap<string, string | number | boolean> | undefined;
}

export function compileAdapter(spec: AdapterSpec): Adapt {
  const mappings: CompiledMapping[] = Object.entries(spec.fields).map(([field, m]) =>
    compileMapping(field, m),
  );
  if (spec.format === 'text') {
    return (payload) => {
      const text = decodeText(payload);
      if (text === undefined) return 'malformed_json';
      return apply(mappings, text.trim(), true);
    };
  }
  return (payload) => {
    const root = decodeJson(payload);
    if (root === MALFORMED) return 'malformed_json';
    if (!isPlainObject(root) && mappings.some((m) => m.path.length > 0)) return 'not_an_object';
    return apply(mappings, root, false);
  };
}

function compileMapping(field: string, m: FieldMapping): CompiledMapping {
  return {
    field,
    path: m.from === '$' ? [] : m.from.split('.'),
    invert: m.invert === true,
    scale: m.scale,
    offset: m.offset,
    map: m.map ? new Map(Object.entries(m.map)) : undefined,
  };
}

function apply(mappings: readonly CompiledMapping[], root: unknown, text: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of mappings) {
    let v = resolve(root, m.path, 0);
    if (v === undefined) continue;
    if (m.map) {
      const hit = typeof v === 'object' ? undefined : m.map.get(String(v));
      if (hit !== undefined) v = hit;
      else if (text) continue;
    } else if (text && typeof v === 'string') v = coerce(v);
    if (m.invert && typeof v === 'boolean') v = !v;
    if (typeof v === 'number' && (m.scale !== undefined || m.offset !== undefined))
      v = v * (m.scale ?? 1) + (m.offset ?? 0);
    out[m.field] = v;
  }
  return out;
}

/** Bare text values: numbers and booleans as such, anything else stays text. */
function coerce(s: string): unknown {
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s !== '' && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(s)) return Number(s);
  return s;
}

/** Own properties only (never walks into the prototype chain); `*` takes the first key that fits. */
function resolve(v: unknown, path: readonly string[], i: number): unknown {
  if (i === path.length) return v;
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const key = path[i];
  if (key === '*') {
    for (const k of Object.keys(o)) {
      const r = resolve(o[k], path, i + 1);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  return Object.hasOwn(o, key) ? resolve(o[key], path, i + 1) : undefined;
}
