import type { Database } from 'better-sqlite3';
import type { DeviceRecord, KeyRecord, Transition } from '../../../rules/src/model.js';
import type { Clock } from '../core/clock.js';
import { NotFoundError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Device, Site } from '../site/model.js';
import { assertTransition } from './lifecycle.js';
import type { Actor, Delivery, Incident, IncidentFilter, IncidentState, TimelineEntry } from './model.js';
import { newId } from './ids.js';
import { Escalator } from './escalation.js';
import { buildIncident, fallbackRule } from './open.js';
import type { EngagePlan, RuleInfo } from './rule-info.js';
import { IncidentStore } from './store.js';

export type { EngagePlan, EngageStep, RuleInfo } from './rule-info.js';

export type IncidentChangeKind = 'opened' | 'acknowledged' | 'cleared' | 'resolved' | 'escalated';

/** A committed change, for the caller to publish (MQTT, live console) after the commit. */
export interface IncidentChange {
  kind: IncidentChangeKind;
  incident: Incident;
  /** ts of the sensor event behind this transition (open and clear); the opening one otherwise. */
  eventTs?: number;
}

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

  constructor(private readonly o: IncidentServiceOptions) {
    this.db = o.db;
    this.store = new IncidentStore(o.db);
    this.escalator = new Escalator(this.store, o.site, o.logger, new Set(o.consoleChannels ?? ['console']));
  }

  /** Hears operator changes (acknowledge, resolve) once committed; engine and escalation changes are returned instead. */
  onChanges(listener: (changes: readonly IncidentChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
      const i = this.db.transaction(() => this.escalator.run(due.incident_id, now))();
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
    // Dedup: the engine should not open twice, but a replay or a restart may; the database's
    // partial unique index decides.
    if (!this.store.insertIfNoneActive(i)) return undefined;
    const plan: EngagePlan = {
      message: rule.engage.message,
      steps: rule.engage.steps,
      repeat: rule.engage.repeat,
    };
    const sent = this.escalator.start(i, plan, now);
    this.store.appendTimeline({
      incidentId: i.id,
      at: t.at,
      kind: 'opened',
      actor: `rule:${t.ruleId}`,
      detail: {
        reason: t.reason,
        severity: t.severity,
        triggerTs: t.triggerTs,
        values: t.values,
        deliveries: sent,
      },
    });
    return { kind: 'opened', incident: i };
  }

  private clear(t: Transition): IncidentChange | undefined {
    // open | acknowledged -> cleared (route/lifecycle.ts) in one statement.
    const i = this.store.clearActive(t.ruleId, t.deviceId, t.at, this.o.clock.now());
    if (!i) return undefined;
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
      if (i.state === to) return { i, changed: false };
      assertTransition(i.state, to);
      const now = this.o.clock.now();
      i.state = to;
      i.updatedAt = now;
      if (to === 'acknowledged') [i.acknowledgedAt, i.acknowledgedBy] = [now, actor.id];
      else [i.resolvedAt, i.resolvedBy] = [now, actor.id];
      this.store.updateIncident(i);
      this.escalator.stop(id);
      const detail: Record<string, unknown> = { via: actor.via };
      if (note) detail.note = note;
      this.store.appendTimeline({ incidentId: id, at: now, kind: to, actor: actor.id, detail });
      return { i, changed: true };
    })();
    if (result.changed) this.notify([{ kind: to, incident: result.i }]);
    return result.i;
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
