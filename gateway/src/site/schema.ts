import { z } from 'zod';

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
});

const person = z.strictObject({
  id,
  name: z.string().min(1),
  phone: z
    .string()
    .regex(/^\+?[0-9 ().-]{3,32}$/, 'a phone number in international format')
    .optional(),
  email: z.string().email().optional(),
  language: z.string().min(2).max(16).optional(),
  webhook: z.string().url().optional(),
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

export const siteFileSchema = z.strictObject({
  site: id,
  name: z.string().min(1).optional(),
  timezone: z.string().default('UTC'),
  kinds: z.record(id, kindSpec).default({}),
  adapters: z.record(id, adapterSpec).default({}),
  devices: z.array(device).default([]),
  people: z.array(person).default([]),
  teams: z.array(team).default([]),
  clients: z.array(client).default([]),
  badgeLists: z.record(z.string(), z.array(z.string())).default({}),
  schedules: z.record(id, schedule).default({}),
});

export type SiteFile = z.output<typeof siteFileSchema>;
