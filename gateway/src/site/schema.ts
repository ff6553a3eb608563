import { z } from 'zod';
import { templatesSchema } from '../engage/templates.js';
import { SEVERITIES } from '../../../rules/src/model.js';

// The site file as written by integrators. Structural checks live here (zod); checks across
// sections (kinds used by devices, team members, duplicate ids...) live in load.ts.

/** Ids end up in MQTT topics: no `/`, `+`, `#`, spaces or leading punctuation. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORBIDDEN_FIELDS = new Set(['__proto__', 'constructor', 'prototype', 'ts', 'battery']);

export const id = z
  .string()
  .max(64)
  .regex(
    ID_PATTERN,
    'must be letters, digits, _ or - (and start with a letter or digit): ids appear in MQTT topics',
  );

const fieldName = z
  .string()
  .regex(FIELD_PATTERN, 'a field name is letters, digits and _')
  .refine((s) => !FORBIDDEN_FIELDS.has(s), 'this field name is reserved');

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM (24 h)');
const day = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

const fieldSpec = z.strictObject({
  type: z.enum(['boolean', 'number', 'string']),
  required: z.boolean().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  maxLength: z.number().int().min(1).max(4096).optional(),
});

const kindSpec = z.strictObject({ fields: z.record(fieldName, fieldSpec) });

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const fieldMapping = z.strictObject({
  from: z.string().min(1).max(256),
  invert: z.boolean().optional(),
  scale: z.number().optional(),
  offset: z.number().optional(),
  map: z.record(z.string(), scalar).optional(),
});

const adapterSpec = z.strictObject({
  format: z.enum(['json', 'text']).default('json'),
  fields: z.record(z.string().regex(FIELD_PATTERN), fieldMapping),
});

const location = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  floor: z.union([z.number(), z.string()]).optional(),
  label: z.string().optional(),
});

// A bare number is accepted so the loader can say why it is wrong (seconds? ms?).
const duration = z.union([z.string(), z.number()]);

const gpioInput = z.strictObject({
  pin: z.number().int().min(0).max(1023),
  activeLow: z.boolean().default(false),
  pull: z.enum(['up', 'down', 'none']).default('none'),
  debounce: duration.default('50ms'),
  /** Default: the kind's only required boolean field. */
  field: fieldName.optional(),
  activeValue: z.boolean().default(true),
});

const modbusRegister = z.strictObject({
  field: fieldName,
  table: z.enum(['holding', 'input']).default('holding'),
  address: z.number().int().min(0).max(65535),
  type: z.enum(['int16', 'uint16', 'int32', 'uint32', 'float32']).default('int16'),
  wordOrder: z.enum(['big', 'little']).default('big'),
  scale: z.number().default(1),
  offset: z.number().default(0),
  map: z.record(z.string(), scalar).optional(),
});

const lineSource = z.strictObject({
  /** Id of the serial line (`lines`). */
  id: z.string().min(1),
  match: z.string().min(1).max(64).optional(),
  unit: z.number().int().min(1).max(247).optional(),
  poll: duration.optional(),
  registers: z.array(modbusRegister).default([]),
  fixed: z.record(fieldName, scalar).default({}),
});

const serialLine = z.strictObject({
  path: z.string().min(1),
  baudRate: z.number().int().min(50).max(4_000_000).default(9600),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  protocol: z.enum(['lines', 'modbus-rtu']),
  delimiter: z.string().min(1).max(8).default('\n'),
  format: z.enum(['json', 'regex']).default('json'),
  regex: z.string().min(1).max(1024).optional(),
  deviceField: z.string().min(1).max(64).optional(),
  maxLineBytes: z.number().int().min(16).max(65536).default(1024),
  timeout: duration.default('500ms'),
  retries: z.number().int().min(0).max(10).default(2),
  offlineAfter: z.number().int().min(1).max(1000).default(3),
  poll: duration.default('10s'),
});

const device = z.strictObject({
  id,
  kind: z.string().min(1),
  name: z.string().min(1).optional(),
  zone: z.string().min(1),
  location: location.optional(),
  camera: z
    .strictObject({ snapshot: z.string().url().optional(), stream: z.string().url().optional() })
    .optional(),
  speaker: z.strictObject({ sip: z.string().regex(/^sips?:/, 'a SIP URI starts with sip:') }).optional(),
  tags: z.array(z.string().min(1)).default([]),
  // A bare number is accepted here so the loader can say why it is wrong (seconds? ms?).
  heartbeat: z.union([z.string(), z.number()]).optional(),
  serial: z.string().min(1).max(64).optional(),
  credentials: z.strictObject({ username: id.optional(), passwordHash: z.string() }).optional(),
  source: z.strictObject({ topic: z.string().min(1).max(256), adapter: z.string().min(1) }).optional(),
  gpio: gpioInput.optional(),
  line: lineSource.optional(),
});

const language = z.enum(['en', 'fr']);
const channelList = z.array(z.string().min(1));

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})$/;

/**
 * `2026-11-02T08:00` (a wall-clock date and time, no offset) as the epoch ms of the same fields read
 * as UTC, or undefined when it is not a real date and time (2026-02-30T08:00, 24:00).
 */
