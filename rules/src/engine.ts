import type { CompiledRule } from './compile.js';
import {
  applyEvent,
  deviceRecord,
  newDevice,
  restoreDevice,
  sameValues,
  viewDevice,
} from './device-state.js';
import type { DeviceEntry, DeviceView } from './device-state.js';
import { formatDuration } from './duration.js';
import {
  ACTIVE,
  IDLE,
  PENDING,
  keyId,
  keyRecord,
  newKey,
  persistable,
  restoreKey,
  type Key,
} from './key-state.js';
import type { Clock, DeviceInfo, DeviceRecord, KeyRecord, SensorEvent, Transition } from './model.js';
import type { EvalCtx } from './runtime.js';
import { TimerHeap } from './timer-heap.js';

// The rules engine: per (rule, device) state machines idle -> pending (`for`) -> active, driven by
// events (ingest) and timers (advance). Pure: no I/O, time from the injected clock only.

const NONE: readonly Transition[] = Object.freeze([]);

export interface EngineStats {
  events: number;
  duplicates: number;
  outOfOrder: number;
  skewed: number;
  transitions: number;
}

/** Clock difference between a device and the gateway tolerated without counting it as skew. */
const FUTURE_TOLERANCE_MS = 2000;

export class Engine {
  /** ts reported for transitions caused by the event being ingested. */
  private eventTs = 0;
  readonly stats: EngineStats = { events: 0, duplicates: 0, outOfOrder: 0, skewed: 0, transitions: 0 };
  private readonly clock: Clock;
  private readonly maxSkew: number;
  private rules: CompiledRule[] = [];
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly keys = new Map<string, Key>();
  private readonly heap = new TimerHeap<Key>();
  private readonly dirtyKeys = new Map<string, Key | { ruleId: string; deviceId: string }>();
  private readonly dirtyDevices = new Set<DeviceEntry>();
  /** Saved state whose rule or device is not known yet (restore before setRules/setDevices). */
  private readonly orphanKeys = new Map<string, KeyRecord>();
  private readonly orphanDevices = new Map<string, DeviceRecord>();
  private readonly ctx: EvalCtx;
  private out: Transition[] | undefined;

  constructor(opts: { clock: Clock; maxClockSkewMs?: number }) {
    this.clock = opts.clock;
    this.maxSkew = opts.maxClockSkewMs ?? 300_000;
    this.ctx = {
      t: 0,
      dev: newDevice({ id: '', kind: '', site: '' }, 0),
      sub: [],
      data: false,
      next: Infinity,
      changed: false,
    };
  }

  setRules(rules: CompiledRule[]): void {
    const now = this.clock.now();
    const byId = new Map(rules.map((r) => [r.id, r]));
    for (const k of this.keys.values()) {
      const next = byId.get(k.rule.id);
      if (!next) {
        this.dropKey(k);
        continue;
      }
      if (next.hash === k.rule.hash) {
        k.rule = next;
        continue;
      }
      const whenChanged = next.condition.whenHash !== k.rule.condition.whenHash;
      k.rule = next;
      if (whenChanged) k.sub = next.condition.initSub();
      // The phase stays: an open incident stays open until its condition is evaluated false (by
      // its next event). Idle and pending keys are re-evaluated at the next advance().
      if (k.phase !== ACTIVE) this.heap.set(k, now);
      else if (whenChanged) this.heap.remove(k);
      this.markKey(k);
    }
    this.rules = rules;
    this.reindexAll();
  }

  setDevices(devices: readonly DeviceInfo[]): void {
    const now = this.clock.now();
    const wanted = new Set<string>();
    for (const info of devices) {
      wanted.add(info.id);
      const dev = this.devices.get(info.id);
      if (dev) dev.info = info;
      else this.addDevice(info, now);
    }
    for (const [id, dev] of this.devices) {
      if (wanted.has(id)) continue;
      for (const k of dev.keys) if (k) this.dropKey(k);
      this.devices.delete(id);
      this.dirtyDevices.delete(dev);
    }
    this.reindexAll();
  }

