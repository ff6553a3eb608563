import type { Scalar, Severity } from '../../../rules/src/model.js';

/**
 * Incident lifecycle. `cleared` = the condition stopped holding by itself (door closed); an operator
 * may still resolve a cleared incident to close it out (not acknowledge it: nothing is pending).
 *   open -> acknowledged | cleared | resolved
 *   acknowledged -> cleared | resolved
 *   cleared -> resolved
 */
export type IncidentState = 'open' | 'acknowledged' | 'cleared' | 'resolved';

export interface Actor {
  /** `person:alice`, `token:ops-console`, `system`, `rule:door-held-open`... */
  id: string;
  /** Channel it came from: api, console, sms, voice, webhook, system. */
  via: string;
}

export interface Incident {
  id: string;
  site: string;
  ruleId: string;
  ruleName: string;
  deviceId: string;
  deviceName: string;
  zone: string;
  severity: Severity;
  state: IncidentState;
  reason: string;
  message: string;
  /** ts of the sensor event that triggered it (for latency measurement and the timeline). */
  triggerTs: number;
  openedAt: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  clearedAt?: number;
  resolvedAt?: number;
  resolvedBy?: string;
  /** Escalation step reached so far (0 = first step). */
  escalationStep: number;
  values: Readonly<Record<string, Scalar>>;
  /** Location, camera, speaker... as attached by the route stage. */
  context: Readonly<Record<string, unknown>>;
  updatedAt: number;
  /** Four digits people quote to acknowledge by SMS (`ACK 4821`); unique among active incidents. */
  ackCode?: string;
  /** Storm control: the alert group it was folded into (one grouped alert instead of many). */
  groupId?: string;
  /** Storm control: opened while its device was flapping, so nobody was paged for it. */
  damped?: boolean;
}

/**
 * `crm`: the customer lookup's outcome; `job`: a technician job changed (offered, accepted...);
 * `customer`: the customer was told or answered the survey; `assignment`: the contact center routed it.
 */
export type TimelineKind =
  | 'opened'
  | 'acknowledged'
  | 'cleared'
  | 'resolved'
  | 'escalated'
  | 'notification'
  | 'note'
  | 'crm'
  | 'job'
  | 'customer'
  | 'assignment';

export interface TimelineEntry {
  incidentId: string;
  at: number;
  kind: TimelineKind;
  actor: string;
  detail: Readonly<Record<string, unknown>>;
}

/**
 * pending -> sending -> sent (the provider took it; its status callback will tell) -> delivered | failed
 *                    -> delivered (channels that know at once) | pending (retry) | failed
 * `cancelled`: not sent because the incident was acknowledged, cleared or resolved first.
 * `suppressed`: not sent because of a rate limit (storm control); the audit trail says which.
 */
export type DeliveryState =
  'pending' | 'sending' | 'sent' | 'delivered' | 'failed' | 'cancelled' | 'suppressed';

export interface Delivery {
  id: string;
  incidentId: string;
  step: number;
  channel: string;
  recipient: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  lastError?: string;
  deliveredAt?: number;
  /** Latency of the successful attempt, ms. */
  latencyMs?: number;
  /** The provider's id (Twilio SM.../CA..., modem:<ref>) and its last reported status. */
  providerId?: string;
  providerStatus?: string;
  /** The channel that actually carried it when a fallback did. */
  sentVia?: string;
  /** The delivery this one replaced on the person's next channel. */
  failoverOf?: string;
}

export interface IncidentFilter {
  state?: readonly IncidentState[];
  severity?: readonly Severity[];
  zone?: string;
  deviceId?: string;
  ruleId?: string;
  limit?: number;
  since?: number;
}
