// Field checks shared by the CSV import and the REST adapter, so both sources give the route stage
// the same shapes (a phone the SMS channel accepts, a location the dispatcher can measure from).

/** E.164: `+`, country code, at most 15 digits (ITU-T E.164 §6.1). */
const E164 = /^\+[1-9]\d{6,14}$/;
const TRUNK_PREFIX = /\(0\)/g;
const PHONE_DECORATION = /[\s.\-()]/g;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)$/;

/**
 * `+33 6 12.34-56 (78)` -> `+33612345678`; `0033...` -> `+33...`. Undefined when what is left is
 * not an international number: a national number (`06...`) cannot be dialled from every channel.
 */
export function normalisePhone(raw: string): string | undefined {
  // `+33 (0)6...`: the bracketed trunk prefix is dialled only from inside the country.
  let p = raw.replace(TRUNK_PREFIX, '').replace(PHONE_DECORATION, '');
  if (p.startsWith('00')) p = '+' + p.slice(2);
  return E164.test(p) ? p : undefined;
}

export function isEmail(s: string): boolean {
  return EMAIL.test(s);
}

/** A plain decimal number (`12`, `-0.5`, `1200.50`); not `1e3`, `0x10` nor an empty string. */
export function parseDecimal(s: string): number | undefined {
  const t = s.trim();
  return DECIMAL.test(t) ? Number(t) : undefined;
}

export function latitudeOk(n: number): boolean {
  return Number.isFinite(n) && n >= -90 && n <= 90;
}

export function longitudeOk(n: number): boolean {
  return Number.isFinite(n) && n >= -180 && n <= 180;
}