  ingest(ev: SensorEvent): readonly Transition[] {
    const now = this.clock.now();
    this.stats.events++;
    this.out = undefined;
    const top = this.heap.peek();
    if (top !== undefined && top.timerAt <= now) this.fireDue(now);
    let dev = this.devices.get(ev.deviceId);
    if (dev === undefined) {
      dev = this.addDevice({ id: ev.deviceId, kind: ev.kind, site: ev.site }, now);
      this.index(dev);
    }
    let t = ev.ts;
    // README "Rules": a ts too far from the gateway clock is replaced, never dropped. A ts ahead of
    // the gateway clock is impossible for a real event: taken as now, or a device whose clock runs
    // fast would fire `for` windows and silence timers early and make every later message (its
    // last will included) look out of order.
    if (t > now) {
      if (t - now > FUTURE_TOLERANCE_MS) this.stats.skewed++;
      t = now;
    } else if (!(now - t <= this.maxSkew)) {
      t = now - ev.receivedAt <= this.maxSkew && ev.receivedAt <= now ? ev.receivedAt : now;
      this.stats.skewed++;
    }
    // Reported as the triggering event's ts: the device's own stamp unless it had to be replaced
    // (a few ms ahead of the gateway clock is clock granularity, not skew).
    this.eventTs = ev.ts - t <= FUTURE_TOLERANCE_MS && ev.ts >= t ? ev.ts : t;
    // A status message is stamped on arrival and is always the latest word on the device.
    if (t < dev.lastTs && ev.status === undefined) {
      this.stats.outOfOrder++;
      return this.finish();
    }
    if (ev.ts === dev.lastRawTs && ev.status === dev.lastStatus && sameValues(ev.values, dev.lastValues)) {
      this.stats.duplicates++;
      return this.finish();
    }
    const rules = dev.rules;
    applyEvent(dev, ev, t, now);
    this.dirtyDevices.add(dev);
    const data = ev.status === undefined;
    for (let i = 0; i < rules.length; i++) {
      let k = dev.keys[i];
      if (k === undefined) k = dev.keys[i] = this.createKey(rules[i], dev);
      this.evaluate(k, t, data, now);
    }
    return this.finish();
  }

  advance(): readonly Transition[] {
    this.out = undefined;
    this.fireDue(this.clock.now());
    return this.finish();
  }

  nextDue(): number | undefined {
    return this.heap.peek()?.timerAt;
  }

  takeDirtyKeys(): { upserts: KeyRecord[]; deletes: { ruleId: string; deviceId: string }[] } {
    const upserts: KeyRecord[] = [];
    const deletes: { ruleId: string; deviceId: string }[] = [];
    for (const entry of this.dirtyKeys.values()) {
      if (!('phase' in entry)) {
        deletes.push(entry);
      } else if (persistable(entry)) {
        upserts.push(keyRecord(entry));
        entry.persisted = true;
      } else if (entry.persisted) {
        deletes.push({ ruleId: entry.rule.id, deviceId: entry.dev.info.id });
        entry.persisted = false;
      }
    }
    this.dirtyKeys.clear();
    return { upserts, deletes };
  }

  takeDirtyDevices(): DeviceRecord[] {
    const out: DeviceRecord[] = [];
    for (const dev of this.dirtyDevices) {
      out.push(deviceRecord(dev));
      dev.dirty = false;
    }
    this.dirtyDevices.clear();
    return out;
  }

  restore(keys: KeyRecord[], devices: DeviceRecord[]): void {
    const now = this.clock.now();
    for (const rec of devices) {
      const dev = this.devices.get(rec.deviceId);
      if (dev) restoreDevice(dev, rec, now);
      else this.orphanDevices.set(rec.deviceId, rec);
    }
    for (const rec of keys) this.orphanKeys.set(keyId(rec.ruleId, rec.deviceId), rec);
    this.adoptOrphanKeys();
  }

  deviceState(id: string): DeviceView | undefined {
    const dev = this.devices.get(id);
    return dev && viewDevice(dev, this.clock.now());
  }

  // ---- internals ----

  private finish(): readonly Transition[] {
    const out = this.out;
    this.out = undefined;
    if (out === undefined) return NONE;
    this.stats.transitions += out.length;
    return out;
  }

  private fireDue(now: number): void {
    for (let top = this.heap.peek(); top !== undefined && top.timerAt <= now; top = this.heap.peek()) {
      this.fire(top, now);
    }
  }

  private fire(k: Key, now: number): void {
    const t = k.timerAt;
    this.heap.remove(k);
    this.evaluate(k, t, false, now);
  }