export function parseLocalDateTime(text: string): number | undefined {
  const m = LOCAL_DATE_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi);
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March: a date that does not come back unchanged is not real.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59) return undefined;
  return ms;
}

const localDateTime = z
  .string()
  .refine(
    (s) => parseLocalDateTime(s) !== undefined,
    "use a local date and time, YYYY-MM-DDTHH:MM (no offset: the zone is the schedule's)",
  );

const quietHours = z
  .strictObject({ from: hhmm, to: hhmm, timezone: z.string().optional() })
  .refine((q) => q.from !== q.to, { message: 'quiet hours from and to are the same time', path: ['to'] });

const person = z.strictObject({
  id,
  name: z.string().min(1),
  phone: z
    .string()
    .regex(/^\+?[0-9 ().-]{3,32}$/, 'a phone number in international format')
    .optional(),
  email: z.string().email().optional(),
  language: language.optional(),
  webhook: z.string().url().optional(),
  channels: z.partialRecord(z.enum([...SEVERITIES, 'default']), channelList).optional(),
  quietHours: quietHours.optional(),
});

const team = z.strictObject({ id, name: z.string().min(1), members: z.array(z.string()).min(1) });

const client = z.strictObject({
  username: id,
  passwordHash: z.string(),
  publish: z.array(z.string().min(1)).default([]),
  subscribe: z.array(z.string().min(1)).default([]),
});

const schedule = z.strictObject({
  timezone: z.string().optional(),
  windows: z.array(z.strictObject({ days: z.array(day).min(1), from: hhmm, to: hhmm })).min(1),
});

const onCall = z.strictObject({
  timezone: z.string().optional(),
  rotation: z.strictObject({
    members: z.array(z.string().min(1)).min(1, 'a rotation needs at least one member'),
    every: duration,
    start: localDateTime,
  }),
  overrides: z
    .array(z.strictObject({ person: z.string().min(1), from: localDateTime, to: localDateTime }))
    .default([]),
});

const tier = z.strictObject({
  notify: z.array(z.string().min(1)).min(1, 'a tier notifies at least one person, team or on-call schedule'),
  via: channelList.min(1, "leave via out to use each person's channels").optional(),
  mode: z.enum(['parallel', 'sequential']).default('parallel'),
  every: duration.optional(),
  wait: duration.optional(),
});

const policy = z.strictObject({
  tiers: z.array(tier).min(1, 'a policy needs at least one tier'),
  repeat: z.number().int().min(0).max(100).default(0),
  repeatAfter: duration.optional(),
});

const latitude = z
  .number()
  .min(-90, 'a latitude is between -90 and 90')
  .max(90, 'a latitude is between -90 and 90');
const longitude = z
  .number()
  .min(-180, 'a longitude is between -180 and 180')
  .max(180, 'a longitude is between -180 and 180');

const technician = z.strictObject({
  id,
  name: z.string().min(1),
  // Offers go by SMS: a technician without a phone could never be offered a job.
  phone: z.string().regex(/^\+?[0-9 ().-]{3,32}$/, 'a phone number in international format'),
  email: z.string().email().optional(),
  language: language.optional(),
  skills: z.array(z.string().min(1)).min(1, 'a technician has at least one skill'),
  base: z.strictObject({ lat: latitude, lon: longitude }),
  shift: z
    .strictObject({
      days: z.array(day).min(1, 'a shift has at least one day'),
      from: hhmm,
      to: hhmm,
      timezone: z.string().optional(),
    })
    .optional(),
});

const dispatchProfile = z.strictObject({
  /** Fault code -> skills; `default` for codes not listed. */
  skills: z.record(z.string().min(1), z.array(z.string().min(1))).default({}),
  offerTimeout: duration.default('10m'),
  dispatchers: z.string().min(1),
  sms: z.string().min(1),
  email: z.string().min(1).optional(),
  speedKmh: z.number().positive().max(300).default(40),
  roadFactor: z.number().min(1).max(5).default(1.3),
  travelMinutes: z
    .record(
      z.string().min(1),
      z.record(
        z.string().min(1),
        z
          .number()
          .min(0)
          .max(24 * 60),
      ),
    )
    .default({}),
  // Left optional (no default) so the loader can tell "email" written from the default.
  notifyCustomer: z.array(z.enum(['sms', 'email'])).optional(),
});

export const siteFileSchema = z.strictObject({
  site: id,
  name: z.string().min(1).optional(),
  timezone: z.string().default('UTC'),
  language: language.default('en'),
  kinds: z.record(id, kindSpec).default({}),
  adapters: z.record(id, adapterSpec).default({}),
  devices: z.array(device).default([]),
  people: z.array(person).default([]),
  teams: z.array(team).default([]),
  clients: z.array(client).default([]),
  badgeLists: z.record(z.string(), z.array(z.string())).default({}),
  schedules: z.record(id, schedule).default({}),
  oncall: z.record(id, onCall).default({}),
  policies: z.record(id, policy).default({}),
  templates: templatesSchema,
  technicians: z.array(technician).default([]),
  dispatch: z.record(id, dispatchProfile).default({}),
  lines: z.record(id, serialLine).default({}),
});

export type SiteFile = z.output<typeof siteFileSchema>;
