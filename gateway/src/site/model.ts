import type { ScheduleSpec } from '../../../rules/src/model.js';
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

export interface Person {
  id: string;
  name: string;
  phone?: string;
  email?: string;
  language?: string;
  /** Per-person webhook target for the webhook channel (optional). */
  webhook?: string;
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

export interface Site {
  id: string;
  name: string;
  timezone: string;
  kinds: Readonly<Record<string, KindSpec>>;
  devices: readonly Device[];
  people: readonly Person[];
  teams: readonly Team[];
  clients: readonly MqttClientGrant[];
  adapters: Readonly<Record<string, AdapterSpec>>;
  badgeLists: Readonly<Record<string, readonly string[]>>;
  schedules: Readonly<Record<string, ScheduleSpec>>;
}
