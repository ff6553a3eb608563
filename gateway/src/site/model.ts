import type { Templates } from '../engage/templates.js';
import type { ScheduleSpec, Severity } from '../../../rules/src/model.js';
import type { KindSpec } from './kinds.js';

export interface Location {
  lat: number;
  lon: number;
  floor?: number | string;
  label?: string;
}

export interface Camera {
  snapshot?: string;
  stream?: string;
}

export interface Speaker {
  sip: string;
}

/** Where a foreign device's messages come from and how they map to the native fields. */
export interface DeviceSource {
  topic: string;
  adapter: string;
}

export interface Device {
  id: string;
  kind: string;
  name: string;
  site: string;
  zone: string;
  location?: Location;
  camera?: Camera;
  speaker?: Speaker;
  tags: readonly string[];
  heartbeatMs?: number;
  /** Appliance serial number, for CRM lookups. */
  serial?: string;
  /** MQTT credentials: username defaults to the device id. The password is stored hashed only. */
  credentials?: { username: string; passwordHash: string };
  source?: DeviceSource;
}

export type Language = 'en' | 'fr';

/**
 * Channel names (from the gateway config) in failover order, per severity; `default` serves the
 * severities not listed. An empty list means "not for this severity".
 */
export type ChannelPrefs = Readonly<Partial<Record<Severity | 'default', readonly string[]>>>;

/** A daily window (HH:MM, `to` < `from` spans midnight) when only critical alerts reach the person. */
export interface QuietHours {
  from: string;
  to: string;
  /** Default: the site's time zone. */
  timezone?: string;
}

export interface Person {
  id: string;
  name: string;
  phone?: string;
  email?: string;
  language?: Language;
  /** Per-person webhook target for the webhook channel (optional). */
  webhook?: string;
  /** Absent: whoever notifies this person must say `via`. */
  channels?: ChannelPrefs;
  quietHours?: QuietHours;
}

export interface Team {
  id: string;
  name: string;
  members: readonly string[];
}

/**
 * A trusted MQTT client that is not one device: a Zigbee2MQTT bridge publishing for many sensors,
 * a display or Node-RED reading incidents, a load generator.
 */
export interface MqttClientGrant {
  username: string;
  passwordHash: string;
  /** Topic filters it may publish to (+ and # wildcards). Never vigie/{site}/incidents/#. */
  publish: readonly string[];
  /** Topic filters it may subscribe within. */
  subscribe: readonly string[];
}

export interface FieldMapping {
  /** Dotted path into the foreign JSON payload; `$` is the whole payload (for plain-text payloads). */
  from: string;
  invert?: boolean;
  scale?: number;
  offset?: number;
  /** Value lookup: foreign value (as a string) -> native value. */
  map?: Readonly<Record<string, string | number | boolean>>;
}

export interface AdapterSpec {
  /** How to read the payload: `json` (default) or `text` (the payload is a bare value). */
  format: 'json' | 'text';
  fields: Readonly<Record<string, FieldMapping>>;
}

/** Dates and times here are local wall-clock `YYYY-MM-DDTHH:MM` in the schedule's zone, as written. */
export interface OnCallOverride {
  person: string;
  from: string;
  to: string;
}

export interface Rotation {
  /** Person ids; members[0] is on call from `start`, then each in turn, `everyMs` of wall-clock apart. */
  members: readonly string[];
  everyMs: number;
  start: string;
}

export interface OnCallSchedule {
  id: string;
  /** Resolved: the site's zone when the file gives none. */
  timezone: string;
  rotation: Rotation;
  /** Later entries win when several are active. */
  overrides: readonly OnCallOverride[];
}

export interface PolicyTier {
  /** Typed entries: `person:ID`, `team:ID` or `oncall:ID` (bare ids are resolved when loading). */
  notify: readonly string[];
  /** Empty: each person's own channels for the severity. */
  via: readonly string[];
  mode: 'parallel' | 'sequential';
  /** Sequential tiers: delay between two people. */
  everyMs?: number;
  /** Delay before the next tier (or a repeat) if nobody acknowledged; required except on the last tier. */
  waitMs?: number;
}

export interface Policy {
  id: string;
  tiers: readonly PolicyTier[];
  /** Run the whole policy again `times` more times, `afterMs` after its last step, while unacknowledged. */
  repeat?: { times: number; afterMs: number };
}

export interface Technician {
  id: string;
  name: string;
  /** E.164; where job offers go by SMS. */
  phone: string;
  email?: string;
  language?: Language;
  skills: readonly string[];
  /** Where the technician starts from when no position was reported since (the depot, home). */
  base: { lat: number; lon: number };
  /** Working hours in the site's zone (or `timezone`); no shift = always on duty. */
  shift?: { days: readonly string[]; from: string; to: string; timezone?: string };
}

/** How faults of a rule become technician jobs (rule `route.dispatch: NAME`). */
export interface DispatchProfile {
  id: string;
  /** Fault code (device value `code`) -> skills needed; `default` when the code is not listed. */
  skills: Readonly<Record<string, readonly string[]>>;
  /** An offer not answered within this goes to the next technician. */
  offerTimeoutMs: number;
  /** Nobody accepted (or nobody fits): this team is notified (`team:ID`). */
  dispatchers: string;
  /** Channel names (configured) for the technician's offer and the customer's updates. */
  sms: string;
  email?: string;
  /** Great-circle estimate: km / speedKmh * 60, times roadFactor. */
  speedKmh: number;
  roadFactor: number;
  /** Configured travel times that win over the estimate: area -> technician id -> minutes. */
  travelMinutes: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Tell the customer by: sms, email, or both (default both when they have the address). */
  notifyCustomer: readonly ('sms' | 'email')[];
}

export interface Site {
  id: string;
  name: string;
  timezone: string;
  /** Default language of messages for people without one. */
  language: Language;
  kinds: Readonly<Record<string, KindSpec>>;
  devices: readonly Device[];
  people: readonly Person[];
  teams: readonly Team[];
  clients: readonly MqttClientGrant[];
  adapters: Readonly<Record<string, AdapterSpec>>;
  badgeLists: Readonly<Record<string, readonly string[]>>;
  schedules: Readonly<Record<string, ScheduleSpec>>;
  oncall: Readonly<Record<string, OnCallSchedule>>;
  policies: Readonly<Record<string, Policy>>;
  /** Alert texts per template, language and channel type (engage/templates.ts); voiceFile paths absolute. */
  templates: Templates;
  technicians: readonly Technician[];
  dispatch: Readonly<Record<string, DispatchProfile>>;
}
