// Schema migrations, applied in order; index + 1 = the `user_version` after it. Never edit a
// released migration: append a new one.

import { OUTBOX_SCHEMA } from '../route/uplink/schema.js';
import { CRM_SCHEMA } from '../route/crm/schema.js';
import { DISPATCH_SCHEMA } from '../route/dispatch/schema.js';

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    zone TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared', 'resolved')),
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    trigger_ts INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    cleared_at INTEGER,
    resolved_at INTEGER,
    resolved_by TEXT,
    escalation_step INTEGER NOT NULL DEFAULT 0,
    values_json TEXT NOT NULL,
    context_json TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  -- Dedup lives in the database too: at most one active incident per (rule, device), whatever the code does.
  CREATE UNIQUE INDEX incidents_active_key ON incidents (rule_id, device_id)
    WHERE state IN ('open', 'acknowledged');
  CREATE INDEX incidents_opened_at ON incidents (opened_at);
  CREATE INDEX incidents_state ON incidents (state);

  -- The audit trail: append-only, one row per transition, note and notification attempt.
  CREATE TABLE timeline (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail_json TEXT NOT NULL
  );
  CREATE INDEX timeline_incident ON timeline (incident_id, seq);

  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    step INTEGER NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    recipient_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_error TEXT,
    delivered_at INTEGER,
    latency_ms REAL
  );
  CREATE INDEX deliveries_incident ON deliveries (incident_id, created_at);
  CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);

  -- The next escalation step of an incident still open; the row goes when the incident stops escalating.
  CREATE TABLE escalations (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    next_step INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    repeats_left INTEGER NOT NULL,
    -- The rule's engage plan as it was when the incident opened: a rule reload does not change
    -- who an incident already under way escalates to.
    plan_json TEXT NOT NULL
  );
  CREATE INDEX escalations_due ON escalations (due_at);

  CREATE TABLE engine_keys (
    rule_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    state_json TEXT NOT NULL,
    PRIMARY KEY (rule_id, device_id)
  ) WITHOUT ROWID;

  CREATE TABLE engine_devices (
    device_id TEXT PRIMARY KEY,
    state_json TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // Issue 3: provider status (sent -> delivered | failed), storm control (suppressed), failover,
  // reconciliation after a crash, acknowledgement codes and grouped alerts.
  `
  CREATE TABLE deliveries_v2 (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    step INTEGER NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    recipient_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'delivered', 'failed', 'cancelled', 'suppressed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_error TEXT,
    delivered_at INTEGER,
    latency_ms REAL,
    -- When the current attempt was claimed: a provider lookup after a crash searches from here.
    claimed_at INTEGER,
    -- A crash cut an attempt between "sending" and "recorded": ask the provider before sending again.
    interrupted INTEGER NOT NULL DEFAULT 0,
    provider_id TEXT,
    provider_status TEXT,
    -- The channel that carried it when a fallback did (an SMS sent through the modem).
    sent_via TEXT,
    -- The delivery this one replaces on the person's next channel.
    failover_of TEXT
  );
  INSERT INTO deliveries_v2 (id, incident_id, step, channel, recipient, recipient_json, state, attempts,
    next_attempt_at, created_at, last_error, delivered_at, latency_ms)
    SELECT id, incident_id, step, channel, recipient, recipient_json, state, attempts,
      next_attempt_at, created_at, last_error, delivered_at, latency_ms FROM deliveries;
  DROP TABLE deliveries;
  ALTER TABLE deliveries_v2 RENAME TO deliveries;
  CREATE INDEX deliveries_incident ON deliveries (incident_id, created_at);
  CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
  CREATE INDEX deliveries_recipient ON deliveries (recipient, created_at);

  ALTER TABLE incidents ADD COLUMN ack_code TEXT;
  ALTER TABLE incidents ADD COLUMN group_id TEXT;
  ALTER TABLE incidents ADD COLUMN damped INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX incidents_ack_code ON incidents (ack_code) WHERE state IN ('open', 'acknowledged');
  -- Storm control counts recent openings per rule and per rule and device, at every opening.
  CREATE INDEX incidents_rule_opened ON incidents (rule_id, opened_at);
  CREATE INDEX incidents_rule_device_opened ON incidents (rule_id, device_id, opened_at);
  -- A group's open members: its alert acknowledges them, and passes to the oldest when its carrier ends.
  CREATE INDEX incidents_group_open ON incidents (group_id, state, opened_at) WHERE group_id IS NOT NULL;

  -- Many incidents of one rule at once (an evacuation opens 40 doors): one grouped alert.
  CREATE TABLE alert_groups (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL,
    leader_id TEXT NOT NULL REFERENCES incidents (id),
    started_at INTEGER NOT NULL,
    closes_at INTEGER NOT NULL
  );
  CREATE INDEX alert_groups_rule ON alert_groups (rule_id, closes_at);
  `,
  // 3: the route stage's proactive-service half. Each module owns its tables (the outbox, the CRM
  // directory, technician jobs); service messages (job offers, customer updates) share the
  // delivery queue with the alerts.
  `
  ALTER TABLE deliveries ADD COLUMN purpose TEXT NOT NULL DEFAULT 'alert';
  ALTER TABLE deliveries ADD COLUMN body_json TEXT;
  -- Route work an opened incident still needs (CRM lookup, technician job, contact-center work
  -- item), written with the incident so a crash before it is done does not lose it.
  CREATE TABLE route_tasks (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    route_json TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  );
  ` +
    OUTBOX_SCHEMA +
    CRM_SCHEMA +
    DISPATCH_SCHEMA,
  // 4: rules authored outside the rule directory (Node-RED flows): the last accepted set of each
  // source, run from the start so a flow's rules do not wait for Node-RED to come up.
  `
  CREATE TABLE rule_sources (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    docs_json TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 5: the gateway's own short history of sensor values, for the console's charts when InfluxDB
  // is not configured or away. Thinned on the way in (telemetry/local-history.ts), pruned by age.
  `
  CREATE TABLE samples (
    device_id TEXT NOT NULL,
    field TEXT NOT NULL,
    at INTEGER NOT NULL,
    value REAL NOT NULL
  );
  CREATE INDEX samples_series ON samples (device_id, field, at);
  CREATE INDEX samples_at ON samples (at);
  CREATE INDEX incidents_zone_opened ON incidents (zone, opened_at);
  `,
  // 6: storm control counts recent sends (per person, per site) before every delivery; without an
  // index on the claim time that count scanned every delivery ever made.
  `
  CREATE INDEX deliveries_sent_claimed ON deliveries (state, claimed_at);
  `,
];
