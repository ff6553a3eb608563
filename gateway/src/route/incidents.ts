import type { Database } from 'better-sqlite3';
import type { DeviceRecord, KeyRecord, Transition } from '../../../rules/src/model.js';
import type { Clock } from '../core/clock.js';
import { NotFoundError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Device, Site } from '../site/model.js';
import { assertTransition } from './lifecycle.js';
import type {
  Actor,
  Delivery,
  Incident,
  IncidentFilter,
  IncidentState,
  TimelineEntry,
  TimelineKind,
} from './model.js';
import { newId } from './ids.js';
import { Escalator } from './escalation.js';
import { buildIncident, fallbackRule } from './open.js';
import type { EngagePlan, RuleInfo } from './rule-info.js';
import { IncidentStore } from './store.js';
import type { StormConfig } from '../config/schema.js';
import { newAckCode } from './ack-code.js';
import type { StepResolver } from './escalation.js';

export type { EngagePlan, EngageStep, RuleInfo } from './rule-info.js';

export type IncidentChangeKind = 'opened' | 'acknowledged' | 'cleared' | 'resolved' | 'escalated';

/** A committed change, for the caller to publish (MQTT, live console) after the commit. */
export interface IncidentChange {
  kind: IncidentChangeKind;
  incident: Incident;
  /** ts of the sensor event behind this transition (open and clear); the opening one otherwise. */
  eventTs?: number;
}

type StormDecision =
  | { kind: 'normal' }
  | { kind: 'damped'; openings: number; windowMs: number }
  | { kind: 'flapping'; flapping: { openings: number; windowMs: number } }
  | { kind: 'grouped'; groupId: string; leader: string }
  | { kind: 'leader'; groupId: string; closesAt: number };

export interface KeyChanges {
  upserts: readonly KeyRecord[];
  deletes: readonly { ruleId: string; deviceId: string }[];
}

export interface IncidentServiceOptions {
  db: Database;
  clock: Clock;
  site: Site;
  logger: Logger;
  /** Channel names that show one notification per team/person as written (default: `console`). */
  consoleChannels?: Iterable<string>;
  /** Grouping and flap damping; none when absent (unit tests of the plain lifecycle). */
  storm?: Pick<StormConfig, 'group' | 'flap'>;
  /** Who a step reaches at a given time (people, teams, on-call rotations, preferences). */
  resolveStep?: StepResolver;
  /** For tests: the source of acknowledgement codes. */
  random?: () => number;
}

/**
 * The route stage: incidents, their audit trail, their escalation and the engine state behind
 * them, all in SQLite. Every public write is one transaction, so a crash leaves either all of a
 * change or none of it.
 */
export class IncidentService {
  private readonly store: IncidentStore;
  private readonly db: Database;
  private readonly escalator: Escalator;
  private readonly listeners = new Set<(changes: readonly IncidentChange[]) => void>();
  private readonly recorders: Array<(changes: readonly IncidentChange[], now: number) => void> = [];

  constructor(private readonly o: IncidentServiceOptions) {
    this.db = o.db;
    this.store = new IncidentStore(o.db);
    this.escalator = new Escalator(
      this.store,
      o.site,
      o.logger,
      new Set(o.consoleChannels ?? ['console']),
      o.resolveStep,
    );
  }

