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
}

export type TimelineKind =
  'opened' | 'acknowledged' | 'cleared' | 'resolved' | 'escalated' | 'notification' | 'note';

export interface TimelineEntry {
  incidentId: string;
  at: number;
  kind: TimelineKind;
  actor: string;
  detail: Readonly<Record<string, unknown>>;
}

/** `cancelled`: not sent because the incident was acknowledged, cleared or resolved first. */
export type DeliveryState = 'pending' | 'sending' | 'delivered' | 'failed' | 'cancelled';

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
