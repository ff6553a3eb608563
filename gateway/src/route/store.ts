import type { Database, Statement } from 'better-sqlite3';
import type { DeviceRecord, KeyRecord } from '../../../rules/src/model.js';
import { recipientKey, type Recipient } from '../engage/channel.js';
import type { Delivery, Incident, IncidentFilter, IncidentState, TimelineEntry } from './model.js';
import type { EngagePlan } from './rule-info.js';
import {
  deliveryFromRow,
  incidentFromRow,
  incidentToParams,
  timelineFromRow,
  type DeliveryRow,
  type EscalationRow,
  type IncidentRow,
  type TimelineRow,
} from './rows.js';

const INCIDENT_COLUMNS =
  'id, site, rule_id, rule_name, device_id, device_name, zone, severity, state, reason, message, trigger_ts, opened_at, acknowledged_at, acknowledged_by, cleared_at, resolved_at, resolved_by, escalation_step, values_json, context_json, updated_at, ack_code, group_id, damped';
const INCIDENT_PARAMS = INCIDENT_COLUMNS.split(', ')
  .map((c) => '@' + c)
  .join(', ');

export interface AlertGroupRow {
  id: string;
  rule_id: string;
  leader_id: string;
  started_at: number;
  closes_at: number;
}

/** The SQL of the route stage, statements prepared once. Callers own the transactions. */
export class IncidentStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      // The partial unique index (one active incident per rule and device) makes a second open a
      // no-op here, in one statement instead of a lookup and an insert.
      insertIfNoneActive: p(
        `INSERT INTO incidents (${INCIDENT_COLUMNS}) VALUES (${INCIDENT_PARAMS}) ON CONFLICT DO NOTHING`,
      ),
      clearActive: p(
        `UPDATE incidents SET state = 'cleared', cleared_at = ?, updated_at = ?
         WHERE rule_id = ? AND device_id = ? AND state IN ('open', 'acknowledged') RETURNING *`,
      ),
      updateIncident: p(
        `UPDATE incidents SET state=@state, acknowledged_at=@acknowledged_at, acknowledged_by=@acknowledged_by,
         cleared_at=@cleared_at, resolved_at=@resolved_at, resolved_by=@resolved_by,
         escalation_step=@escalation_step, updated_at=@updated_at, group_id=@group_id,
         context_json=@context_json WHERE id=@id`,
      ),
      getIncident: p('SELECT * FROM incidents WHERE id = ?'),
      countsByState: p('SELECT state, COUNT(*) AS n FROM incidents GROUP BY state'),
      appendTimeline: p(
        'INSERT INTO timeline (incident_id, at, kind, actor, detail_json) VALUES (@incidentId, @at, @kind, @actor, @detail)',
      ),
      timeline: p('SELECT * FROM timeline WHERE incident_id = ? ORDER BY seq'),
      insertDelivery: p(
        `INSERT INTO deliveries (id, incident_id, step, channel, recipient, recipient_json, state, attempts, next_attempt_at, created_at, failover_of)
         VALUES (@id, @incidentId, @step, @channel, @recipient, @recipientJson, 'pending', 0, @due, @at, @failoverOf)`,
      ),
      deliveries: p('SELECT * FROM deliveries WHERE incident_id = ? ORDER BY created_at, id'),
      getEscalation: p('SELECT * FROM escalations WHERE incident_id = ?'),
      upsertEscalation: p(
        `INSERT INTO escalations (incident_id, next_step, due_at, repeats_left, plan_json)
         VALUES (@incidentId, @nextStep, @dueAt, @repeatsLeft, @plan)
         ON CONFLICT (incident_id) DO UPDATE SET next_step = excluded.next_step, due_at = excluded.due_at,
         repeats_left = excluded.repeats_left, plan_json = excluded.plan_json`,
      ),
      deleteEscalation: p('DELETE FROM escalations WHERE incident_id = ?'),
      dueEscalations: p('SELECT * FROM escalations WHERE due_at <= ? ORDER BY due_at, incident_id'),
      nextEscalation: p('SELECT MIN(due_at) AS due FROM escalations'),
      upsertKey: p(
        `INSERT INTO engine_keys (rule_id, device_id, state_json) VALUES (?, ?, ?)
         ON CONFLICT (rule_id, device_id) DO UPDATE SET state_json = excluded.state_json`,
      ),
      deleteKey: p('DELETE FROM engine_keys WHERE rule_id = ? AND device_id = ?'),
      keys: p('SELECT rule_id, device_id, state_json FROM engine_keys'),
      upsertDevice: p(
        `INSERT INTO engine_devices (device_id, state_json) VALUES (?, ?)
         ON CONFLICT (device_id) DO UPDATE SET state_json = excluded.state_json`,
      ),
      devices: p('SELECT device_id, state_json FROM engine_devices'),
      ackCodeTaken: p(
        `SELECT 1 FROM incidents WHERE ack_code = ? AND state IN ('open', 'acknowledged') LIMIT 1`,
      ),
      byAckCode: p(
        `SELECT * FROM incidents WHERE ack_code = ? AND state IN ('open', 'acknowledged')
         ORDER BY opened_at DESC LIMIT 1`,
      ),
      openedSinceForDevice: p(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM incidents
         WHERE rule_id = ? AND device_id = ? AND opened_at >= ? LIMIT ?)`,
      ),
      openedSinceForRule: p(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM incidents
         WHERE rule_id = ? AND opened_at >= ? AND damped = 0 LIMIT ?)`,
      ),
      openGroup: p(
        'SELECT * FROM alert_groups WHERE rule_id = ? AND closes_at > ? ORDER BY closes_at DESC LIMIT 1',
      ),
      insertGroup: p(
        'INSERT INTO alert_groups (id, rule_id, leader_id, started_at, closes_at) VALUES (?, ?, ?, ?, ?)',
      ),
      getGroup: p('SELECT * FROM alert_groups WHERE id = ?'),
      groupSize: p('SELECT COUNT(*) AS n FROM incidents WHERE group_id = ?'),
      moveEscalation: p('UPDATE escalations SET incident_id = ? WHERE incident_id = ?'),
      movePending: p(`UPDATE deliveries SET incident_id = ? WHERE incident_id = ? AND state = 'pending'`),
      setLeader: p('UPDATE alert_groups SET leader_id = ? WHERE id = ?'),
      nextGroupCarrier: p(
        `SELECT * FROM incidents WHERE group_id = ? AND state = 'open' AND id != ? ORDER BY opened_at LIMIT 1`,
      ),
      groupMembers: p(`SELECT * FROM incidents WHERE group_id = ? AND state = 'open' ORDER BY opened_at`),
    };
  }

  ackCodeTaken(code: string): boolean {
    return this.s.ackCodeTaken.get(code) !== undefined;
  }

  /** The active incident people know by this code. */
  byAckCode(code: string): Incident | undefined {
    const r = this.s.byAckCode.get(code) as IncidentRow | undefined;
    return r && incidentFromRow(r);
  }

  /** Openings of a rule on a device since `since`, counted up to `cap` (storm control needs no more). */
  openedSinceForDevice(ruleId: string, deviceId: string, since: number, cap: number): number {
    return (this.s.openedSinceForDevice.get(ruleId, deviceId, since, cap) as { n: number }).n;
  }

  /** Openings of a rule (not damped) since `since`, counted up to `cap`. */
  openedSinceForRule(ruleId: string, since: number, cap: number): number {
    return (this.s.openedSinceForRule.get(ruleId, since, cap) as { n: number }).n;
  }

  openGroup(ruleId: string, now: number): AlertGroupRow | undefined {
    return this.s.openGroup.get(ruleId, now) as AlertGroupRow | undefined;
  }

  getGroup(id: string): AlertGroupRow | undefined {
    return this.s.getGroup.get(id) as AlertGroupRow | undefined;
  }

  insertGroup(g: AlertGroupRow): void {
    this.s.insertGroup.run(g.id, g.rule_id, g.leader_id, g.started_at, g.closes_at);
  }

  groupSize(groupId: string): number {
    return (this.s.groupSize.get(groupId) as { n: number }).n;
  }

  /**
   * The group's alert passes to another member still open (the leader cleared or was resolved
   * before anyone acknowledged): its pending deliveries and its escalation go with it.
   */
  handOverGroup(groupId: string, from: string, to: string): void {
    this.s.setLeader.run(to, groupId);
    this.s.movePending.run(to, from);
    this.s.moveEscalation.run(to, from);
  }

  /** The oldest member of a group still open, other than `except`. */
  nextGroupCarrier(groupId: string, except: string): Incident | undefined {
    const r = this.s.nextGroupCarrier.get(groupId, except) as IncidentRow | undefined;
    return r && incidentFromRow(r);
  }

  /** Members of a group still open (acknowledging the group's alert acknowledges them). */
  openGroupMembers(groupId: string): Incident[] {
    return (this.s.groupMembers.all(groupId) as IncidentRow[]).map(incidentFromRow);
  }

  /** Inserts unless the rule and device already have an active incident; false when it did not. */
  insertIfNoneActive(i: Incident): boolean {
    return this.s.insertIfNoneActive.run(incidentToParams(i)).changes > 0;
  }

  /** open | acknowledged -> cleared for the active incident of a rule and device, if any. */
  clearActive(ruleId: string, deviceId: string, at: number, now: number): Incident | undefined {
    const r = this.s.clearActive.get(at, now, ruleId, deviceId) as IncidentRow | undefined;
    return r && incidentFromRow(r);
  }

  updateIncident(i: Incident): void {
    this.s.updateIncident.run(incidentToParams(i));
  }

  getIncident(id: string): Incident | undefined {
    const r = this.s.getIncident.get(id) as IncidentRow | undefined;
    return r && incidentFromRow(r);
  }

  list(f: IncidentFilter): Incident[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const inList = (col: string, values: readonly string[] | undefined) => {
      if (!values || values.length === 0) return;
      where.push(`${col} IN (${values.map(() => '?').join(', ')})`);
      args.push(...values);
    };
    inList('state', f.state);
    inList('severity', f.severity);
    const cond = (sql: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(sql);
      args.push(value);
    };
    cond('zone = ?', f.zone);
    cond('device_id = ?', f.deviceId);
    cond('rule_id = ?', f.ruleId);
    cond('opened_at >= ?', f.since);
    const limit = Math.max(1, Math.min(f.limit ?? 100, 10_000));
    const sql = `SELECT * FROM incidents ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY opened_at DESC, id DESC LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...args) as IncidentRow[]).map(incidentFromRow);
  }

  countsByState(): Record<IncidentState, number> {
    const out: Record<IncidentState, number> = { open: 0, acknowledged: 0, cleared: 0, resolved: 0 };
    for (const r of this.s.countsByState.all() as { state: IncidentState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  appendTimeline(e: TimelineEntry): void {
    this.s.appendTimeline.run({ ...e, detail: JSON.stringify(e.detail) });
  }

  timeline(id: string): TimelineEntry[] {
    return (this.s.timeline.all(id) as TimelineRow[]).map(timelineFromRow);
  }

  insertDelivery(d: {
    id: string;
    incidentId: string;
    step: number;
    channel: string;
    recipient: Recipient;
    at: number;
    /** First attempt not before (a grouped alert waits for its group to close); default `at`. */
    due?: number;
    failoverOf?: string;
  }): void {
    this.s.insertDelivery.run({
      id: d.id,
      incidentId: d.incidentId,
      step: d.step,
      channel: d.channel,
      recipient: recipientKey(d.recipient),
      recipientJson: JSON.stringify(d.recipient),
      at: d.at,
      due: d.due ?? d.at,
      failoverOf: d.failoverOf ?? null,
    });
  }

  deliveries(incidentId: string): Delivery[] {
    return (this.s.deliveries.all(incidentId) as DeliveryRow[]).map(deliveryFromRow);
  }

  getEscalation(incidentId: string): EscalationRow | undefined {
    return this.s.getEscalation.get(incidentId) as EscalationRow | undefined;
  }

  setEscalation(e: {
    incidentId: string;
    nextStep: number;
    dueAt: number;
    repeatsLeft: number;
    plan: EngagePlan;
  }): void {
    this.s.upsertEscalation.run({ ...e, plan: JSON.stringify(e.plan) });
  }

  deleteEscalation(incidentId: string): void {
    this.s.deleteEscalation.run(incidentId);
  }

  dueEscalations(now: number): EscalationRow[] {
    return this.s.dueEscalations.all(now) as EscalationRow[];
  }

  nextEscalationDue(): number | undefined {
    const r = this.s.nextEscalation.get() as { due: number | null };
    return r.due ?? undefined;
  }

  upsertKey(k: KeyRecord): void {
    this.s.upsertKey.run(k.ruleId, k.deviceId, JSON.stringify(k.state ?? null));
  }

  deleteKey(ruleId: string, deviceId: string): void {
    this.s.deleteKey.run(ruleId, deviceId);
  }

  keys(): KeyRecord[] {
    return (this.s.keys.all() as { rule_id: string; device_id: string; state_json: string }[]).map((r) => ({
      ruleId: r.rule_id,
      deviceId: r.device_id,
      state: JSON.parse(r.state_json) as unknown,
    }));
  }

  upsertDevice(d: DeviceRecord): void {
    this.s.upsertDevice.run(d.deviceId, JSON.stringify(d.state ?? null));
  }

  devices(): DeviceRecord[] {
    return (this.s.devices.all() as { device_id: string; state_json: string }[]).map((r) => ({
      deviceId: r.device_id,
      state: JSON.parse(r.state_json) as unknown,
    }));
  }
}