  /** Hears operator changes (acknowledge, resolve) once committed; engine and escalation changes are returned instead. */
  onChanges(listener: (changes: readonly IncidentChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called INSIDE the transaction of every change (engine, escalation, operator): what it writes
   * (the uplink outbox, route work) is committed with the change or not at all. Must not do I/O.
   */
  addRecorder(recorder: (changes: readonly IncidentChange[], now: number) => void): void {
    this.recorders.push(recorder);
  }

  private recordIn(changes: readonly IncidentChange[]): void {
    if (changes.length === 0) return;
    const now = this.o.clock.now();
    for (const r of this.recorders) r(changes, now);
  }

  /**
   * Adds a timeline entry (and merges `context` into the incident's context) without changing its
   * state: the CRM record, a job's progress, the contact center's assignment. Nests in the caller's
   * transaction when there is one.
   */
  annotate(
    id: string,
    entry: { kind: TimelineKind; actor: string; detail: Record<string, unknown>; at?: number },
    context?: Record<string, unknown>,
  ): Incident {
    return this.db.transaction(() => {
      const i = this.mustGet(id);
      const now = this.o.clock.now();
      if (context) {
        i.context = { ...i.context, ...context };
        i.updatedAt = now;
        this.store.updateIncident(i);
      }
      this.store.appendTimeline({
        incidentId: id,
        at: entry.at ?? now,
        kind: entry.kind,
        actor: entry.actor,
        detail: entry.detail,
      });
      return i;
    })();
  }

  applyTransitions(
    transitions: readonly Transition[],
    keys: KeyChanges,
    resolveRule: (ruleId: string) => RuleInfo | undefined,
    resolveDevice: (deviceId: string) => Device | undefined,
    /** Device state committed with the keys: a restored `for` window needs the values behind it. */
    devices: readonly DeviceRecord[] = [],
  ): IncidentChange[] {
    return this.db.transaction(() => {
      const changes: IncidentChange[] = [];
      for (const t of transitions) {
        const c = t.type === 'open' ? this.open(t, resolveRule, resolveDevice) : this.clear(t);
        if (c) changes.push(c);
      }
      for (const k of keys.upserts) this.store.upsertKey(k);
      for (const k of keys.deletes) this.store.deleteKey(k.ruleId, k.deviceId);
      for (const r of devices) this.store.upsertDevice(r);
      this.recordIn(changes);
      return changes;
    })();
  }

  acknowledge(id: string, actor: Actor, note?: string): Incident {
    return this.operate(id, actor, 'acknowledged', note);
  }

  resolve(id: string, actor: Actor, note?: string): Incident {
    return this.operate(id, actor, 'resolved', note);
  }

  addNote(id: string, actor: Actor, text: string): Incident {
    return this.db.transaction(() => {
      const i = this.mustGet(id);
      i.updatedAt = this.o.clock.now();
      this.store.updateIncident(i);
      this.store.appendTimeline({
        incidentId: id,
        at: i.updatedAt,
        kind: 'note',
        actor: actor.id,
        detail: { via: actor.via, text },
      });
      return i;
    })();
  }

  get(id: string): Incident | undefined {
    return this.store.getIncident(id);
  }

  list(filter: IncidentFilter = {}): Incident[] {
    return this.store.list(filter);
  }

  timeline(id: string): TimelineEntry[] {
    return this.store.timeline(id);
  }

  deliveries(id: string): Delivery[] {
    return this.store.deliveries(id);
  }

  countsByState(): Record<IncidentState, number> {
    return this.store.countsByState();
  }

  loadEngineState(): { keys: KeyRecord[]; devices: DeviceRecord[] } {
    return { keys: this.store.keys(), devices: this.store.devices() };
  }

  saveDevices(records: readonly DeviceRecord[]): void {
    if (records.length === 0) return;
    this.db.transaction(() => {
      for (const r of records) this.store.upsertDevice(r);
    })();
  }

  dueEscalations(
    now: number,
  ): { incidentId: string; nextStep: number; dueAt: number; repeatsLeft: number }[] {
    return this.store.dueEscalations(now).map((r) => ({
      incidentId: r.incident_id,
      nextStep: r.next_step,
      dueAt: r.due_at,
      repeatsLeft: r.repeats_left,
    }));
  }

  nextEscalationDue(): number | undefined {
    return this.store.nextEscalationDue();
  }

  /** Runs every escalation due at `now`, one transaction per incident. */
  runEscalations(now: number): IncidentChange[] {
    const changes: IncidentChange[] = [];
    for (const due of this.store.dueEscalations(now)) {
      const i = this.db.transaction(() => {
        const escalated = this.escalator.run(due.incident_id, now);
        if (escalated) this.recordIn([{ kind: 'escalated', incident: escalated }]);
        return escalated;
      })();
      if (i) changes.push({ kind: 'escalated', incident: i });
    }
    return changes;
  }

  private open(
    t: Transition,
    resolveRule: (ruleId: string) => RuleInfo | undefined,
    resolveDevice: (deviceId: string) => Device | undefined,
  ): IncidentChange | undefined {
    const now = this.o.clock.now();
    let rule = resolveRule(t.ruleId);
    if (!rule) {
      this.o.logger.warn('incident opened for a rule that is no longer loaded: no notifications', {
        rule: t.ruleId,
      });
      rule = fallbackRule(t);
    }
    const i = buildIncident(newId('inc_', now), this.o.site.id, t, rule, resolveDevice(t.deviceId), now);
    i.ackCode = newAckCode((c) => this.store.ackCodeTaken(c), this.o.random);
    const storm = this.stormFor(i, t.at, now);
    if (storm.kind === 'damped') i.damped = true;
    if (storm.kind === 'flapping') i.context = { ...i.context, flapping: storm.flapping };
    if (storm.kind === 'grouped' || storm.kind === 'leader') i.groupId = storm.groupId;
    // Dedup: the engine should not open twice, but a replay or a restart may; the database's
    // partial unique index decides.
    if (!this.store.insertIfNoneActive(i)) return undefined;
    const plan: EngagePlan = {
      message: rule.engage.message,
      steps: rule.engage.steps,
      repeat: rule.engage.repeat,
    };
    let sent = 0;
    if (storm.kind === 'leader') {
      this.store.insertGroup({
        id: storm.groupId,
        rule_id: i.ruleId,
        leader_id: i.id,
        started_at: now,
        closes_at: storm.closesAt,
      });
      // The grouped alert goes out when the group closes, with its final count.
      sent = this.escalator.start(i, plan, now, storm.closesAt);
    } else if (storm.kind !== 'damped' && storm.kind !== 'grouped') sent = this.escalator.start(i, plan, now);
    const detail: Record<string, unknown> = {
      reason: t.reason,
      severity: t.severity,
      triggerTs: t.triggerTs,
      values: t.values,
      deliveries: sent,
    };
    if (storm.kind !== 'normal') detail.storm = storm;
    this.store.appendTimeline({
      incidentId: i.id,
      at: t.at,
      kind: 'opened',
      actor: `rule:${t.ruleId}`,
      detail,
    });
    return { kind: 'opened', incident: i };
  }

  /**
   * Storm control (README "Storm control"): a device opening the same rule again and again is
   * flapping and pages nobody past the threshold (the threshold-th alert says so); many incidents
   * of one rule at once (an evacuation) fold into one grouped alert after the first few.
   */
  private stormFor(i: Incident, at: number, now: number): StormDecision {
    const s = this.o.storm;
    if (!s) return { kind: 'normal' };
    const opened =
      this.store.openedSinceForDevice(i.ruleId, i.deviceId, at - s.flap.window, s.flap.threshold) + 1;
    if (opened > s.flap.threshold) return { kind: 'damped', openings: opened, windowMs: s.flap.window };
    const group = this.store.openGroup(i.ruleId, now);
    if (group) return { kind: 'grouped', groupId: group.id, leader: group.leader_id };
    if (this.store.openedSinceForRule(i.ruleId, at - s.group.window, s.group.after) >= s.group.after) {
      return { kind: 'leader', groupId: newId('grp_', now), closesAt: now + s.group.window };
    }
    if (opened === s.flap.threshold)
      return { kind: 'flapping', flapping: { openings: opened, windowMs: s.flap.window } };
    return { kind: 'normal' };
  }

  private clear(t: Transition): IncidentChange | undefined {
    // open | acknowledged -> cleared (route/lifecycle.ts) in one statement.
    const i = this.store.clearActive(t.ruleId, t.deviceId, t.at, this.o.clock.now());
    if (!i) return undefined;
    this.handOverGroup(i);
    this.escalator.stop(i.id);
    this.store.appendTimeline({
      incidentId: i.id,
      at: t.at,
      kind: 'cleared',
      actor: `rule:${t.ruleId}`,
      detail: { reason: t.reason, values: t.values },
    });
    return { kind: 'cleared', incident: i, eventTs: t.triggerTs };
  }

  private operate(id: string, actor: Actor, to: 'acknowledged' | 'resolved', note?: string): Incident {
    const result = this.db.transaction(() => {
      const i = this.mustGet(id);
      // Two operators pressing the same button: the second gets the incident as it is, no new entry.
      if (i.state === to) return { i, changed: [] as Incident[] };
      const changed = [this.transition(i, actor, to, note)];
      // The grouped alert stood for the whole group: acknowledging it acknowledges every member.
      const group = to === 'acknowledged' && i.groupId ? this.store.getGroup(i.groupId) : undefined;
      if (group && group.leader_id === i.id) {
        for (const m of this.store.openGroupMembers(group.id)) {
          changed.push(this.transition(m, actor, to, `with the group of ${i.id}`));
        }
      }
      this.recordIn(changed.map((incident) => ({ kind: to, incident })));
      return { i: changed[0], changed };
    })();
    if (result.changed.length > 0) this.notify(result.changed.map((incident) => ({ kind: to, incident })));
    return result.i;
  }

  private transition(i: Incident, actor: Actor, to: 'acknowledged' | 'resolved', note?: string): Incident {
    assertTransition(i.state, to);
    const now = this.o.clock.now();
    i.state = to;
    i.updatedAt = now;
    if (to === 'acknowledged') [i.acknowledgedAt, i.acknowledgedBy] = [now, actor.id];
    else [i.resolvedAt, i.resolvedBy] = [now, actor.id];
    this.store.updateIncident(i);
    if (to === 'resolved') this.handOverGroup(i);
    this.escalator.stop(i.id);
    const detail: Record<string, unknown> = { via: actor.via };
    if (note) detail.note = note;
    this.store.appendTimeline({ incidentId: i.id, at: now, kind: to, actor: actor.id, detail });
    return i;
  }

  /**
   * Somebody asked (keypad 2, SMS "2") to skip the wait: the next escalation step falls due now.
   * False when nothing is left to escalate to (then the caller says so).
   */
  escalateNow(id: string, actor: Actor): boolean {
    return this.db.transaction(() => {
      const i = this.mustGet(id);
      const row = this.store.getEscalation(id);
      if (i.state !== 'open' || !row) return false;
      const now = this.o.clock.now();
      this.store.setEscalation({
        incidentId: id,
        nextStep: row.next_step,
        dueAt: Math.min(row.due_at, now),
        repeatsLeft: row.repeats_left,
        plan: JSON.parse(row.plan_json) as EngagePlan,
      });
      this.store.appendTimeline({
        incidentId: id,
        at: now,
        kind: 'note',
        actor: actor.id,
        detail: { via: actor.via, text: 'asked to escalate now' },
      });
      return true;
    })();
  }

  /** A group leader that ends on its own leaves the group's alert to a member still open. */
  private handOverGroup(i: Incident): void {
    if (!i.groupId) return;
    const group = this.store.getGroup(i.groupId);
    if (!group || group.leader_id !== i.id) return;
    const next = this.store.nextGroupCarrier(group.id, i.id);
    if (!next) return;
    this.store.handOverGroup(group.id, i.id, next.id);
    this.store.appendTimeline({
      incidentId: next.id,
      at: this.o.clock.now(),
      kind: 'note',
      actor: 'system',
      detail: { text: `carries the grouped alert now (${i.id} ended first)`, group: group.id },
    });
  }

  /** The active incident people know by this acknowledgement code. */
  byAckCode(code: string): Incident | undefined {
    return this.store.byAckCode(code);
  }

  /** True for the incident that carries its group's alert (the group's other members page nobody). */
  leadsGroup(i: Incident): boolean {
    return i.groupId !== undefined && this.store.getGroup(i.groupId)?.leader_id === i.id;
  }

  /** How many incidents a group holds (its alert says so). */
  groupSize(groupId: string): number {
    return this.store.groupSize(groupId);
  }

  private notify(changes: readonly IncidentChange[]): void {
    for (const l of this.listeners) {
      try {
        l(changes);
      } catch (err) {
        this.o.logger.error('incident change listener failed', { error: (err as Error).message });
      }
    }
  }

  private mustGet(id: string): Incident {
    const i = this.store.getIncident(id);
    if (!i) throw new NotFoundError(`incident ${id}`);
    return i;
  }
}
