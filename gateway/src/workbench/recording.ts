import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Scalar, SensorEvent } from '../../../rules/src/model.js';
import type { RecordedAction, RecordedEvent, RecordedItem, RecordingEnd, RecordingHeader } from './model.js';

// The recording file: JSON lines, one object per line, compact keys because a week of a large
// site is millions of lines.
//   header  {"vigie":"recording","version":1,"site":..,"id":..,"segment":1,"startedAt":..,"selection":{..},"kinds":{..}}
//   event   {"t":receivedAt,"d":deviceId,"v":{values}}  (+ "e":ts when it differs, "s":status, "b":battery)
//   action  {"t":at,"a":"acknowledge"|"resolve","r":ruleId,"d":deviceId,"by":actor}
//   end     {"end":stoppedAt,"events":n}
// A rotated recording is its segments one after the other; each starts with its own header.

export function encodeHeader(h: RecordingHeader): string {
  return JSON.stringify(h) + '\n';
}

export function encodeEvent(ev: SensorEvent): string {
  const o: Record<string, unknown> = { t: ev.receivedAt, d: ev.deviceId, v: ev.values };
  if (ev.ts !== ev.receivedAt) o.e = ev.ts;
  if (ev.status !== undefined) o.s = ev.status;
  if (ev.battery !== undefined) o.b = ev.battery;
  return JSON.stringify(o) + '\n';
}

export function encodeAction(a: Omit<RecordedAction, 'type'>): string {
  return JSON.stringify({ t: a.at, a: a.action, r: a.ruleId, d: a.deviceId, by: a.by }) + '\n';
}

export function encodeEnd(e: Omit<RecordingEnd, 'type'>): string {
  return JSON.stringify({ end: e.stoppedAt, events: e.events }) + '\n';
}

export type DecodedLine =
  | { type: 'header'; header: RecordingHeader }
  | RecordedEvent
  | RecordedAction
  | RecordingEnd
  | { type: 'bad'; reason: string };

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
const isTime = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const isScalar = (x: unknown): x is Scalar =>
  x === null || typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string';

/** One line of a recording; never throws (a bad line is counted and skipped by the reader). */
export function decodeLine(line: string): DecodedLine {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return { type: 'bad', reason: 'not JSON' };
  }
  if (!isObject(o)) return { type: 'bad', reason: 'not a JSON object' };
  if (o.vigie === 'recording') {
    if (o.version !== 1) return { type: 'bad', reason: `recording version ${String(o.version)} is not 1` };
    if (typeof o.site !== 'string' || !isTime(o.startedAt) || !isObject(o.kinds))
      return { type: 'bad', reason: 'header without site, startedAt or kinds' };
    return { type: 'header', header: o as unknown as RecordingHeader };
  }
  if ('end' in o) {
    if (!isTime(o.end)) return { type: 'bad', reason: 'end line without a time' };
    return { type: 'end', stoppedAt: o.end, events: typeof o.events === 'number' ? o.events : 0 };
  }
  if (!isTime(o.t)) return { type: 'bad', reason: 'no time ("t")' };
  if (typeof o.d !== 'string' || o.d === '') return { type: 'bad', reason: 'no device ("d")' };
  if ('a' in o) {
    if (o.a !== 'acknowledge' && o.a !== 'resolve')
      return { type: 'bad', reason: `unknown action "${String(o.a)}"` };
    if (typeof o.r !== 'string') return { type: 'bad', reason: 'action without a rule ("r")' };
    return {
      type: 'action',
      at: o.t,
      action: o.a,
      ruleId: o.r,
      deviceId: o.d,
      by: typeof o.by === 'string' ? o.by : 'replay',
    };
  }
  const v = o.v ?? {};
  if (!isObject(v) || !Object.values(v).every(isScalar))
    return { type: 'bad', reason: 'values ("v") must be an object of numbers, booleans, strings' };
  if (o.e !== undefined && !isTime(o.e)) return { type: 'bad', reason: 'event time ("e") is not a time' };
  if (o.s !== undefined && o.s !== 'online' && o.s !== 'offline')
    return { type: 'bad', reason: `status must be online or offline, not "${String(o.s)}"` };
  if (o.b !== undefined && typeof o.b !== 'number') return { type: 'bad', reason: 'battery is not a number' };
  const ev: RecordedEvent = {
    type: 'event',
    receivedAt: o.t,
    deviceId: o.d,
    ts: (o.e as number | undefined) ?? o.t,
    values: v as Record<string, Scalar>,
  };
  if (o.s !== undefined) ev.status = o.s;
  if (o.b !== undefined) ev.battery = o.b;
  return ev;
}

/** The SensorEvent the engine saw; the kind from the site when known, else from the header. */
export function toSensorEvent(ev: RecordedEvent, site: string, kind: string): SensorEvent {
  const out: SensorEvent = {
    site,
    deviceId: ev.deviceId,
    kind,
    ts: ev.ts,
    receivedAt: ev.receivedAt,
    values: ev.values,
  };
  if (ev.status !== undefined) out.status = ev.status;
  if (ev.battery !== undefined) out.battery = ev.battery;
  return out;
}

export interface RecordingRead {
  /** The first header (site, start); later segments' headers only add kinds. */
  header: RecordingHeader | undefined;
  kinds: Map<string, string>;
  /** Set when the recording ended cleanly. */
  end: RecordingEnd | undefined;
  /** Bad lines: `line N: reason`, at most 20 kept; `bad` counts all. */
  problems: string[];
  bad: number;
}

/**
 * Reads a recording line by line (a week is too big to hold as text), yielding events and actions
 * in file order, inside [from, to) when given. `read` fills in as lines go by.
 */
export async function* readRecording(
  input: string | Readable,
  read: RecordingRead,
  window: { from?: number; to?: number } = {},
): AsyncGenerator<RecordedItem> {
  const stream = typeof input === 'string' ? createReadStream(input, { encoding: 'utf8' }) : input;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      const d = decodeLine(line);
      switch (d.type) {
        case 'header':
          read.header ??= d.header;
          for (const [id, kind] of Object.entries(d.header.kinds)) read.kinds.set(id, kind);
          break;
        case 'end':
          read.end = d;
          break;
        case 'bad':
          read.bad++;
          if (read.problems.length < 20) read.problems.push(`line ${n}: ${d.reason}`);
          break;
        default: {
          if (inWindow(d, window)) yield d;
        }
      }
    }
  } finally {
    lines.close();
    if (typeof input === 'string') stream.destroy();
  }
}

/** Whether an item falls in [from, to) (either end open when absent). */
export function inWindow(item: RecordedItem, window: { from?: number; to?: number }): boolean {
  const at = item.type === 'event' ? item.receivedAt : item.at;
  return (window.from === undefined || at >= window.from) && (window.to === undefined || at < window.to);
}

export function emptyRead(): RecordingRead {
  return { header: undefined, kinds: new Map(), end: undefined, problems: [], bad: 0 };
}
