// The contract between the pure rules engine and everything around it.
// Nothing in rules/src may import an I/O module (fs, net, sqlite, mqtt...): the same engine runs
// live in the gateway, in rule replay, in tests and inside Node-RED.

export type Scalar = number | boolean | string | null;

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Time source. The gateway passes the system clock, tests and replay a manual one. */
export interface Clock {
  now(): number; // epoch ms
}

/** A normalised, validated sensor event: what the listen stage hands to the engine. */
export interface SensorEvent {
  site: string;
  deviceId: string;
  kind: string;
  /** Event time (epoch ms): the payload's `ts` when plausible, else the receive time. */
  ts: number;
  /** Gateway receive time (epoch ms). */
  receivedAt: number;
  /** Normalised fields (door: open/badge, temperature: celsius, ...). Empty for status events. */
  values: Readonly<Record<string, Scalar>>;
  /** Set on status events only (retained `/status` topic or the gateway's own silence detection). */
  status?: 'online' | 'offline';
  battery?: number;
}

/** What the engine needs to know about a device (a subset of the site registry). */
export interface DeviceInfo {
  id: string;
  kind: string;
  site: string;
  zone?: string;
  name?: string;
  tags?: readonly string[];
  /** Expected maximum silence between two messages, ms. */
  heartbeatMs?: number;
}

/** Named things a rule may refer to, resolved at compile time. */
export interface RuleContext {
  /** Badge allow-lists by name. */
  badgeLists: Readonly<Record<string, readonly string[]>>;
  /** Named schedules (site file). */
  schedules: Readonly<Record<string, ScheduleSpec>>;
  /** Default time zone for schedules without one. */
  timezone: string;
}

export interface ScheduleWindow {
  days: readonly string[]; // mon..sun
  from: string; // HH:MM
  to: string; // HH:MM, may be < from to span midnight
}

export interface ScheduleSpec {
  timezone?: string;
  windows: readonly ScheduleWindow[];
}

/** An incident transition decided by the engine. Dedup: at most one open per (ruleId, deviceId). */
export interface Transition {
  type: 'open' | 'clear';
  ruleId: string;
  deviceId: string;
  severity: Severity;
  /** Engine time of the decision (epoch ms). */
  at: number;
  /** `ts` of the event that caused it; for timer-driven transitions, the due time. */
  triggerTs: number;
  /** Opens: when the condition began to hold (before a `for` window; `triggerTs` without one). */
  since?: number;
  /** Short human explanation: "celsius 31.2 > 28 for 5m", "opened without an allowed badge". */
  reason: string;
  /** The device's values when it happened. */
  values: Readonly<Record<string, Scalar>>;
}

/** Persistable engine state, one record per (rule, device) key that is not idle. */
export interface KeyRecord {
  ruleId: string;
  deviceId: string;
  /** Opaque JSON-serialisable state owned by the engine. */
  state: unknown;
}

/** Persistable per-device state (last values, last seen, badge history...). */
export interface DeviceRecord {
  deviceId: string;
  state: unknown;
}

/** A problem located in a file, as shown to integrators: `file:line: reason`. */
export interface FileProblem {
  file: string;
  line: number;
  message: string;
}