  private evaluate(k: Key, t: number, data: boolean, now: number): void {
    const rule = k.rule;
    const ctx = this.ctx;
    ctx.t = t;
    ctx.dev = k.dev;
    ctx.sub = k.sub;
    ctx.data = data;
    ctx.next = Infinity;
    ctx.changed = false;
    const holds = rule.condition.root.test(ctx);
    let changed = ctx.changed;
    let timer = ctx.next;
    if (holds) {
      if (k.phase === IDLE) {
        k.since = t;
        k.phase = PENDING;
        changed = true;
      }
      if (k.phase === PENDING) {
        const due = k.since + rule.forMs;
        // Due exactly at since + for opens (the condition held for the whole window).
        if (due <= now || due <= t) {
          k.phase = ACTIVE;
          changed = true;
          this.emit('open', k, data ? this.eventTs : Math.max(t, due), now, reason(rule, ctx));
        } else if (due < timer) timer = due;
      }
    } else if (k.phase !== IDLE) {
      const wasActive = k.phase === ACTIVE;
      k.phase = IDLE;
      changed = true;
      // clear: manual -> the incident waits for an operator; the key still goes idle so a later
      // occurrence opens a new incident.
      if (wasActive && rule.clear === 'auto')
        this.emit('clear', k, data ? this.eventTs : t, now, 'condition no longer holds');
    }
    if (timer <= t) timer = t + 1;
    if (timer !== k.timerAt) this.heap.set(k, timer);
    if (changed) this.markKey(k);
  }

  private emit(type: 'open' | 'clear', k: Key, triggerTs: number, now: number, why: string): void {
    const tr: Transition = {
      type,
      ruleId: k.rule.id,
      deviceId: k.dev.info.id,
      severity: k.rule.severity,
      at: now,
      triggerTs,
      reason: why,
      values: Object.freeze({ ...k.dev.values }),
    };
    if (type === 'open' && k.since < triggerTs) tr.since = k.since;
    (this.out ??= []).push(tr);
  }

  private markKey(k: Key): void {
    this.dirtyKeys.set(k.id, k);
  }

  private createKey(rule: CompiledRule, dev: DeviceEntry): Key {
    const k = newKey(rule, dev);
    this.keys.set(k.id, k);
    return k;
  }

  private dropKey(k: Key): void {
    this.heap.remove(k);
    this.keys.delete(k.id);
    if (k.persisted) this.dirtyKeys.set(k.id, { ruleId: k.rule.id, deviceId: k.dev.info.id });
    else this.dirtyKeys.delete(k.id);
  }

  private addDevice(info: DeviceInfo, now: number): DeviceEntry {
    const dev = newDevice(info, now);
    const saved = this.orphanDevices.get(info.id);
    if (saved) {
      restoreDevice(dev, saved, now);
      this.orphanDevices.delete(info.id);
    }
    this.devices.set(info.id, dev);
    return dev;
  }

  private reindexAll(): void {
    for (const dev of this.devices.values()) this.index(dev);
    this.adoptOrphanKeys();
  }

  /** Rebuilds one device's rule slice; keys of rules that no longer select it are dropped. */
  private index(dev: DeviceEntry): void {
    const now = this.clock.now();
    const rules: CompiledRule[] = [];
    const keys: (Key | undefined)[] = [];
    for (const r of this.rules) {
      const id = keyId(r.id, dev.info.id);
      if (!r.matches(dev.info)) {
        const stale = this.keys.get(id);
        if (stale) this.dropKey(stale);
        continue;
      }
      let k = this.keys.get(id);
      // Rules that watch silence need a timer even for a device that never speaks.
      if (k === undefined && r.condition.timeDriven) {
        k = this.createKey(r, dev);
        this.heap.set(k, now);
      }
      rules.push(r);
      keys.push(k);
    }
    dev.rules = rules;
    dev.keys = keys;
  }

  private adoptOrphanKeys(): void {
    for (const [id, rec] of this.orphanKeys) {
      const dev = this.devices.get(rec.deviceId);
      const i = dev ? dev.rules.findIndex((r) => r.id === rec.ruleId) : -1;
      if (!dev || i < 0) continue;
      this.orphanKeys.delete(id);
      const k = dev.keys[i] ?? (dev.keys[i] = this.createKey(dev.rules[i], dev));
      let at = restoreKey(k, rec);
      // An idle key of a silence rule needs its timer back (it is recomputed from the device).
      if (k.phase === IDLE && k.rule.condition.timeDriven) at = Math.min(at, this.clock.now());
      this.heap.set(k, at);
      const s = rec.state as { h?: string } | null;
      if (s?.h !== k.rule.hash) this.markKey(k);
    }
  }
}

function reason(rule: CompiledRule, ctx: EvalCtx): string {
  const why = rule.condition.root.reason(ctx);
  return rule.forMs > 0 ? `${why} for ${formatDuration(rule.forMs)}` : why;
}
