// One week of a 1,000-device site's traffic, as a recording (bench/src/replay-week.ts replays it):
// a site of the example site's kinds (doors with and without badge readers, service doors on a
// schedule, temperature sensors, AED cabinets, appliances) and its seeded, deterministic events.
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { seededRandom, streamFor, type Random } from '../../firmware-sim/src/random.js';
import type { Scalar, SensorEvent } from '../../rules/src/model.js';
import type { RecordedAction } from '../../gateway/src/workbench/model.js';
import { encodeAction, encodeEnd, encodeEvent, encodeHeader } from '../../gateway/src/workbench/recording.js';
import { ROOT } from './systems.js';
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** Monday 2 March 2026, 00:00 in Paris (the site's time zone): UTC+1 all week, summer time starts on the 29th. */
export const WEEK_START = Date.UTC(2026, 2, 1, 23, 0);
export const SITE = 'airport-1k';
/** The example site's badge lists: a staff badge excuses a badge-reader door (rule door-forced). */
const STAFF_BADGES = ['A1234', 'A2001', 'A2002', 'B3100', 'B3101'];
const MAINTENANCE_BADGES = ['M7001', 'M7002'];
/** Per passage: a door held open past 30 s, a badge-reader door opened without a badge. */
export const HELD_OPEN_RATE = 0.002;
export const FORCED_RATE = 0.0001;

type Kind = 'door' | 'temperature' | 'aed' | 'appliance';
type Values = Record<string, Scalar>;

const ZONES = [
  { id: 'hall-a', label: 'Hall A', floor: 0 },
  { id: 'hall-b', label: 'Hall B', floor: 0 },
  { id: 'hall-c', label: 'Hall C', floor: 0 },
  { id: 'gates-e', label: 'Gates E', floor: 1 },
  { id: 'gates-f', label: 'Gates F', floor: 1 },
  { id: 'gates-g', label: 'Gates G', floor: 1 },
  { id: 'gates-k', label: 'Gates K', floor: 1 },
  { id: 'landside', label: 'Landside', floor: 0 },
  { id: 'baggage', label: 'Baggage hall', floor: -1 },
  { id: 'technical', label: 'Technical level', floor: -1 },
] as const;
const PUBLIC_ZONES = ZONES.slice(0, 7);
/** The zones rule temperature-out-of-range watches. */
const WATCHED_ZONES = new Set(['hall-b', 'gates-g']);

export interface PlannedDevice {
  id: string;
  kind: Kind;
  name: string;
  zone: string;
  zoneLabel: string;
  floor: number;
  tags: string[];
  /** Periodic report (the state again, or a reading), and the site's heartbeat (a few missed reports). */
  periodMs: number;
  heartbeat: string;
  phaseMs: number;
  door?: 'badge' | 'contact' | 'service';
  /** Passages a day in terminal hours (doors). */
  passages?: number;
  baseC?: number;
  serial?: string;
  camera?: boolean;
  speaker?: boolean;
}

const pick = <T>(rnd: Random, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const pad = (i: number, n: number) => String(i + 1).padStart(String(n).length, '0');

/** The devices: 40 % doors, 35 % temperature sensors, 10 % AED cabinets, 15 % appliances. */
export function planSite(n: number, seed: number): PlannedDevice[] {
  const rnd = seededRandom(seed);
  const doors = Math.round(n * 0.4);
  const temps = Math.round(n * 0.35);
  const aeds = Math.round(n * 0.1);
  const out: PlannedDevice[] = [];
  const at = (zone: (typeof ZONES)[number]) => ({ zone: zone.id, zoneLabel: zone.label, floor: zone.floor });
  for (let i = 0; i < doors; i++) {
    const r = rnd();
    const style = r < 0.55 ? 'badge' : r < 0.9 ? 'contact' : 'service';
    const zone = style === 'service' ? pick(rnd, ZONES.slice(7)) : pick(rnd, ZONES.slice(0, 8));
    const airside = zone.id.startsWith('gates') || zone.id.startsWith('hall');
    const tags =
      style === 'badge'
        ? ['badge-reader', ...(airside ? ['airside'] : [])]
        : style === 'service'
          ? ['scheduled']
          : airside
            ? ['airside']
            : [];
    const label = style === 'badge' ? 'Staff door' : style === 'service' ? 'Service door' : 'Door';
    out.push({
      id: `door-${pad(i, doors)}`,
      kind: 'door',
      name: `${label} ${i + 1} (${zone.label})`,
      ...at(zone),
      tags,
      periodMs: 5 * MIN,
      heartbeat: '10m',
      phaseMs: Math.floor(rnd() * 5 * MIN),
      door: style,
      passages: style === 'service' ? 8 + Math.floor(rnd() * 10) : 20 + Math.floor(rnd() * 60),
      camera: style === 'badge' && rnd() < 0.5,
    });
  }
  for (let i = 0; i < temps; i++) {
    const server = rnd() < 0.04;
    const zone = server ? ZONES[9] : pick(rnd, ZONES.slice(0, 9));
    out.push({
      id: `temp-${pad(i, temps)}`,
      kind: 'temperature',
      name: server ? `Server room ${i + 1} temperature` : `${zone.label} temperature ${i + 1}`,
      ...at(zone),
      tags: server ? ['critical-room'] : [],
      periodMs: 5 * MIN,
      heartbeat: '15m',
      phaseMs: Math.floor(rnd() * 5 * MIN),
      baseC: server ? 19 + rnd() : zone.id === 'baggage' ? 18.5 + rnd() : 20.5 + 2 * rnd(),
    });
  }
  for (let i = 0; i < aeds; i++) {
    const zone = pick(rnd, PUBLIC_ZONES);
    out.push({
      id: `aed-${pad(i, aeds)}`,
      kind: 'aed',
      name: `AED cabinet ${i + 1} (${zone.label})`,
      ...at(zone),
      tags: [],
      periodMs: 15 * MIN,
      heartbeat: '40m',
      phaseMs: Math.floor(rnd() * 15 * MIN),
      camera: true,
      speaker: true,
    });
  }
  const appliances = n - doors - temps - aeds;
  for (let i = 0; i < appliances; i++) {
    const zone = pick(rnd, ZONES.slice(0, 8));
    const what = pick(rnd, ['Coffee machine', 'Ice maker', 'Water fountain']);
    out.push({
      id: `appliance-${pad(i, appliances)}`,
      kind: 'appliance',
      name: `${what} ${i + 1} (${zone.label})`,
      ...at(zone),
      tags: [],
      periodMs: 10 * MIN,
      heartbeat: '30m',
      phaseMs: Math.floor(rnd() * 10 * MIN),
      serial: `WM-${2000 + i}`,
    });
  }
  return out;
}

/** A passage through a door: badge (if any), open, close. */
interface Passage {
  badgeAt?: number;
  badge?: string;
  openAt: number;
  closeAt: number;
}
/** A temperature excursion: ramp to `peak`, hold, ramp back. */
interface Bump {
  from: number;
  rampMs: number;
  holdMs: number;
  peak: number;
}
interface Change {
  t: number;
  values: Values;
}
/** The device is gone: with a last will (`status`), or silent. */
interface Outage {
  from: number;
  to: number;
  status: boolean;
}

/** What happens on purpose in the week, on top of the everyday traffic. */
export interface Script {
  bumps: Map<string, Bump[]>;
  outages: Map<string, Outage[]>;
  passages: Map<string, Passage[]>;
  changes: Map<string, Change[]>;
  actions: Omit<RecordedAction, 'type'>[];
  /** One line per episode, for the report. */
  notes: string[];
}

const push = <T>(m: Map<string, T[]>, id: string, x: T) => m.set(id, [...(m.get(id) ?? []), x]);
// Paris is UTC+1 the whole week (WEEK_START).
const hhmm = (t: number) => new Date(t + HOUR).toISOString().slice(11, 16);
const dayName = (t: number) =>
  ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][Math.floor((t - WEEK_START) / DAY) % 7];
const when = (t: number) => `${dayName(t)} ${hhmm(t)}`;

export function planScript(devices: readonly PlannedDevice[], days: number, seed: number): Script {
  const rnd = seededRandom(seed ^ 0x5eed);
  const s: Script = {
    bumps: new Map(),
    outages: new Map(),
    passages: new Map(),
    changes: new Map(),
    actions: [],
    notes: [],
  };
  const used = new Set<string>();
  /** Up to `n` distinct devices matching, each used by one episode only. */
  const take = (n: number, match: (d: PlannedDevice) => boolean): PlannedDevice[] => {
    const pool = devices.filter((d) => !used.has(d.id) && match(d));
    const out: PlannedDevice[] = [];
    while (out.length < n && pool.length > 0) out.push(...pool.splice(Math.floor(rnd() * pool.length), 1));
    for (const d of out) used.add(d.id);
    return out;
  };
  const at = (fromHour: number, toHour: number) =>
    WEEK_START + Math.floor(rnd() * days) * DAY + Math.floor((fromHour + rnd() * (toHour - fromHour)) * HOUR);
  const ack = (t: number, ruleId: string, d: PlannedDevice, by: string) =>
    s.actions.push({ at: t, action: 'acknowledge', ruleId, deviceId: d.id, by });
  const temp = (d: PlannedDevice) => d.kind === 'temperature' && !d.tags.includes('critical-room');

  take(5, (d) => temp(d) && WATCHED_ZONES.has(d.zone)).forEach((d, i) => {
    const b = {
      from: at(10, 15),
      rampMs: 20 * MIN,
      holdMs: (1 + 2 * rnd()) * HOUR,
      peak: 27.8 + 1.7 * rnd(),
    };
    push(s.bumps, d.id, b);
    s.notes.push(`${d.id} (${d.zoneLabel}) overheats to ${b.peak.toFixed(1)} °C, ${when(b.from)}`);
    if (i < 2) ack(b.from + b.rampMs + 15 * MIN, 'temperature-out-of-range', d, 'person:maint-hugo');
  });
  for (const d of take(2, (x) => temp(x) && !WATCHED_ZONES.has(x.zone) && x.zone !== 'baggage')) {
    const b = { from: at(11, 15), rampMs: 30 * MIN, holdMs: 2 * HOUR, peak: 28.5 };
    push(s.bumps, d.id, b);
    s.notes.push(`${d.id} (${d.zoneLabel}, no rule watches it) overheats to 28.5 °C, ${when(b.from)}`);
  }
  for (const d of take(1, (x) => temp(x) && WATCHED_ZONES.has(x.zone))) {
    const b = { from: at(1, 2), rampMs: 30 * MIN, holdMs: HOUR, peak: 15 };
    push(s.bumps, d.id, b);
    s.notes.push(`${d.id} (${d.zoneLabel}) heating failure, down to 15 °C, ${when(b.from)}`);
  }
  for (const d of take(1, (x) => x.tags.includes('critical-room'))) {
    const b = { from: at(0, 20), rampMs: 15 * MIN, holdMs: 45 * MIN, peak: 31.5 };
    push(s.bumps, d.id, b);
    s.notes.push(`${d.id} (server room) overheats to 31.5 °C for 45 min, ${when(b.from)}`);
    ack(b.from + b.rampMs + 10 * MIN, 'server-room-overheat', d, 'person:maint-ines');
  }
  for (const d of take(1, (x) => x.kind === 'aed')) {
    const t = at(8, 20);
    push(s.changes, d.id, { t, values: { present: false, cabinetOpen: true } });
    push(s.changes, d.id, { t: t + 12 * MIN, values: { present: true, cabinetOpen: false } });
    s.notes.push(`${d.id}: AED taken out of its cabinet ${when(t)}, put back 12 min later`);
    ack(t + 90_000, 'aed-removed', d, 'person:emergency-desk');
  }
  for (const d of take(1, (x) => x.kind === 'aed')) {
    const t = at(9, 17);
    push(s.changes, d.id, { t, values: { present: true, cabinetOpen: true } });
    push(s.changes, d.id, { t: t + 5 * MIN, values: { present: true, cabinetOpen: false } });
    s.notes.push(`${d.id}: cabinet opened for an inspection ${when(t)}, AED left in place`);
  }
  take(8, (x) => x.kind === 'appliance').forEach((d, i) => {
    const t = at(6, 20);
    const status = i === 7 ? 'error' : 'fault';
    const code = pick(rnd, ['E21', 'E30', 'E05']);
    const lasts = Math.floor((20 + 70 * rnd()) * MIN);
    push(s.changes, d.id, { t, values: { serial: d.serial!, status, code } });
    push(s.changes, d.id, { t: t + lasts, values: { serial: d.serial!, status: 'ok' } });
    s.notes.push(`${d.id}: ${status} ${code} ${when(t)} for ${Math.round(lasts / MIN)} min`);
    if (i === 0) ack(t + 5 * MIN, 'appliance-fault', d, 'person:service-nora');
  });
  for (const d of take(2, (x) => x.kind === 'appliance')) {
    const t = at(6, 20);
    for (const k of [0, 1, 2]) {
      push(s.changes, d.id, {
        t: t + k * 3 * MIN,
        values: { serial: d.serial!, status: 'fault', code: 'E21' },
      });
      push(s.changes, d.id, { t: t + k * 3 * MIN + MIN, values: { serial: d.serial!, status: 'ok' } });
    }
    s.notes.push(`${d.id}: three E21 faults 3 min apart ${when(t)}`);
  }
  const kinds: Kind[] = ['door', 'temperature', 'aed', 'appliance', 'door'];
  kinds.forEach((kind, i) => {
    for (const d of take(1, (x) => x.kind === kind)) {
      const from = at(1, 20);
      const o = { from, to: from + Math.floor((20 + 160 * rnd()) * MIN), status: true };
      push(s.outages, d.id, o);
      s.notes.push(
        `${d.id}: offline (last will) ${when(o.from)}, back ${Math.round((o.to - from) / MIN)} min later`,
      );
      if (i === 0) ack(from + 5 * MIN, 'sensor-offline', d, 'person:maint-hugo');
    }
  });
  for (const d of take(1, (x) => x.kind === 'temperature')) {
    const o = { from: at(2, 20), to: 0, status: false };
    o.to = o.from + 2 * HOUR;
    push(s.outages, d.id, o);
    s.notes.push(`${d.id}: silent for 2 h from ${when(o.from)} (no last will: heartbeat)`);
  }
  for (const d of take(1, (x) => x.door === 'badge')) {
    const t = at(9, 17);
    push(s.passages, d.id, { badgeAt: t, badge: STAFF_BADGES[0], openAt: t + 1000, closeAt: t + 25 * MIN });
    s.notes.push(`${d.id}: propped open 25 min for a delivery ${when(t)}`);
    ack(t + 3 * MIN, 'door-held-open', d, 'person:sec-amina');
  }
  take(2, (x) => x.door === 'badge').forEach((d, i) => {
    const t = at(6, 22);
    // The first one left ajar 2 min (held open too): long enough to be acknowledged while open.
    const openMs = i === 0 ? 2 * MIN : 6000;
    push(s.passages, d.id, { openAt: t, closeAt: t + openMs });
    s.notes.push(`${d.id}: opened without a badge ${when(t)}, closed ${openMs / 1000} s later`);
    if (i === 0) ack(t + MIN, 'door-forced', d, 'person:sec-lucas');
  });
  for (const d of take(4, (x) => x.door === 'service')) {
    const t = at(1, 4);
    push(s.passages, d.id, {
      badgeAt: t,
      badge: MAINTENANCE_BADGES[0],
      openAt: t + 1500,
      closeAt: t + 2 * MIN,
    });
    s.notes.push(`${d.id}: opened at night ${when(t)} (outside service hours)`);
  }
  s.actions.sort((a, b) => a.at - b.at);
  return s;
}

/** One line of the recording and its time, for the merge. */
interface Line {
  t: number;
  line: string;
  /** Device kind, `status` for a last will or its end; none for an operator action. */
  kind?: string;
}

function eventLine(d: PlannedDevice, t: number, values: Values, status?: 'online' | 'offline'): Line {
  const ev: SensorEvent = { site: SITE, deviceId: d.id, kind: d.kind, ts: t, receivedAt: t, values };
  if (status) ev.status = status;
  return { t, line: encodeEvent(ev), kind: status ? 'status' : d.kind };
}

/** Random passages of one door on one day; scripted ones replace those they would overlap. */
function doorPassages(d: PlannedDevice, day: number, rnd: Random, scripted: readonly Passage[]): Passage[] {
  const dayStart = WEEK_START + day * DAY;
  const weekday = day % 7;
  const service = d.door === 'service';
  // Service doors: Monday to Friday 07:00-19:00 (schedule service-hours); the others: terminal hours.
  const [from, to] = service ? [7 * HOUR + 5 * MIN, 19 * HOUR - 10 * MIN] : [5 * HOUR, 23.5 * HOUR];
  const out: Passage[] = [];
  if (!service || weekday < 5) {
    const meanGap = (to - from) / d.passages!;
    let t = dayStart + from - meanGap * Math.log(1 - rnd());
    while (t < dayStart + to) {
      const held = rnd() < HELD_OPEN_RATE;
      const openMs = held ? 35_000 + 205_000 * rnd() : 2500 + 12_000 * rnd() * rnd();
      const forced = d.door === 'badge' && rnd() < FORCED_RATE;
      const start = Math.floor(t);
      const p: Passage = { openAt: start, closeAt: start + Math.floor(openMs) };
      if (d.door !== 'contact' && !forced) {
        p.badgeAt = start;
        p.badge = pick(rnd, service ? MAINTENANCE_BADGES : STAFF_BADGES);
        p.openAt = start + 800 + Math.floor(1200 * rnd());
        p.closeAt = p.openAt + Math.floor(openMs);
      }
      out.push(p);
      // 12 s at least between passages: a previous badge never excuses a forced opening (10 s).
      t = p.closeAt + 12_000 - meanGap * Math.log(1 - rnd());
    }
  }
  const mine = scripted.filter((p) => p.openAt >= dayStart && p.openAt < dayStart + DAY);
  if (mine.length === 0) return out;
  const clear = (p: Passage) =>
    mine.every(
      (s) => p.closeAt + 15_000 < (s.badgeAt ?? s.openAt) || (p.badgeAt ?? p.openAt) > s.closeAt + 15_000,
    );
  return [...out.filter(clear), ...mine].sort((a, b) => (a.badgeAt ?? a.openAt) - (b.badgeAt ?? b.openAt));
}

function celsius(d: PlannedDevice, t: number, rnd: Random, bumps: readonly Bump[]): number {
  const hour = (t - WEEK_START) / HOUR;
  // Warmest mid-afternoon, coolest before dawn; server rooms are held flat.
  const daily = d.tags.includes('critical-room') ? 0.2 : 1.4;
  let c = d.baseC! + daily * Math.sin(((hour - 9) / 24) * 2 * Math.PI);
  for (const b of bumps) {
    const x = t - b.from;
    const end = 2 * b.rampMs + b.holdMs;
    if (x < 0 || x > end) continue;
    const f = x < b.rampMs ? x / b.rampMs : x < b.rampMs + b.holdMs ? 1 : (end - x) / b.rampMs;
    c += (b.peak - c) * f;
  }
  return Math.round((c + 0.3 * (rnd() - 0.5)) * 100) / 100;
}

/** Every line of one device on one day, in time order. */
function deviceDay(d: PlannedDevice, day: number, rnd: Random, script: Script): Line[] {
  const dayStart = WEEK_START + day * DAY;
  const dayEnd = dayStart + DAY;
  const outages = (script.outages.get(d.id) ?? []).filter((o) => o.to > dayStart && o.from < dayEnd);
  const quiet = (t: number) => outages.some((o) => t >= o.from && t < o.to);
  // Changes of state in time order; periodic reports repeat the state of the moment.
  const changes: { t: number; values: Values; state: Values }[] = [];
  let initial: Values;
  if (d.kind === 'door') {
    initial = { open: false };
    for (const p of doorPassages(d, day, rnd, script.passages.get(d.id) ?? [])) {
      if (p.badgeAt !== undefined)
        changes.push({ t: p.badgeAt, values: { open: false, badge: p.badge! }, state: initial });
      changes.push({ t: p.openAt, values: { open: true }, state: { open: true } });
      changes.push({ t: p.closeAt, values: { open: false }, state: initial });
    }
  } else if (d.kind === 'aed') {
    initial = { present: true, cabinetOpen: false };
  } else if (d.kind === 'appliance') {
    initial = { serial: d.serial!, status: 'ok' };
  } else {
    initial = {};
  }
  for (const c of script.changes.get(d.id) ?? [])
    if (c.t >= dayStart && c.t < dayEnd) changes.push({ t: c.t, values: c.values, state: c.values });
  changes.sort((a, b) => a.t - b.t);
  const out: Line[] = [];
  const bumps = script.bumps.get(d.id) ?? [];
  let state = initial;
  let i = 0;
  for (let p = dayStart + d.phaseMs; p < dayEnd; p += d.periodMs) {
    const t = p + Math.floor(2000 * rnd());
    for (; i < changes.length && changes[i].t <= t; i++) {
      state = changes[i].state;
      if (!quiet(changes[i].t)) out.push(eventLine(d, changes[i].t, changes[i].values));
    }
    if (quiet(t)) continue;
    out.push(eventLine(d, t, d.kind === 'temperature' ? { celsius: celsius(d, t, rnd, bumps) } : state));
  }
  for (; i < changes.length; i++)
    if (!quiet(changes[i].t)) out.push(eventLine(d, changes[i].t, changes[i].values));
  for (const o of outages) {
    if (!o.status) continue;
    if (o.from >= dayStart) out.push(eventLine(d, o.from, {}, 'offline'));
    if (o.to < dayEnd) out.push(eventLine(d, o.to, {}, 'online'));
  }
  return out.sort((a, b) => a.t - b.t);
}

function* deviceLines(d: PlannedDevice, days: number, seed: number, script: Script): Generator<Line> {
  const rnd = streamFor(seed, 0, d.id);
  for (let day = 0; day < days; day++) yield* deviceDay(d, day, rnd, script);
}

/** k-way merge by time (ties: source order), so the file is written as it is generated. */
function* byTime(sources: Iterator<Line>[]): Generator<Line> {
  const heap: { line: Line; src: number }[] = [];
  const less = (a: { line: Line; src: number }, b: { line: Line; src: number }) =>
    a.line.t < b.line.t || (a.line.t === b.line.t && a.src < b.src);
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i], heap[p])) return;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  sources.forEach((it, src) => {
    const n = it.next();
    if (!n.done) {
      heap.push({ line: n.value, src });
      up(heap.length - 1);
    }
  });
  while (heap.length > 0) {
    const top = heap[0];
    yield top.line;
    const n = sources[top.src].next();
    if (n.done) {
      const last = heap.pop()!;
      if (heap.length === 0) return;
      heap[0] = last;
    } else {
      heap[0] = { line: n.value, src: top.src };
    }
    down(0);
  }
}

