import type { DeviceInfo, Scalar } from './model.js';

// The mutable state the compiled condition closures read and write. Internal to the engine.

export interface BadgeSeen {
  id: string;
  ts: number;
}

export interface DeviceRt {
  info: DeviceInfo;
  /** Merged current values: each message overwrites the fields it carries. */
  values: Record<string, Scalar>;
  /** When each field last went from "not true" to true (effective event time). */
  rise: Record<string, number>;
  /** Most recent badge reads, oldest first. */
  badges: BadgeSeen[];
  status?: 'online' | 'offline';
  battery?: number;
  /** Gateway time of the last message (data or `online`). */
  lastSeen?: number;
  /** Effective time of the last accepted event (ordering and dedup). */
  lastTs: number;
  lastValues?: Readonly<Record<string, Scalar>>;
  lastStatus?: 'online' | 'offline';
  /** Silence is measured from here: the last message, or when the engine started watching. */
  absBase: number;
}

export interface EvalCtx {
  /** Evaluation time: the event's effective time, or the due time of a timer. */
  t: number;
  dev: DeviceRt;
  sub: unknown[];
  /** True while evaluating a data message (counts only count messages). */
  data: boolean;
  /** Earliest time a time-based part may change the result (Infinity: none). */
  next: number;
  /** Set when `sub` was modified (the key must be persisted). */
  changed: boolean;
}

/** A compiled condition node. `reason` and `negReason` read the state `test` just left. */
export interface Cond {
  test(ctx: EvalCtx): boolean;
  reason(ctx: EvalCtx): string;
  negReason?(ctx: EvalCtx): string;
  text: string;
}

/** What the engine needs of a rule's condition. */
export interface RuleCondition {
  root: Cond;
  /** Fresh per-key sub-state (hysteresis latches, count windows). */
  initSub(): unknown[];
  /** The rule must be evaluated without messages (absence): every matching device gets a timer. */
  timeDriven: boolean;
  /** Hash of `listen.when`: sub-state survives a reload only when it is unchanged. */
  whenHash: string;
}
