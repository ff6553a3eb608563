import type { Scalar } from '../../../../rules/src/model.js';
import type { IncidentState } from '../../route/model.js';
import type { ReplayOutcome } from '../model.js';

// A rule test file, parsed (format.ts): times are offsets in ms from the test's start; `line` is
// where each part was written, so every failure points at the line to fix.

export interface Located<T> {
  value: T;
  line: number;
}

/** An expected time: exact (`30s`, from = to) or a range (`30s..35s`, both ends included). */
export interface Span {
  from: number;
  to: number;
}

/** `never`: the incident must not reach that state before the clock stops. */
export type When = Span | 'never';

export interface GivenEvent {
  type: 'event';
  line: number;
  at: number;
  device: string;
  values: Readonly<Record<string, Scalar>>;
  /** Line of each value, to point at a field the device's kind does not have. */
  valueLines: Readonly<Record<string, number>>;
  status?: 'online' | 'offline';
  battery?: number;
  /** The device's own time stamp, when it differs from `at` (a late event). */
  ts?: number;
  /** Sent again every `every` ms while the offset is at most `until` (default: the end of the test). */
  every?: number;
  until?: number;
}

export interface GivenAction {
  type: 'action';
  line: number;
  at: number;
  action: 'acknowledge' | 'resolve';
  rule: string;
  device: string;
  by: string;
}

export type Given = GivenEvent | GivenAction;

export interface IncidentExpectation {
  line: number;
  rule: string;
  device: string;
  severity?: string;
  opened?: Span;
  acknowledged?: When;
  cleared?: When;
  resolved?: When;
  /** State when the clock stops. */
  state?: IncidentState;
  /** Text the incident's reason must contain. */
  reason?: string;
  damped?: boolean;
}

export interface NotificationExpectation {
  line: number;
  /** A person or team id, or a recipient key (`person:sec-amina`, `team:security`). */
  to?: string;
  channel?: string;
  at?: Span;
  rule?: string;
  device?: string;
  /** 1 = the rule's (or policy's) first step, as the rule file reads. */
  step?: number;
  /** Default `sent`; `any` matches whatever the delivery worker decided. */
  outcome?: ReplayOutcome | 'any';
  /** Text the rendered message must contain. */
  message?: string;
  /** Exactly this many must match; without it, at least one. */
  count?: number;
}

export interface Expectations {
  line: number;
  /** Exhaustive: every incident of the replay must be listed (an empty list: none at all). */
  incidents?: IncidentExpectation[];
  notifications?: NotificationExpectation[];
  /** `notifications: none`: nothing may be sent. */
  noNotifications?: boolean;
  notificationsLine?: number;
}

export interface RuleTest {
  file: string;
  line: number;
  name: string;
  /** Own settings, else the file's. */
  start?: Located<string>;
  channels?: Located<string>[];
  rules?: Located<string>[];
  devices?: Located<string>[];
  given: Given[];
  /** Offset at which the clock stops; default: the last given time + 10 minutes. */
  until?: number;
  expect: Expectations;
}

export interface RuleTestFile {
  file: string;
  start?: Located<string>;
  channels?: Located<string>[];
  rules?: Located<string>[];
  devices?: Located<string>[];
  tests: RuleTest[];
}

/** When the clock stops when the test does not say: long enough for a step or two to escalate. */
export const DEFAULT_TAIL_MS = 10 * 60_000;