export interface WeekOptions {
  devices: number;
  days: number;
  seed: number;
}

export interface GeneratedWeek {
  dir: string;
  siteFile: string;
  rulesDir: string;
  recording: string;
  devices: Record<string, number>;
  /** Events per device kind, and status events (offline / online). */
  events: Record<string, number>;
  totalEvents: number;
  actions: number;
  bytes: number;
  from: number;
  to: number;
  ms: number;
  notes: string[];
}

/** The site file: the example site's people, teams, policies, schedules and badge lists, and `devices`. */
function siteFile(devices: readonly PlannedDevice[]): string {
  const example = parse(readFileSync(new URL('rules/examples/site.yaml', ROOT), 'utf8')) as Record<
    string,
    unknown
  >;
  const keep = ['timezone', 'schedules', 'badgeLists', 'teams', 'people', 'oncall', 'policies', 'templates'];
  const site: Record<string, unknown> = { site: SITE, name: `Airport Terminal 2, ${devices.length} devices` };
  for (const k of [...keep, 'technicians', 'dispatch']) if (example[k] !== undefined) site[k] = example[k];
  site.devices = devices.map((d, i) => ({
    id: d.id,
    kind: d.kind,
    name: d.name,
    zone: d.zone,
    location: {
      lat: 49.0 + ((i * 37) % 100) / 10_000,
      lon: 2.56 + ((i * 53) % 200) / 10_000,
      floor: d.floor,
      label: d.zoneLabel,
    },
    ...(d.camera ? { camera: { stream: `rtsp://127.0.0.1:8554/cam-${d.id}` } } : {}),
    ...(d.speaker ? { speaker: { sip: `sip:${d.id}@pbx.airport.example` } } : {}),
    ...(d.serial ? { serial: d.serial } : {}),
    heartbeat: d.heartbeat,
    tags: d.tags,
  }));
  // JSON is YAML: 1,000 devices without a YAML writer.
  return JSON.stringify(site);
}

