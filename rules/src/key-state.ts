import type { CompiledRule } from './compile.js';
import type { DeviceEntry } from './device-state.js';
import type { KeyRecord } from './model.js';
import type { HeapItem } from './timer-heap.js';

// One (rule, device) key: its phase, when its condition started holding, the condition's
// sub-state, and its timer. Persisted whenever it is not idle or carries sub-state.

export const IDLE = 0;
export const PENDING = 1;
export const ACTIVE = 2;
export type Phase = typeof IDLE | typeof PENDING | typeof ACTIVE;

export interface Key extends HeapItem {
  id: string;
  rule: CompiledRule;
  dev: DeviceEntry;
  phase: Phase;
  /** Effective time the condition started holding (pending/active). */
  since: number;
  sub: unknown[];
  persisted: boolean;
}

export function keyId(ruleId: string, deviceId: string): string {
  return `${ruleId}\u0000${deviceId}`;
}

export function newKey(rule: CompiledRule, dev: DeviceEntry): Key {
  return {
    id: keyId(rule.id, dev.info.id),
    rule,
    dev,
    phase: IDLE,
    since: 0,
    sub: rule.condition.initSub(),
    persisted: false,
    timerAt: Infinity,
    heapIdx: -1,
  };
}

/** Worth saving: a non-idle phase, or sub-state a restart must not forget (latch, count window). */
export function persistable(k: Key): boolean {
  if (k.phase !== IDLE) return true;
  for (const s of k.sub) if (s !== 0 && !(Array.isArray(s) && s.length === 0)) return true;
  return false;
}

interface StoredKey {
  p: Phase;
  s: number;
  sub: unknown[];
  h: string;
  w: string;
  ta?: number;
}

export function keyRecord(k: Key): KeyRecord {
  const state: StoredKey = {
    p: k.phase,
    s: k.since,
    sub: k.sub.map((x) => (Array.isArray(x) ? x.slice() : x)),
    h: k.rule.hash,
    w: k.rule.condition.whenHash,
  };
  if (k.timerAt !== Infinity) state.ta = k.timerAt;
  return { ruleId: k.rule.id, deviceId: k.dev.info.id, state };
}

/**
 * Puts a saved key back. Returns the timer to arm. A changed condition keeps the phase (an open
 * incident stays open until re-evaluated) but starts its sub-state afresh.
 */
export function restoreKey(k: Key, rec: KeyRecord): number {
  const s = rec.state as Partial<StoredKey> | null;
  if (!s || typeof s !== 'object') return Infinity;
  k.phase = s.p === PENDING || s.p === ACTIVE ? s.p : IDLE;
  k.since = typeof s.s === 'number' ? s.s : 0;
  const fresh = k.rule.condition.initSub();
  const sameShape =
    s.w === k.rule.condition.whenHash &&
    Array.isArray(s.sub) &&
    s.sub.length === fresh.length &&
    s.sub.every((x, i) => Array.isArray(x) === Array.isArray(fresh[i]));
  k.sub = sameShape ? s.sub!.map((x) => (Array.isArray(x) ? x.slice() : x)) : fresh;
  k.persisted = true;
  let at = typeof s.ta === 'number' ? s.ta : Infinity;
  if (k.phase === PENDING) at = Math.min(at, k.since + k.rule.forMs);
  return at;
}
