import type { Scalar, Severity } from '../../../rules/src/model.js';
import type { Recipient } from '../engage/channel.js';
import type {
  Delivery,
  DeliveryState,
  Incident,
  IncidentState,
  TimelineEntry,
  TimelineKind,
} from './model.js';
import type { EngagePlan } from './rule-info.js';

// SQLite rows <-> model objects. Columns are snake_case, nullable columns become absent fields.

export interface IncidentRow {
  id: string;
  site: string;
  rule_id: string;
  rule_name: string;
  device_id: string;
  device_name: string;
  zone: string;
  severity: string;
  state: string;
  reason: string;
  message: string;
  trigger_ts: number;
  opened_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  cleared_at: number | null;
  resolved_at: number | null;
  resolved_by: string | null;
  escalation_step: number;
  values_json: string;
  context_json: string;
  updated_at: number;
  ack_code: string | null;
  group_id: string | null;
  damped: number;
}

export function incidentFromRow(r: IncidentRow): Incident {
  const i: Incident = {
    id: r.id,
    site: r.site,
    ruleId: r.rule_id,
    ruleName: r.rule_name,
    deviceId: r.device_id,
    deviceName: r.device_name,
    zone: r.zone,
    severity: r.severity as Severity,
    state: r.state as IncidentState,
    reason: r.reason,
    message: r.message,
    triggerTs: r.trigger_ts,
    openedAt: r.opened_at,
    escalationStep: r.escalation_step,
    values: JSON.parse(r.values_json) as Record<string, Scalar>,
    context: JSON.parse(r.context_json) as Record<string, unknown>,
    updatedAt: r.updated_at,
  };
  if (r.acknowledged_at !== null) i.acknowledgedAt = r.acknowledged_at;
  if (r.acknowledged_by !== null) i.acknowledgedBy = r.acknowledged_by;
  if (r.cleared_at !== null) i.clearedAt = r.cleared_at;
  if (r.resolved_at !== null) i.resolvedAt = r.resolved_at;
  if (r.resolved_by !== null) i.resolvedBy = r.resolved_by;
  if (r.ack_code !== null) i.ackCode = r.ack_code;
  if (r.group_id !== null) i.groupId = r.group_id;
  if (r.damped) i.damped = true;
  return i;
}

export function incidentToParams(i: Incident): Record<string, string | number | null> {
  return {
    id: i.id,
    site: i.site,
    rule_id: i.ruleId,
    rule_name: i.ruleName,
    device_id: i.deviceId,
    device_name: i.deviceName,
    zone: i.zone,
    severity: i.severity,
    state: i.state,
    reason: i.reason,
    message: i.message,
    trigger_ts: i.triggerTs,
    opened_at: i.openedAt,
    acknowledged_at: i.acknowledgedAt ?? null,
    acknowledged_by: i.acknowledgedBy ?? null,
    cleared_at: i.clearedAt ?? null,
    resolved_at: i.resolvedAt ?? null,
    resolved_by: i.resolvedBy ?? null,
    escalation_step: i.escalationStep,
    values_json: JSON.stringify(i.values),
    context_json: JSON.stringify(i.context),
    updated_at: i.updatedAt,
    ack_code: i.ackCode ?? null,
    group_id: i.groupId ?? null,
    damped: i.damped ? 1 : 0,
  };
}

export interface TimelineRow {
  incident_id: string;
  at: number;
  kind: string;
  actor: string;
  detail_json: string;
}

export function timelineFromRow(r: TimelineRow): TimelineEntry {
  return {
    incidentId: r.incident_id,
    at: r.at,
    kind: r.kind as TimelineKind,
    actor: r.actor,
    detail: JSON.parse(r.detail_json) as Record<string, unknown>,
  };
}

export interface DeliveryRow {
  id: string;
  incident_id: string;
  step: number;
  channel: string;
  recipient: string;
  recipient_json: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  last_error: string | null;
  delivered_at: number | null;
  latency_ms: number | null;
  claimed_at: number | null;
  interrupted: number;
  provider_id: string | null;
  provider_status: string | null;
  sent_via: string | null;
  failover_of: string | null;
  /** `alert` (a person paged about the incident) or `service` (job offers, customer updates). */
  purpose: string;
  /** A service message's text, rendered when it was queued (engage/service-messages.ts). */
  body_json: string | null;
}

export function deliveryFromRow(r: DeliveryRow): Delivery {
  const d: Delivery = {
    id: r.id,
    incidentId: r.incident_id,
    step: r.step,
    channel: r.channel,
    recipient: r.recipient,
    state: r.state as DeliveryState,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
  };
  if (r.last_error !== null) d.lastError = r.last_error;
  if (r.delivered_at !== null) d.deliveredAt = r.delivered_at;
  if (r.latency_ms !== null) d.latencyMs = r.latency_ms;
  if (r.provider_id !== null) d.providerId = r.provider_id;
  if (r.provider_status !== null) d.providerStatus = r.provider_status;
  if (r.sent_via !== null) d.sentVia = r.sent_via;
  if (r.failover_of !== null) d.failoverOf = r.failover_of;
  return d;
}

export function recipientFromRow(r: DeliveryRow): Recipient {
  return JSON.parse(r.recipient_json) as Recipient;
}

export interface EscalationRow {
  incident_id: string;
  next_step: number;
  due_at: number;
  repeats_left: number;
  plan_json: string;
}

export function planFromRow(r: EscalationRow): EngagePlan {
  return JSON.parse(r.plan_json) as EngagePlan;
}
