import type { CustomerRecord } from './crm.js';
import { isEmail, latitudeOk, longitudeOk, normalisePhone, parseDecimal } from './normalise.js';

/*
 * From a record of the site's CRM to our CustomerRecord. `crm.fields` says where each of our fields
 * is, as a dot path (`contact.mobile`, `phones.0`); a field not mapped is read under its own name.
 * - `location.lat` / `location.lon` are paths in the record (default: `<location path>.lat`/`.lon`);
 * - `assets.serial|model|deviceId` and `history.at|summary|ref` are paths inside each element of the
 *   list found at `assets` / `history`; an asset list may also be plain serials.
 * Values that do not fit (a national phone number, a latitude of 200) are left out rather than
 * failing the lookup: only a record without id or name is unusable.
 */

export const CRM_FIELDS = [
  'id',
  'name',
  'phone',
  'email',
  'language',
  'address',
  'location',
  'location.lat',
  'location.lon',
  'area',
  'contract',
  'value',
  'assets',
  'assets.serial',
  'assets.model',
  'assets.deviceId',
  'history',
  'history.at',
  'history.summary',
  'history.ref',
] as const;

type Asset = NonNullable<CustomerRecord['assets']>[number];
type HistoryEntry = NonNullable<CustomerRecord['history']>[number];
type FieldMap = Readonly<Record<string, string>>;

/** Problems with a `crm.fields` map (unknown field names, empty paths). */
export function fieldMapProblems(fields: FieldMap): string[] {
  const known: readonly string[] = CRM_FIELDS;
  return Object.entries(fields).flatMap(([field, path]) => {
    if (!known.includes(field))
      return [`crm.fields: unknown field "${field}" (known: ${CRM_FIELDS.join(', ')})`];
    if (path.trim() === '') return [`crm.fields.${field}: empty path`];
    return [];
  });
}

/** The value at a dot path; only own properties, so `constructor` or `__proto__` find nothing. */
export function getPath(value: unknown, path: string): unknown {
  let cur = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The customer, or why this record cannot be one. */
export function mapCustomer(item: unknown, fields: FieldMap): CustomerRecord | { error: string } {
  const path = (f: string) => fields[f] ?? f;
  const at = (f: string) => getPath(item, path(f));
  const id = text(at('id'));
  if (id === undefined) return { error: `the CRM record has no id (looked at "${path('id')}")` };
  const name = text(at('name'));
  if (name === undefined) return { error: `the CRM record ${id} has no name (looked at "${path('name')}")` };
  const c: CustomerRecord = { id, name, source: 'rest' };

  const phone = text(at('phone'));
  const e164 = phone === undefined ? undefined : normalisePhone(phone);
  if (e164) c.phone = e164;
  const email = text(at('email'));
  if (email !== undefined && isEmail(email)) c.email = email;
  // `fr-FR` -> `fr`: message templates are per language, not per region.
  const language = text(at('language'))?.toLowerCase().split(/[-_]/)[0];
  if (language) c.language = language;
  for (const key of ['address', 'area', 'contract'] as const) {
    const v = text(at(key));
    if (v !== undefined) c[key] = v;
  }
  const value = num(at('value'));
  if (value !== undefined) c.value = value;

  const lat = num(getPath(item, fields['location.lat'] ?? `${path('location')}.lat`));
  const lon = num(getPath(item, fields['location.lon'] ?? `${path('location')}.lon`));
  if (lat !== undefined && lon !== undefined && latitudeOk(lat) && longitudeOk(lon))
    c.location = { lat, lon };

  const assets = list(at('assets'), (el) => asset(el, fields));
  if (assets.length > 0) c.assets = assets;
  const history = list(at('history'), (el) => historyEntry(el, fields));
  if (history.length > 0) c.history = history;
  return c;
}

function asset(el: unknown, fields: FieldMap): Asset | undefined {
  const plain = text(el);
  if (plain !== undefined) return { serial: plain };
  const serial = text(getPath(el, fields['assets.serial'] ?? 'serial'));
  if (serial === undefined) return undefined;
  const a: Asset = { serial };
  const model = text(getPath(el, fields['assets.model'] ?? 'model'));
  if (model !== undefined) a.model = model;
  const deviceId = text(getPath(el, fields['assets.deviceId'] ?? 'deviceId'));
  if (deviceId !== undefined) a.deviceId = deviceId;
  return a;
}

function historyEntry(el: unknown, fields: FieldMap): HistoryEntry | undefined {
  const when = getPath(el, fields['history.at'] ?? 'at');
  const at = typeof when === 'string' && parseDecimal(when) === undefined ? Date.parse(when) : num(when);
  const summary = text(getPath(el, fields['history.summary'] ?? 'summary'));
  if (at === undefined || !Number.isFinite(at) || summary === undefined) return undefined;
  const h: HistoryEntry = { at, summary };
  const ref = text(getPath(el, fields['history.ref'] ?? 'ref'));
  if (ref !== undefined) h.ref = ref;
  return h;
}

function list<T>(v: unknown, one: (el: unknown) => T | undefined): T[] {
  if (!Array.isArray(v)) return [];
  return v.map(one).filter((x): x is T => x !== undefined);
}

function text(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  return typeof v === 'string' ? parseDecimal(v) : undefined;
}
