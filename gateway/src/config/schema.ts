import { z } from 'zod';
import { parseDuration } from '../../../rules/src/duration.js';

// The whole gateway configuration, parsed once at boot (config/load.ts), frozen and passed down.
// Every default lives here, so the first run needs no file at all.

const duration = (dflt: string) =>
  z
    .string()
    .default(dflt)
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration (use 500ms, 30s, 5m, 1h)` });
        return z.NEVER;
      }
      return ms;
    });

const port = z.number().int().min(0).max(65535);

const webhookChannel = z.strictObject({
  type: z.literal('webhook'),
  url: z.string().url(),
  /** HMAC-SHA256 key for the X-Vigie-Signature header. */
  secret: z.string().min(16),
  timeout: duration('5s'),
  maxAttempts: z.number().int().min(1).max(50).default(8),
  backoff: duration('1s'),
  maxBackoff: duration('5m'),
});

const emailChannel = z.strictObject({
  type: z.literal('email'),
  host: z.string().min(1),
  port: port.default(587),
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  /** Only for a local relay without TLS (and tests). */
  ignoreTLS: z.boolean().default(false),
  user: z.string().optional(),
  password: z.string().optional(),
  from: z.string().min(3),
  timeout: duration('15s'),
  /** A dead camera must never delay the alert: the snapshot is skipped past this. */
  snapshotTimeout: duration('2s'),
  maxAttempts: z.number().int().min(1).max(50).default(8),
  backoff: duration('5s'),
  maxBackoff: duration('10m'),
});

const smsChannel = z.strictObject({
  type: z.literal('sms'),
  /** The Twilio-compatible API root (https://api.twilio.com for Twilio itself). */
  baseUrl: z.string().url().default('https://api.twilio.com'),
  accountSid: z.string().min(1),
  authToken: z.string().min(1),
  /** Sender: an E.164 number or an alphanumeric sender id. */
  from: z.string().min(1),
  /** Where the provider posts delivery status (queued, delivered, failed...). */
  statusCallback: z.string().url().optional(),
  timeout: duration('10s'),
  maxAttempts: z.number().int().min(1).max(50).default(6),
  backoff: duration('2s'),
  maxBackoff: duration('5m'),
});

const consoleChannel = z.strictObject({
  type: z.literal('console'),
});

export const channelSchema = z.discriminatedUnion('type', [
  webhookChannel,
  emailChannel,
  smsChannel,
  consoleChannel,
]);

export const configSchema = z.strictObject({
  /** Site file (devices, people, teams...). */
  site: z.string().default('rules/examples/site.yaml'),
  /** Directory of rule files, watched for changes. */
  rules: z.string().default('rules/examples'),
  dataDir: z.string().default('./data'),
  log: z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      format: z.enum(['pretty', 'json']).default('pretty'),
    })
    .prefault({}),
  mqtt: z
    .strictObject({
      mode: z.enum(['embedded', 'external']).default('embedded'),
      host: z.string().default('0.0.0.0'),
      port: port.default(1883),
      /** External broker URL, with mode: external. */
      url: z.string().optional(),
      username: z.string().optional(),
      password: z.string().optional(),
      clientId: z.string().optional(),
      maxPayloadBytes: z
        .number()
        .int()
        .min(64)
        .max(16 * 1024 * 1024)
        .default(64 * 1024),
      /** Publish incident transitions on vigie/{site}/incidents/{id}. */
      publishIncidents: z.boolean().default(true),
    })
    .prefault({}),
  http: z
    .strictObject({
      host: z.string().default('0.0.0.0'),
      port: port.default(8080),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Admin token: env VIGIE_ADMIN_TOKEN, or generated and printed at start. */
      adminToken: z.string().min(16).optional(),
      tokens: z
        .array(
          z.strictObject({
            name: z.string().min(1),
            role: z.enum(['viewer', 'operator', 'integrator', 'admin']),
            /** sha256 hex of the token; plain tokens are never stored in config. */
            sha256: z.string().regex(/^[0-9a-f]{64}$/),
          }),
        )
        .default([]),
    })
    .prefault({}),
  engine: z
    .strictObject({
      maxClockSkew: duration('5m'),
      /** How often per-device last values are written behind to SQLite. */
      deviceFlush: duration('5s'),
    })
    .prefault({}),
  channels: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), channelSchema).default({}),
  /** The demo starts the device simulator with this scenario. */
  simulator: z
    .strictObject({
      enabled: z.boolean().default(false),
      scenario: z.string().default('firmware-sim/scenarios/airport.yaml'),
    })
    .prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type ChannelConfig = z.output<typeof channelSchema>;
export type WebhookChannelConfig = z.output<typeof webhookChannel>;
export type EmailChannelConfig = z.output<typeof emailChannel>;
export type SmsChannelConfig = z.output<typeof smsChannel>;
