import { hostname } from 'node:os';
import { z } from 'zod';
import { parseDuration } from '../../rules/src/duration.js';
import { ConfigError } from '../../gateway/src/core/errors.js';
import {
  deepFreeze,
  readYamlConfig,
  schemaProblems,
  type LineOf,
} from '../../gateway/src/config/yaml-config.js';
import { isSubjectToken } from '../../gateway/src/route/uplink/events.js';

// The router's configuration (README "Contact-center router"), parsed once at start and frozen.

const duration = (dflt: string) =>
  z
    .string()
    .default(dflt)
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration (use 500ms, 30s, 5m, 1h, 7d)` });
        return z.NEVER;
      }
      return ms;
    });

const optionalDuration = () =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      const ms = parseDuration(s);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration (use 500ms, 30s, 5m, 1h, 7d)` });
        return z.NEVER;
      }
      return ms;
    });

const id = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');
/** NATS names (durable, stream, queue group) are single subject tokens. */
const natsName = z.string().refine(isSubjectToken, 'letters, digits, _ and - only');
const tier = z.enum(['premium', 'standard', 'basic']);

const queue = z.strictObject({
  id,
  name: z.string().min(1),
  skills: z.array(z.string().min(1)).min(1),
  /** Agents staffing the queue: the wait estimate divides the backlog among them. */
  agents: z.number().int().min(1),
  avgHandleSec: z.number().positive(),
  /** Tiers this queue serves; none = every tier. A tier listed here prefers this queue. */
  tiers: z.array(tier).min(1).optional(),
});

const configSchema = z
  .strictObject({
    /** Name in logs, `routedBy` and the CloudEvent source; defaults to hostname-pid. */
    instance: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .optional(),
    nats: z.strictObject({
      servers: z.array(z.string().min(1)).min(1),
      user: z.string().optional(),
      pass: z.string().optional(),
      token: z.string().optional(),
    }),
    http: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8090),
        /** Bearer token required on /api/v1/*; none = open (behind a trusted network only). */
        token: z.string().min(16).optional(),
      })
      .prefault({}),
    streams: z
      .strictObject({
        events: natsName.default('VIGIE'),
        contactCenter: natsName.default('CC'),
        /** The gateways' heartbeats, `silent` and `back`: the last message of each subject. */
        gateways: natsName.default('VIGIE_GATEWAYS'),
        /** Only used when the router creates a stream: a replay within it is dropped. */
        duplicateWindow: duration('10m'),
      })
      .prefault({}),
    consumer: z
      .strictObject({
        durable: natsName.default('cc-router'),
        queue: natsName.default('cc-routers'),
        /** Fixed, so instances starting at the same moment agree on it (see jetstream.ts). */
        deliverSubject: z.string().min(1).optional(),
        ackWait: duration('30s'),
        maxDeliver: z.number().int().min(1).default(5),
        maxAckPending: z.number().int().min(1).default(1000),
      })
      .prefault({}),
    /** Gateways watched through their heartbeats (README "Self-watch"). */
    gateways: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Silence that makes a gateway silent; none = 3 of the periods its heartbeat announces. */
        silentAfter: optionalDuration(),
        /** How often silences are looked for. */
        checkEvery: duration('1s'),
      })
      .prefault({}),
    queues: z.array(queue).min(1),
    technicianPools: z.array(z.strictObject({ id, skills: z.array(z.string().min(1)).min(1) })).default([]),
    /** Contract level (CRM `contract`) -> tier; a contract listed nowhere is `basic`. */
    segments: z
      .strictObject({
        premium: z.array(z.string()).default(['premium', 'gold', 'platinum']),
        standard: z.array(z.string()).default(['standard', 'silver']),
        /** A customer worth at least this much a year is premium whatever the contract. */
        premiumValueAbove: z.number().positive().optional(),
      })
      .prefault({}),
    /**
     * Fault code, rule id or device kind -> intent and skill, looked up in that order (the most
     * specific first); `default` when none matches.
     */
    intents: z.record(
      z.string().min(1),
      z.strictObject({ intent: z.string().min(1), skill: z.string().min(1) }),
    ),
    /** Where a work item goes when no queue has its skill; none = the first queue. */
    fallbackQueue: id.optional(),
    /** A callback is offered when the estimated wait is longer than this. */
    callbackAboveSec: z.number().min(0).default(300),
    /** A new work item for the same device or customer within this re-opens the previous one. */
    reopenWindow: duration('7d'),
    /** How long the router remembers incidents and work items for the KPIs. */
    retention: duration('30d'),
    log: z.strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') }).prefault({}),
  })
  .superRefine((c, ctx) => {
    const ids = new Set<string>();
    c.queues.forEach((q, i) => {
      if (ids.has(q.id))
        ctx.addIssue({ code: 'custom', path: ['queues', i, 'id'], message: `duplicate queue "${q.id}"` });
      ids.add(q.id);
    });
    if (c.fallbackQueue !== undefined && !ids.has(c.fallbackQueue))
      ctx.addIssue({ code: 'custom', path: ['fallbackQueue'], message: `no queue "${c.fallbackQueue}"` });
    const served = new Set(c.queues.flatMap((q) => q.skills));
    for (const [key, v] of Object.entries(c.intents)) {
      if (!served.has(v.skill))
        ctx.addIssue({
          code: 'custom',
          path: ['intents', key, 'skill'],
          message: `no queue has skill "${v.skill}"`,
        });
    }
  });

export type RouterConfig = z.output<typeof configSchema> & { instance: string };
export type QueueConfig = RouterConfig['queues'][number];

/** Parses and validates a config object (tests build them in code); `where` names it in errors. */
export function parseRouterConfig(
  raw: unknown,
  where = '(config)',
  lineOf: LineOf = () => 0,
): Readonly<RouterConfig> {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = schemaProblems(parsed.error.issues, where, lineOf);
    throw new ConfigError('VIGIE_ERR_CONFIG_INVALID', problems);
  }
  const cfg = { ...parsed.data, instance: parsed.data.instance ?? `${hostname()}-${process.pid}` };
  return deepFreeze(cfg);
}

/** Reads a YAML file; every problem is reported with its line. */
export function loadRouterConfig(file: string): Readonly<RouterConfig> {
  const { raw, lineOf } = readYamlConfig(file);
  return parseRouterConfig(raw, file, lineOf);
}