/** Writes site.yaml, rules/ (the example rules) and week.jsonl into `dir`. */
export function generateWeek(o: WeekOptions, dir: string): GeneratedWeek {
  const started = performance.now();
  const devices = planSite(o.devices, o.seed);
  const script = planScript(devices, o.days, o.seed);
  mkdirSync(dir, { recursive: true });
  const site = join(dir, 'site.yaml');
  writeFileSync(site, siteFile(devices));
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir, { recursive: true });
  const examples = new URL('rules/examples/', ROOT);
  for (const f of readdirSync(examples)) {
    if (/\.ya?ml$/.test(f) && /^rule:/m.test(readFileSync(new URL(f, examples), 'utf8')))
      copyFileSync(new URL(f, examples), join(rulesDir, f));
  }
  const recording = join(dir, 'week.jsonl');
  const from = WEEK_START;
  const to = WEEK_START + o.days * DAY;
  const fd = openSync(recording, 'w');
  const counts: Record<string, number> = {};
  const byId = new Map(devices.map((d) => [d.id, d.kind]));
  let buf = '';
  let total = 0;
  const write = (text: string) => {
    buf += text;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  };
  try {
    write(
      encodeHeader({
        vigie: 'recording',
        version: 1,
        site: SITE,
        id: `rec_bench_week_${o.seed}`,
        segment: 1,
        startedAt: from,
        selection: {},
        kinds: Object.fromEntries(byId),
        name: `${o.days} days of ${o.devices} devices (generated, seed ${o.seed})`,
      }),
    );
    const actions = script.actions.map((a) => ({ t: a.at, line: encodeAction(a) }))[Symbol.iterator]();
    const sources = [...devices.map((d) => deviceLines(d, o.days, o.seed, script)), actions];
    for (const l of byTime(sources)) {
      write(l.line);
      if (l.kind === undefined) continue;
      total++;
      counts[l.kind] = (counts[l.kind] ?? 0) + 1;
    }
    write(encodeEnd({ stoppedAt: to, events: total }));
    writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
  const kinds: Record<string, number> = {};
  for (const d of devices) kinds[d.kind] = (kinds[d.kind] ?? 0) + 1;
  return {
    dir,
    siteFile: site,
    rulesDir,
    recording,
    devices: kinds,
    events: counts,
    totalEvents: total,
    actions: script.actions.length,
    bytes: statSync(recording).size,
    from,
    to,
    ms: performance.now() - started,
    notes: script.notes,
  };
}
