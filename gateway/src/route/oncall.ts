import { localTime } from '../../../rules/src/schedule.js';
import { parseLocalDateTime } from '../site/schema.js';
import type { OnCallSchedule, QuietHours } from '../site/model.js';

// Who is on call, and whether someone is in quiet hours, at an instant. Pure: time is passed in.
//
// A rotation counts in wall-clock time of its zone, so a hand-over written at 08:00 stays at 08:00
// across a clock change and `1d` is a calendar day (23 or 25 h on the change days), not 24 h. Intl
// gives the zone offsets; no date library is needed.

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time of instant `t` in zone `tz`, as epoch ms of the same fields read as UTC. */
function wallClock(t: number, tz: string): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(t)) p[part.type] = Number(part.value);
  const ms = ((t % 1000) + 1000) % 1000;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + ms;
}

/**
 * The instant a wall-clock time happens in `tz`. Like Temporal's "compatible" choice: a time that
 * happens twice (clocks going back) is the first one, a time skipped (clocks going forward) is moved
 * forward by the size of the gap (02:30 on a spring-forward night in Paris is 03:30).
 */
export function instantOf(local: number, tz: string): number {
  const before = local - (wallClock(local - DAY_MS, tz) - (local - DAY_MS));
  const after = local - (wallClock(local + DAY_MS, tz) - (local + DAY_MS));
  const fits = (t: number) => wallClock(t, tz) === local;
  if (fits(before) && fits(after)) return Math.min(before, after);
  if (fits(after)) return after;
  return before;
}

function localInstant(text: string, tz: string): number {
  // Site loading checked the text: a NaN here would only make the comparisons false.
  return instantOf(parseLocalDateTime(text) ?? NaN, tz);
}

function handover(s: OnCallSchedule, k: number): number {
  const start = parseLocalDateTime(s.rotation.start) ?? NaN;
  return instantOf(start + k * s.rotation.everyMs, s.timezone);
}

/** Index of the rotation turn running at `at` (members[turn % n] is on call), or -1 before the start. */
function turnAt(s: OnCallSchedule, at: number): number {
  const start = parseLocalDateTime(s.rotation.start) ?? NaN;
  // An estimate from the wall clock, corrected against the real hand-over instants around it.
  let k = Math.max(0, Math.floor((wallClock(at, s.timezone) - start) / s.rotation.everyMs));
  while (k > 0 && handover(s, k) > at) k--;
  if (!(handover(s, k) <= at)) return -1;
  while (handover(s, k + 1) <= at) k++;
  return k;
}

/** Id of the person on call at `at`: the last listed active override, else the rotation's turn. */
export function onCallAt(s: OnCallSchedule, at: number): string | undefined {
  for (let i = s.overrides.length - 1; i >= 0; i--) {
    const o = s.overrides[i];
    if (localInstant(o.from, s.timezone) <= at && at < localInstant(o.to, s.timezone)) return o.person;
  }
  const turn = turnAt(s, at);
  return turn < 0 ? undefined : s.rotation.members[turn % s.rotation.members.length];
}

/** The first instant after `at` when someone else is on call (or nobody), or undefined if never. */
export function nextHandover(s: OnCallSchedule, at: number): number | undefined {
  const now = onCallAt(s, at);
  let t = at;
  // Each rotation turn and each override edge is a candidate; past that many, nothing changes any more.
  for (let i = 0; i <= s.rotation.members.length + 2 * s.overrides.length; i++) {
    const next = nextBoundary(s, t);
    if (next === undefined) return undefined;
    if (onCallAt(s, next) !== now) return next;
    t = next;
  }
  return undefined;
}

function nextBoundary(s: OnCallSchedule, at: number): number | undefined {
  const candidates: number[] = [];
  for (const o of s.overrides)
    candidates.push(localInstant(o.from, s.timezone), localInstant(o.to, s.timezone));
  const turn = turnAt(s, at);
  // With one distinct member the rotation only matters once, when it starts.
  if (turn < 0 || new Set(s.rotation.members).size > 1) candidates.push(handover(s, turn + 1));
  const later = candidates.filter((c) => c > at);
  return later.length > 0 ? Math.min(...later) : undefined;
}

/** True when `at` falls in the daily quiet window (in its zone, else `siteTz`); `to` < `from` spans midnight. */
export function inQuietHours(q: QuietHours, siteTz: string, at: number): boolean {
  const { minute } = localTime(at, q.timezone ?? siteTz);
  const from = toMinute(q.from);
  const to = toMinute(q.to);
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

function toMinute(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}
