import { z } from 'zod';

// The data the router reads and writes (router/schema/vigie-events.schema.json). Inbound data is
// checked here, once: past this point routing and the KPIs trust the shapes.

export const EVENT_TYPES = {
  workItem: 'com.vigie.workitem.created',
  assignment: 'com.vigie.assignment.created',
  outcome: 'com.vigie.outcome.recorded',
  gatewaySilent: 'com.vigie.gateway.silent',
  gatewayBack: 'com.vigie.gateway.back',
} as const;

const severity = z.enum(['info', 'minor', 'major', 'critical']);

const incident = z.looseObject({
  id: z.string().min(1),
  site: z.string(),
  rule: z.string(),
  device: z.string(),
  severity,
  openedAt: z.number(),
});

const job = z.looseObject({
  id: z.string(),
  incidentId: z.string(),
  state: z.string(),
  profile: z.string(),
  skills: z.array(z.string()),
  technician: z.looseObject({ id: z.string(), firstName: z.string() }).optional(),
  customerId: z.string().optional(),
});

export const workItemSchema = z.looseObject({
  workItemId: z.string().min(1).max(200),
  site: z.string().min(1),
  incident,
  device: z.looseObject({
    id: z.string().min(1),
    name: z.string(),
    kind: z.string().min(1),
    zone: z.string(),
  }),
  customer: z
    .looseObject({
      id: z.string().min(1),
      name: z.string(),
      contract: z.string().optional(),
      value: z.number().optional(),
    })
    .optional(),
  history: z.array(
    z.looseObject({
      incidentId: z.string(),
      rule: z.string(),
      openedAt: z.number(),
      resolvedAt: z.number().optional(),
    }),
  ),
  intent: z.looseObject({
    rule: z.string().min(1),
    faultCode: z.string().optional(),
    category: z.string().min(1),
  }),
  priority: severity,
  job: job.optional(),
});

export type WorkItem = z.output<typeof workItemSchema>;
export type Tier = 'premium' | 'standard' | 'basic';

export interface AssignmentData {
  assignmentId: string;
  workItemId: string;
  incidentId: string;
  site: string;
  identification: {
    customerId?: string;
    customerName?: string;
    deviceId: string;
    pastIncidents: number;
    recentRepeat: boolean;
  };
  segment: { tier: Tier; value?: number };
  objective: { intent: string; skill: string };
  queue: string;
  resource: { kind: 'agent-queue' | 'technician-pool'; id: string };
  estimatedWaitSec: number;
  callbackOffered: boolean;
  routedBy: string;
  at: number;
}

export type OutcomeKind = 'resolved' | 'transferred' | 'abandoned';

export interface OutcomeData {
  assignmentId: string;
  workItemId: string;
  incidentId: string;
  site: string;
  outcome: OutcomeKind;
  toQueue?: string;
  at: number;
}

export const assignmentSchema = z.looseObject({
  assignmentId: z.string().min(1),
  workItemId: z.string().min(1),
  incidentId: z.string(),
  site: z.string(),
  queue: z.string(),
  at: z.number(),
});

export const outcomeSchema = z.looseObject({
  assignmentId: z.string().min(1),
  workItemId: z.string().min(1),
  site: z.string(),
  outcome: z.enum(['resolved', 'transferred', 'abandoned']),
  toQueue: z.string().optional(),
  at: z.number(),
});

/** The CloudEvent envelope as received: only what the router relies on. */
export const envelopeSchema = z.looseObject({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  type: z.string().min(1),
  subject: z.string(),
  time: z.string(),
  vigiesite: z.string().min(1),
  data: z.unknown(),
});

export type Envelope = z.output<typeof envelopeSchema>;

/** The assignment id for a work item's first routing and for its n-th transfer. */
export function assignmentId(workItemId: string, transfer = 0): string {
  return transfer === 0 ? `asg_${workItemId}` : `asg_${workItemId}_t${transfer}`;
}

/** 0 for a work item's first assignment, n for the one its n-th transfer made. */
export function transferNumber(id: string): number {
  const m = /_t(\d+)$/.exec(id);
  return m ? Number(m[1]) : 0;
}

/**
 * A gateway's heartbeat (gateway/src/watch/model.ts `Heartbeat`): plain JSON, not a CloudEvent.
 * What the router reads is required; the rest is shown as it came.
 */
export const heartbeatSchema = z.looseObject({
  site: z.string().min(1),
  gateway: z.string().min(1).max(200),
  seq: z.number().int().min(0),
  at: z.number(),
  startedAt: z.number(),
  intervalMs: z.number().positive(),
});

export type HeartbeatData = z.output<typeof heartbeatSchema>;

/** `com.vigie.gateway.silent`: a router raised an incident for a gateway's silence. */
export const gatewaySilentSchema = z.looseObject({
  site: z.string().min(1),
  gateway: z.string().min(1),
  incidentId: z.string().min(1),
  lastHeartbeat: heartbeatSchema,
  /** When the last heartbeat reached NATS (the server's clock), epoch ms. */
  lastSeenAt: z.number(),
});

export type GatewaySilentData = z.output<typeof gatewaySilentSchema>;

/** `com.vigie.gateway.back`: the heartbeats of a gateway raised as silent came back. */
export const gatewayBackSchema = z.looseObject({
  site: z.string().min(1),
  gateway: z.string().min(1),
  incidentId: z.string().min(1),
});
