import { z } from 'zod';
import { parseDuration } from '../../../rules/src/duration.js';
import { HASH_PATTERN } from '../listen/credentials.js';

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
  timeout: duration('10s'),
  maxAttempts: z.number().int().min(1).max(50).default(6),
  backoff: duration('2s'),
  maxBackoff: duration('5m'),
  /** A `modem` channel that sends instead when this API cannot be reached (site uplink down). */
  fallback: z.string().optional(),
});

const voiceChannel = z.strictObject({
  type: z.literal('voice'),
  /** The Twilio-compatible API root (https://api.twilio.com for Twilio itself). */
  baseUrl: z.string().url().default('https://api.twilio.com'),
  accountSid: z.string().min(1),
  authToken: z.string().min(1),
  /** Caller id: an E.164 number of the account. */
  from: z.string().min(1),
  /** How long the phone rings before the call counts as not answered. */
  ringTimeout: duration('30s'),
  /** Answering-machine detection: a voicemail does not count as reaching the person. */
  machineDetection: z.boolean().default(false),
  timeout: duration('10s'),
  /** Calls placed per delivery before it fails over (each no-answer or busy uses one). */
  maxAttempts: z.number().int().min(1).max(10).default(2),
  backoff: duration('1m'),
  maxBackoff: duration('10m'),
});

const modemChannel = z.strictObject({
  type: z.literal('modem'),
  /** Serial device of the GSM modem (/dev/ttyUSB2, /dev/serial/by-id/...). */
  path: z.string().min(1),
  baudRate: z.number().int().positive().default(115200),
  /** SIM PIN, when the SIM asks for one. */
  pin: z
    .string()
    .regex(/^\d{4,8}$/)
    .optional(),
  /** Limit on one AT command's answer (sending an SMS can take several seconds on a weak network). */
  timeout: duration('30s'),
  maxAttempts: z.number().int().min(1).max(50).default(5),
  backoff: duration('10s'),
  maxBackoff: duration('5m'),
});

const consoleChannel = z.strictObject({
  type: z.literal('console'),
});

/**
 * A siren or strobe on a relay wired to a GPIO line of the gateway: on from the step that names it
 * until the incident is acknowledged or resolved, or `maxOn` has passed.
 */
const relayChannel = z.strictObject({
  type: z.literal('relay'),
  /** Line number in the GPIO chip's numbering (BCM on a Raspberry Pi). */
  pin: z.number().int().min(0).max(1023),
  /** The relay closes when the line is driven low (many opto-isolated relay boards). */
  activeLow: z.boolean().default(false),
  /** steady: on the whole time; pulse: `period` on, `period` off (an intermittent siren, a strobe driver). */
  pattern: z.enum(['steady', 'pulse']).default('steady'),
  period: duration('1s'),
  /** Never on longer than this for one alarm: a siren nobody can stop is a nuisance, not a safety. */
  maxOn: duration('3m'),
});

export const channelSchema = z.discriminatedUnion('type', [
  webhookChannel,
  emailChannel,
  smsChannel,
  voiceChannel,
  modemChannel,
  consoleChannel,
  relayChannel,
]);

/** First path segments the gateway's own routes use (a Node-RED path there would shadow them). */
const RESERVED_PATHS = new Set(['api', 'healthz', 'readyz', 'metrics', 'hooks', 'j', 's', 'console']);

function hasEditorToken(auth: { adminToken?: string; tokens: { role: string }[] }): boolean {
  return (
    auth.adminToken !== undefined || auth.tokens.some((t) => t.role === 'integrator' || t.role === 'admin')
  );
}

