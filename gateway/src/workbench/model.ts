import type { Scalar, Severity } from '../../../rules/src/model.js';
import type { IncidentState } from '../route/model.js';

// The rule workbench: record a site's normalised events, replay them through rules on a virtual
// clock, compare two rule sets, and test rules. Every replay runs the live code (engine, route,
// escalation, storm control, step resolver, delivery worker, composer) on an in-memory database,
// with channels that record instead of sending.

/** Which events a recording keeps; empty or absent lists keep everything. */
export interface RecordingSelection {
  devices?: readonly string[];
  kinds?: readonly string[];
  zones?: readonly string[];
}

/**
 * Line 1 of every recording file (and of every segment of a rotated recording): a file is read
 * on its own. Holds no credentials: devices are named by id and kind only.
 */
export interface RecordingHeader {
  vigie: 'recording';
  version: 1;
  site: string;
  /** Recording id (`rec_...`), and the segment number of this file (1-based). */
  id: string;
  segment: number;
  startedAt: number;
  selection: RecordingSelection;
  /** Kind of every device of the selection, so events decode without the site file. */
  kinds: Readonly<Record<string, string>>;
  name?: string;
}

/** A sensor event as the listen stage accepted it (SensorEvent, minus what the header holds). */
export interface RecordedEvent {
  type: 'event';
  /** Gateway receive time (epoch ms): the replay's clock. */
  receivedAt: number;
  deviceId: string;
  /** Event time when it differs from receivedAt. */
  ts: number;
  values: Readonly<Record<string, Scalar>>;
  status?: 'online' | 'offline';
  battery?: number;
}

/**
 * What a person did to an incident (acknowledge, resolve). Replayed against the incident of the
 * same rule and device active at that time, if any: ids differ from one replay to the next.
 */
export interface RecordedAction {
  type: 'action';
  at: number;
  action: 'acknowledge' | 'resolve';
  ruleId: string;
  deviceId: string;
  /** Who did it (`person:sec-amina`, `token:ops`), shown in the replayed timeline. */
  by: string;
}

/** The last line of a recording stopped cleanly: the replay runs its clock to `stoppedAt`. */
export interface RecordingEnd {
  type: 'end';
  stoppedAt: number;
  events: number;
}

export type RecordedItem = RecordedEvent | RecordedAction;

/** A recording as the gateway lists it (`GET /api/v1/recordings`). */
export interface RecordingInfo {
  id: string;
  name?: string;
  site: string;
  selection: RecordingSelection;
  state: 'recording' | 'stopped' | 'interrupted';
  /** Why it stopped: asked, its duration ran out, its size bound was reached (whenFull: stop). */
  stopReason?: 'requested' | 'duration' | 'full' | 'shutdown';
  startedAt: number;
  stoppedAt?: number;
  /** Planned end (duration), if any. */
  endsAt?: number;
  events: number;
  actions: number;
  bytes: number;
  segments: number;
  /** Oldest segments deleted to stay under maxBytes (whenFull: drop-oldest), and their events. */
  droppedSegments: number;
  droppedEvents: number;
  /** First and last event time still on disk. */
  firstAt?: number;
  lastAt?: number;
  maxBytes: number;
}

// ---------------------------------------------------------------------------------------------
// Replay results: what the rules would have done. Times are epoch ms on the virtual clock.

export interface ReplayIncident {
  id: string;
  /** `rule/device#n`: the n-th incident (1-based) of this rule on this device in this replay. */
  key: string;
  ruleId: string;
  ruleName: string;
  deviceId: string;
  deviceName: string;
  zone: string;
  severity: Severity;
  reason: string;
  /** State when the replay ended. */
  state: IncidentState;
  openedAt: number;
  /** ts of the event behind the opening. */
  triggerTs: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  clearedAt?: number;
  resolvedAt?: number;
  resolvedBy?: string;
  escalations: { at: number; step: number; repeat: boolean }[];
  /** Storm control: flap-damped (pages nobody), or a member/leader of a grouped alert. */
  damped?: boolean;
  groupId?: string;
}

export type ReplayOutcome = 'sent' | 'suppressed' | 'cancelled' | 'failed';

export interface ReplayNotification {
  /** When the delivery worker would have sent it (or decided not to). */
  at: number;
  incidentId: string;
  incidentKey: string;
  ruleId: string;
  deviceId: string;
  severity: Severity;
  step: number;
  channel: string;
  channelType: string;
  /** recipientKey: `person:sec-amina`, `team:security`. */
  to: string;
  toName: string;
  outcome: ReplayOutcome;
  /** Why it was not sent (rate limit, incident acknowledged...). */
  detail?: string;
  /** The rendered text, as the channel would have sent it. */
  message: string;
}

export interface ReplayResult {
  site: string;
  /** Rule ids that ran. */
  rules: string[];
  /** Virtual time span replayed. */
  from: number;
  to: number;
  /** Items read, and those left out (unknown device, undecodable line) with why. */
  events: number;
  actions: number;
  skipped: number;
  problems: string[];
  incidents: ReplayIncident[];
  notifications: ReplayNotification[];
  /** Everything in time order (incident changes and notifications). */
  timeline: ReplayLine[];
  /** Wall-clock time the replay took. */
  wallMs: number;
}

/** One thing that happened in a replay, in time order: the printed timeline and the console's. */
export interface ReplayLine {
  at: number;
  kind: 'opened' | 'escalated' | 'acknowledged' | 'cleared' | 'resolved' | 'notification';
  incidentKey: string;
  severity: Severity;
  /** One human line: "door-held-open on door-b12 (Door B12): open for 30 s", "sms to Amina Diallo (person:sec-amina)". */
  text: string;
}

/** Compact values for report lines. */
export type { Scalar, Severity };
