import type { ScheduleSpec } from './model.js';

// Schedules are wall-clock windows in a named time zone. Intl does the zone and DST arithmetic, so
// "07:00-19:00 Europe/Paris" is right on both sides of a clock change without a date library.

const DAY_INDEX: Readonly<Record<string, number>> = {
  Mon: 0,
  Tue: 1,
  Wed: 2,
  Thu: 3,
  Fri: 4,
  Sat: 5,
  Sun: 6,
};
const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** True when `tz` is a time zone this runtime knows (IANA name such as Europe/Paris). */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Local day (0 = Monday) and minute of the day of instant `t` in zone `tz`. */
export function localTime(t: number, tz: string): { day: number; minute: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatter(tz).formatToParts(t)) {
    if (part.type === 'weekday') day = DAY_INDEX[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

function toMinute(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Compiles a schedule into "is instant t inside a window?". Throws RangeError on an unknown zone. */
export function compileSchedule(spec: ScheduleSpec, defaultTz: string): (t: number) => boolean {
  const tz = spec.timezone ?? defaultTz;
  formatter(tz);
  const windows = spec.windows.map((w) => ({
    days: DAY_NAMES.map((d) => w.days.includes(d)),
    from: toMinute(w.from),
    to: toMinute(w.to),
  }));
  // Rules are checked on every message of a selected device: remember the last minute asked.
  let cachedMinute = NaN;
  let cachedResult = false;
  return (t: number) => {
    const m = Math.floor(t / 60_000);
    if (m === cachedMinute) return cachedResult;
    const { day, minute } = localTime(t, tz);
    const prev = (day + 6) % 7;
    let inside = false;
    for (const w of windows) {
      if (w.from < w.to) inside = w.days[day] && minute >= w.from && minute < w.to;
      else if (w.from > w.to) inside = (w.days[day] && minute >= w.from) || (w.days[prev] && minute < w.to);
      else inside = w.days[day];
      if (inside) break;
    }
    cachedMinute = m;
    cachedResult = inside;
    return inside;
  };
}