export const configSchema = z
  .strictObject({
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
        /**
         * The URL at which providers and people reach this gateway (https://gw.example.com): Twilio
         * posts status callbacks, replies and keypad input there and fetches voice prompts from it;
         * alerts link to incidents under it. Required by voice, and by SMS status callbacks.
         */
        publicUrl: z.string().url().optional(),
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
    /** Voice prompts: generated from each alert's text with espeak-ng, served at signed expiring URLs. */
    prompts: z
      .strictObject({
        /** Where generated WAV files are kept (default: {dataDir}/prompts). */
        dir: z.string().optional(),
        espeak: z.string().default('espeak-ng'),
        /** Lifetime of a prompt URL handed to the provider. */
        urlTtl: duration('15m'),
        /** espeak-ng voice per language. */
        voices: z.record(z.string(), z.string()).default({ en: 'en-gb', fr: 'fr-fr' }),
      })
      .prefault({}),
    /** Storm control: what keeps an evacuation or a flapping contact from paging people 40 times. */
    storm: z
      .strictObject({
        /** When more than `after` incidents of one rule open within `window`, the rest become one grouped alert. */
        group: z
          .strictObject({ after: z.number().int().min(1).default(3), window: duration('1m') })
          .prefault({}),
        /** A rule+device opening more than `threshold` times within `window` is flapping: its next incidents page nobody. */
        flap: z
          .strictObject({ threshold: z.number().int().min(2).default(4), window: duration('10m') })
          .prefault({}),
        /** Notifications sent at most per person and per site within `window`; critical alerts are never held back. */
        rate: z
          .strictObject({
            perPerson: z.number().int().min(1).default(12),
            perSite: z.number().int().min(1).default(120),
            window: duration('10m'),
          })
          .prefault({}),
      })
      .prefault({}),
    channels: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), channelSchema).default({}),
    /**
     * Where customers are looked up (appliance serial, device, site, phone): the built-in directory
     * (SQLite, `vigie crm import FILE.csv`, or `csv` imported at start) or the site's CRM over REST.
     */
    crm: z
      .discriminatedUnion('type', [
        z.strictObject({
          type: z.literal('directory'),
          /** A CSV file imported (upserted) at every start; `vigie crm import` does it by hand. */
          csv: z.string().optional(),
        }),
        z.strictObject({
          type: z.literal('rest'),
          /** URL template; {serial}, {deviceId}, {site}, {phone} are filled in (URL-encoded). */
          url: z.string().min(1),
          /** Extra headers, typically `Authorization: Bearer ...` (never logged). */
          headers: z.record(z.string(), z.string()).default({}),
          timeout: duration('3s'),
          /** Where each customer field is in the answer, as a dot path (`contact.mobile`). */
          fields: z.record(z.string(), z.string()).default({}),
          /** Dot path of the list of customers in the answer when it is not the answer itself. */
          results: z.string().optional(),
        }),
      ])
      .default({ type: 'directory' }),
    /** The contact-center uplink: incident events and work items to NATS JetStream, commands back. */
    uplink: z
      .strictObject({
        servers: z.array(z.string().min(1)).min(1),
        user: z.string().optional(),
        pass: z.string().optional(),
        token: z.string().optional(),
        /** Streams the gateway creates if missing (or checks). */
        streams: z
          .strictObject({
            events: z.string().default('VIGIE'),
            contactCenter: z.string().default('CC'),
            /** The last heartbeat of each gateway (vigie.*.gateway.>), one message per subject. */
            gateways: z.string().default('VIGIE_GATEWAYS'),
          })
          .prefault({}),
        /** JetStream's duplicate window on streams the gateway creates: a replay within it is dropped. */
        duplicateWindow: duration('10m'),
        /** Events published per round trip while draining a backlog. */
        batch: z.number().int().min(1).max(10_000).default(256),
        /** Answer acknowledge / resolve / note requests on vigie.{site}.cmd.* (bearer token, operator role). */
        commands: z.boolean().default(true),
        /** Forward every opened incident to the contact center as a work item. */
        workItems: z.boolean().default(true),
      })
      .optional(),
    /** Technician jobs: how long their links (accept, on my way...) and survey links stay valid. */
    dispatch: z.strictObject({ linkTtl: duration('7d') }).prefault({}),
    /** Node-RED hosted in the gateway's process and HTTP server, for authoring rules as flows. */
    nodeRed: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** Where the editor and its admin API answer; its HTTP-in nodes answer under `{path}/http`. */
        path: z
          .string()
          .regex(/^(\/[a-z0-9][a-z0-9._-]*)+$/, 'a path like /red (lower case, no trailing slash)')
          .refine((p) => !RESERVED_PATHS.has(p.split('/')[1]), {
            message: `the first segment must not be one the gateway uses (${[...RESERVED_PATHS].join(', ')})`,
          })
          .default('/red'),
        /** Flows, credentials and installed nodes; relative to dataDir (default {dataDir}/node-red). */
        userDir: z.string().min(1).optional(),
        /** Who may log in to the editor; API tokens of role integrator or admin are accepted too. */
        users: z
          .array(
            z.strictObject({
              username: z
                .string()
                .regex(/^[\p{L}\p{N}._@-]{1,64}$/u, 'a name of 1 to 64 letters, digits or . _ @ -'),
              /** `vigie hash-password` output. */
              passwordHash: z.string().regex(HASH_PATTERN, 'use the output of `vigie hash-password`'),
              permissions: z.enum(['*', 'read']).default('*'),
            }),
          )
          .default([]),
        /**
         * Let the editor install node packages from npm. Off: a gateway runs what was deployed
         * with it (reproducible, and most sites have no way out to npm anyway).
         */
        allowInstall: z.boolean().default(false),
      })
      .prefault({}),
    /**
     * History for the console's charts and KPI tiles, and for Grafana. The gateway always keeps a
     * short history of its own (SQLite); InfluxDB 1.x, when configured, gets every sensor value,
     * incident transition and notification outcome, in batches, buffered on disk while it is away.
     */
    telemetry: z
      .strictObject({
        influx: z
          .strictObject({
            /** http://host:8086 */
            url: z.string().url(),
            database: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,64}$/)
              .default('vigie'),
            /** Created (and made the default) on first start, with `retention` as its duration. */
            retentionPolicy: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,64}$/)
              .default('vigie'),
            retention: duration('30d'),
            username: z.string().optional(),
            password: z.string().optional(),
            /** A batch goes when it has this many points, or when `flushInterval` has passed. */
            batchSize: z.number().int().min(1).max(50_000).default(1000),
            flushInterval: duration('1s'),
            timeout: duration('5s'),
            /** Points waiting for InfluxDB, on disk (default {dataDir}/telemetry). */
            bufferDir: z.string().min(1).optional(),
            /** Past this, the oldest buffered points are dropped (and counted). */
            maxBufferBytes: z
              .number()
              .int()
              .min(64 * 1024)
              .default(64 * 1024 * 1024),
          })
          .optional(),
        /** The gateway's own history (SQLite), always kept: the fallback when InfluxDB is not configured or away. */
        history: z
          .strictObject({
            retention: duration('48h'),
            /** A value that changes is recorded at most this often per device and field; a state change always is. */
            minInterval: duration('10s'),
          })
          .prefault({}),
      })
      .prefault({}),
    /** The live console (dashboards/console), served at /console. */
    console: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    /** The gateway's GPIO lines (site devices with `gpio`, relay channels). */
    gpio: z
      .strictObject({
        /**
         * Where line 0 of the GPIO chip is in the kernel's sysfs numbering: `auto` reads it from
         * /sys/class/gpio (512 on Raspberry Pi kernels 6.6 and later, 0 before).
         */
        chipBase: z.union([z.literal('auto'), z.number().int().min(0)]).default('auto'),
        /** How pull-up/down resistors are set (sysfs cannot): Raspberry Pi OS's `pinctrl`, older `raspi-gpio`, or `none`. */
        pullCommand: z.enum(['pinctrl', 'raspi-gpio', 'none']).default('pinctrl'),
        /** How often inputs are read back to catch an edge the kernel missed. */
        resync: duration('5s'),
      })
      .prefault({}),
    /** The gateway watching itself: heartbeats out, its own trouble raised as incidents. */
    watch: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Heartbeat period on NATS (vigie.{site}.gateway.heartbeat) and MQTT (vigie/{site}/gateway/heartbeat). */
        heartbeat: duration('15s'),
        /** How often the checks run. */
        interval: duration('5s'),
        /** Free space on the data directory's disk below either limit is a problem. */
        disk: z
          .strictObject({
            minFreeBytes: z
              .number()
              .int()
              .min(0)
              .default(256 * 1024 * 1024),
            minFreePercent: z.number().min(0).max(100).default(5),
          })
          .prefault({}),
        /** The wall clock moving this much more or less than the monotonic clock between two checks. */
        clockJump: duration('2m'),
        /** The MQTT broker (external, or the embedded one's listener) unreachable this long. */
        brokerDown: duration('30s'),
        /** The NATS uplink disconnected this long (its outbox keeps everything meanwhile). */
        uplinkDown: duration('5m'),
        /** Who hears about the gateway's own trouble: `team:ID`, `person:ID` or `oncall:ID` of the site. */
        notify: z.array(z.string().min(1)).default([]),
        /** Channels, all at once; absent: each person's channels for the severity, the next one when one fails. */
        via: z.array(z.string().min(1)).optional(),
        /**
         * Channels tried in turn when the incident store itself fails (nothing can be queued): the
         * default is every modem channel, then SMS, e-mail and webhook channels.
         */
        fallback: z.array(z.string().min(1)).optional(),
      })
      .prefault({}),
    /** The rule workbench: recordings of the site's events (README "Test your rules before deploying"). */
    workbench: z
      .strictObject({
        /** Where recordings are kept; default `<dataDir>/recordings`. */
        dir: z.string().optional(),
        /** Default size bound of one recording (all its segments), bytes. */
        maxBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(256 * 1024 * 1024),
        /** A recording's file is rotated to a new segment at this size, bytes. */
        segmentBytes: z
          .number()
          .int()
          .min(16 * 1024)
          .default(16 * 1024 * 1024),
        /** At the size bound: delete the oldest segment and go on (a flight recorder), or stop. */
        whenFull: z.enum(['drop-oldest', 'stop']).default('drop-oldest'),
        /** Recordings running at once at most. */
        maxActive: z.number().int().min(1).max(32).default(4),
        /** Recordings kept on disk at most; the oldest stopped one is deleted beyond it. */
        keep: z.number().int().min(1).max(1000).default(50),
        /** Largest recording the API replays or accepts as an upload, bytes. */
        maxReplayBytes: z
          .number()
          .int()
          .min(1024)
          .default(512 * 1024 * 1024),
      })
      .prefault({}),
    /** The demo starts the device simulator with this scenario. */
    simulator: z
      .strictObject({
        enabled: z.boolean().default(false),
        scenario: z.string().default('firmware-sim/scenarios/airport.yaml'),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    // The editor runs code in the gateway's process: it is never served without a way to log in.
    if (c.nodeRed.enabled && c.nodeRed.users.length === 0 && !hasEditorToken(c.auth)) {
      ctx.addIssue({
        code: 'custom',
        path: ['nodeRed', 'enabled'],
        message:
          'Node-RED needs at least one user (nodeRed.users), or an API token of role integrator or admin (auth.adminToken or auth.tokens)',
      });
    }
    const names = new Set<string>();
    for (const [i, u] of c.nodeRed.users.entries()) {
      if (names.has(u.username)) {
        ctx.addIssue({ code: 'custom', path: ['nodeRed', 'users', i, 'username'], message: 'listed twice' });
      }
      names.add(u.username);
    }
    // Checks across sections: a channel that cannot work with the rest of the configuration.
    for (const [name, ch] of Object.entries(c.channels)) {
      if (ch.type === 'voice' && !c.http.publicUrl) {
        ctx.addIssue({
          code: 'custom',
          path: ['channels', name],
          message: 'a voice channel needs http.publicUrl (where the provider fetches the call script)',
        });
      }
      if (ch.type === 'sms' && ch.fallback !== undefined && c.channels[ch.fallback]?.type !== 'modem') {
        ctx.addIssue({
          code: 'custom',
          path: ['channels', name, 'fallback'],
          message: `"${ch.fallback}" is not a modem channel of this configuration`,
        });
      }
    }
  });

export type Config = z.output<typeof configSchema>;
export type NodeRedConfig = Config['nodeRed'];
export type ChannelConfig = z.output<typeof channelSchema>;
export type StormConfig = Config['storm'];
export type WebhookChannelConfig = z.output<typeof webhookChannel>;
export type EmailChannelConfig = z.output<typeof emailChannel>;
export type SmsChannelConfig = z.output<typeof smsChannel>;
export type VoiceChannelConfig = z.output<typeof voiceChannel>;
export type ModemChannelConfig = z.output<typeof modemChannel>;
export type RelayChannelConfig = z.output<typeof relayChannel>;
export type GpioConfig = Config['gpio'];
export type WatchConfig = Config['watch'];
export type WorkbenchConfig = Config['workbench'];
export type CrmConfig = Config['crm'];
export type InfluxConfig = NonNullable<Config['telemetry']['influx']>;
export type HistoryConfig = Config['telemetry']['history'];
export type UplinkConfig = NonNullable<Config['uplink']>;
