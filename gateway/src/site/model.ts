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

/** A contact wired to one of the gateway's GPIO lines (door contact, panic button, cabinet switch). */
export interface GpioInput {
  /** Line number in the GPIO chip's own numbering (BCM on a Raspberry Pi: GPIO17 is 17). */
  pin: number;
  /** The contact is active (door open, button pressed) while the line reads 0. */
  activeLow: boolean;
  /** Bias resistor, set at start where the platform lets us (pinctrl / raspi-gpio); `none` leaves it. */
  pull: 'up' | 'down' | 'none';
  /** A change counts once the line has held it this long: contacts bounce. */
  debounceMs: number;
  /** The kind's boolean field the line drives (door: open, button: pressed, aed: present). */
  field: string;
  /** The field's value while the contact is active (false for an AED `present` switch that opens). */
  activeValue: boolean;
}

export type ModbusType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';

/** One value read from a Modbus RTU slave into a field of the device's kind. */
export interface ModbusRegister {
  field: string;
  /** Function 03 (holding registers) or 04 (input registers). */
  table: 'holding' | 'input';
  /** Register address as sent on the wire (0-based). */
  address: number;
  /** 32-bit types span two registers. */
  type: ModbusType;
  /** Which register of a 32-bit value comes first; `big` (high word first) is the Modbus habit. */
  wordOrder: 'big' | 'little';
  /** value = raw * scale + offset (a probe sending tenths of a degree: scale 0.1). */
  scale: number;
  offset: number;
  /** Raw value (as a string) -> field value: an appliance's status register 0/1/2 -> ok/fault/off. */
  map?: Readonly<Record<string, string | number | boolean>>;
}

/** How a device on a serial line is read (site file: the device's `line`). */
export interface LineSource {
  /** Id of the serial line (site file `lines`). */
  line: string;
  /** Text lines: the value of the line's device field that designates this device (default: its id). */
  match: string;
  /** Modbus RTU: slave address 1..247. */
  unit?: number;
  /** Modbus RTU: how often the device is polled. */
  pollMs?: number;
  registers: readonly ModbusRegister[];
  /** Values sent with every reading, for fields the line does not carry (an appliance's serial number). */
  fixed: Readonly<Record<string, string | number | boolean>>;
}

/** A serial port of the gateway (RS-232, RS-485 through a USB adapter or a HAT) and how it talks. */
export interface SerialLine {
  id: string;
  /** /dev/ttyUSB0, /dev/ttyAMA0, or better /dev/serial/by-id/... (stable across reboots). */
  path: string;
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  protocol: 'lines' | 'modbus-rtu';
  /** Lines: what ends a record (default "\n"; a trailing "\r" is dropped). */
  delimiter: string;
  /** Lines: each line is a JSON object, or matches `regex` whose named groups are the fields. */
  format: 'json' | 'regex';
  regex?: string;
  /** Lines: the JSON key or regex group naming the device; absent when one device has the line to itself. */
  deviceField?: string;
  /** Lines: a longer record is dropped (and counted) instead of growing without end. */
  maxLineBytes: number;
  /** Modbus: how long a slave has to answer, and how many times a request is retried. */
  timeoutMs: number;
  retries: number;
  /** Modbus: a device that fails this many polls in a row is reported offline. */
  offlineAfter: number;
  /** Modbus: default poll period of the line's devices. */
  pollMs: number;
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
  /** Read from a GPIO line of the gateway instead of MQTT. */
  gpio?: GpioInput;
  /** Read from a serial line of the gateway instead of MQTT. */
  line?: LineSource;
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
  /** Serial lines of the gateway, by id. */
  lines: Readonly<Record<string, SerialLine>>;
}
