import { wallParts } from '../wall-clock.js';
import { instantOf } from '../../route/oncall.js';

// Times in a rule test are offsets from the test's start (`30s`, `2m`), because that is how rules
// are written; failures also show the wall-clock time in the site's zone, because schedules,
// on-call turns and quiet hours are decided by it.

const ABSOLUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The instant of a test's `start`: ISO 8601 with an offset (`2026-11-24T14:00:00+01:00`, `...Z`),
 * or a wall-clock time without one (`2026-11-24T14:00`), read in the site's time zone.
 */
export function resolveStart(text: string, timeZone: string): number | undefined {
  if (ABSOLUTE.test(text)) {
    const t = Date.parse(text);
    return Number.isFinite(t) ? t : undefined;
  }
  const m = LOCAL.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s = 0] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(local);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    return undefined;
  return instantOf(local, timeZone);
}

const UNITS: readonly [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'm'],
  [1000, 's'],
  [1, 'ms'],
];

/** `+1m30s`, `+0s`, `-5s`: an offset as a test file would write it. */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  let rest = Math.abs(Math.round(ms));
  if (rest === 0) return '+0s';
  let out = '';
  for (const [size, unit] of UNITS) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return sign + out;
}

/** `2026-11-24 14:01:00 +01:00`: the instant in the site's zone, with its offset. */
export function formatInstant(t: number, timeZone: string): string {
  const p = wallParts(t, timeZone);
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  const offsetMin = Math.round((wall - (t - (((t % 1000) + 1000) % 1000))) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const offset = `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  const ms = t % 1000 === 0 ? '' : `.${String(((t % 1000) + 1000) % 1000).padStart(3, '0')}`;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}${ms} ${offset}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A time as failures show it: `+1m (2026-11-24 14:01:00 +01:00)`. */
export function formatAt(t: number, start: number, timeZone: string): string {
  return `${formatOffset(t - start)} (${formatInstant(t, timeZone)})`;
}
