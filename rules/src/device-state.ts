import type { DeviceInfo, DeviceRecord, Scalar, SensorEvent } from './model.js';
import type { DeviceRt } from './runtime.js';
import type { Key } from './key-state.js';
import type { CompiledRule } from './compile.js';

// Per-device state: merged values, liveness, badge history, and the device's slice of the rule
// index (the rules that select it and their keys, side by side, so an event touches only those).

const MAX_BADGES = 8;

export interface DeviceEntry extends DeviceRt {
  lastRawTs?: number;
  rules: CompiledRule[];
  keys: (Key | undefined)[];
  dirty: boolean;
}

export interface DeviceView {
  values: Record<string, Scalar>;
  lastSeen?: number;
  lastTs?: number;
  online: boolean;
  offlineReason?: 'status' | 'silent';
  battery?: number;
}

export function newDevice(info: DeviceInfo, now: number): DeviceEntry {
  return {
    info,
    values: {},
    rise: {},
    badges: [],
    lastTs: -Infinity,
    absBase: now,
    rules: [],
    keys: [],
    dirty: false,
  };
}

export function sameValues(
  a: Readonly<Record<string, Scalar>>,
  b: Readonly<Record<string, Scalar>> | undefined,
): boolean {
  if (a === b) return true;
  if (!b) return false;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** Applies an accepted event at effective time `t` (gateway time `now`). */
export function applyEvent(dev: DeviceEntry, ev: SensorEvent, t: number, now: number): void {
  dev.lastTs = t;
  dev.lastRawTs = ev.ts;
  dev.lastValues = ev.values;
  dev.lastStatus = ev.status;
  if (ev.status === 'offline') {
    dev.status = 'offline';
  } else {
    // README "Rules": any data message or an `online` status counts as seen.
    dev.status = 'online';
    dev.lastSeen = now;
    dev.absBase = now;
    const values = dev.values;
    const incoming = ev.values;
    for (const k in incoming) {
      const v = incoming[k];
      if (v === true && values[k] !== true) dev.rise[k] = t;
      values[k] = v;
    }
    const badge = incoming.badge;
    if (typeof badge === 'string') {
      if (dev.badges.length >= MAX_BADGES) dev.badges.shift();
      dev.badges.push({ id: badge, ts: t });
    }
  }
  if (ev.battery !== undefined) dev.battery = ev.battery;
  dev.dirty = true;
}

export function viewDevice(dev: DeviceEntry, now: number): DeviceView {
  const hb = dev.info.heartbeatMs;
  const silent = dev.lastSeen === undefined || (hb !== undefined && now - dev.lastSeen > hb);
  const offlineReason =
    dev.status === 'offline' ? 'status' : dev.lastSeen !== undefined && silent ? 'silent' : undefined;
  return {
    values: { ...dev.values },
    ...(dev.lastSeen !== undefined ? { lastSeen: dev.lastSeen } : {}),
    ...(dev.lastTs !== -Infinity ? { lastTs: dev.lastTs } : {}),
    online: dev.status !== 'offline' && !silent,
    ...(offlineReason ? { offlineReason } : {}),
    ...(dev.battery !== undefined ? { battery: dev.battery } : {}),
  };
}

interface StoredDevice {
  v: Record<string, Scalar>;
  r: Record<string, number>;
  b: { id: string; ts: number }[];
  st?: 'online' | 'offline';
  bat?: number;
  ls?: number;
  lt?: number;
  lr?: number;
  lv?: Record<string, Scalar>;
  lst?: 'online' | 'offline';
}

export function deviceRecord(dev: DeviceEntry): DeviceRecord {
  const s: StoredDevice = { v: { ...dev.values }, r: { ...dev.rise }, b: dev.badges.slice() };
  if (dev.status) s.st = dev.status;
  if (dev.battery !== undefined) s.bat = dev.battery;
  if (dev.lastSeen !== undefined) s.ls = dev.lastSeen;
  if (dev.lastTs !== -Infinity) s.lt = dev.lastTs;
  if (dev.lastRawTs !== undefined) s.lr = dev.lastRawTs;
  if (dev.lastValues) s.lv = { ...dev.lastValues };
  if (dev.lastStatus) s.lst = dev.lastStatus;
  return { deviceId: dev.info.id, state: s };
}

/** Restores a saved device. Silence restarts from max(lastSeen, now): a restart is not a silence. */
export function restoreDevice(dev: DeviceEntry, rec: DeviceRecord, now: number): void {
  const s = rec.state as Partial<StoredDevice> | null;
  if (!s || typeof s !== 'object') return;
  dev.values = { ...(s.v ?? {}) };
  dev.rise = { ...(s.r ?? {}) };
  dev.badges = Array.isArray(s.b) ? s.b.slice(-MAX_BADGES) : [];
  dev.status = s.st;
  dev.battery = s.bat;
  dev.lastSeen = s.ls;
  dev.lastTs = s.lt ?? -Infinity;
  dev.lastRawTs = s.lr;
  dev.lastValues = s.lv;
  dev.lastStatus = s.lst;
  dev.absBase = Math.max(s.ls ?? -Infinity, now);
}
