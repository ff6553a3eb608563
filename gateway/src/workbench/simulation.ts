import DatabaseCtor from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { Engine } from '../../../rules/src/engine.js';
import type { Transition } from '../../../rules/src/model.js';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import { createComposer } from '../engage/alert-composer.js';
import { DeliveryWorker } from '../engage/deliveries.js';
import { Failover } from '../engage/failover.js';
import { createStepResolver } from '../engage/step-resolver.js';
import { IncidentService, type IncidentChange } from '../route/incidents.js';
import type { Delivery, Incident } from '../route/model.js';
import { failoverChannel } from '../route/policy.js';
import { planRule } from '../route/rule-plan.js';
import type { Device } from '../site/model.js';
import { migrate } from '../store/db.js';
import { DryRunChannel } from './dry-run-channel.js';
import type {
  RecordedAction,
  RecordedEvent,
  ReplayIncident,
  ReplayLine,
  ReplayNotification,
  ReplayOutcome,
  ReplayResult,
} from './model.js';
import { toSensorEvent } from './recording.js';
import type { Workbench } from './setup.js';

// The live gateway minus its I/O: the same engine, incident service (storm control, escalation,
// step resolver), delivery worker (rate limits, composer, failover), each built as gateway.ts
// builds it, on an in-memory database and a manual clock. Left out on purpose: MQTT and the
// listen stage (a recording holds what listen accepted), HTTP, Node-RED, the gateway's own
// self-watch rules, and the route workflow (CRM lookups, technician dispatch, the uplink): jobs
// and customer messages are not part of what a replay shows.

const NO_KEYS = { upserts: [], deletes: [] } as const;
/** Engine state kept for persistence (which a replay does not need) is dropped this often. */
const DRAIN_EVERY = 0x10000;
/** Rounds at one virtual instant before giving up on work that stays due. */
const MAX_SPINS = 10_000;

const OUTCOME: Partial<Record<Delivery['state'], ReplayOutcome>> = {
  delivered: 'sent',
  sent: 'sent',
  failed: 'failed',
  cancelled: 'cancelled',
  suppressed: 'suppressed',
};

interface Known {
  key: string;
  ruleId: string;
  deviceId: string;
  severity: Incident['severity'];
}

export interface SimulationOptions {
  /** Virtual time the replay starts at. */
  start: number;
  onChange?: (line: ReplayLine) => void;
}

export class Simulation {
  readonly clock: ManualClock;
  readonly problems: string[] = [];
  events = 0;
  actions = 0;
  skipped = 0;
  private readonly db: Database;
  private readonly engine: Engine;
  private readonly incidents: IncidentService;
  private readonly deliveries: DeliveryWorker;
  private readonly channels = new Map<string, DryRunChannel>();
  private readonly devices: Map<string, Device>;
  private readonly rules;
  private readonly names: Map<string, string>;
  /** Incident id -> what the replay calls it, in opening order. */
  private readonly known = new Map<string, Known>();
  private readonly perPair = new Map<string, number>();
  /** Incidents that may still have deliveries to report. */
  private readonly watched = new Set<string>();
  private readonly reported = new Set<string>();
  private readonly lines: ReplayLine[] = [];
  private readonly notifications: ReplayNotification[] = [];
  private readonly unknownDevices = new Map<string, number>();
  /** min(next escalation, next delivery), read again from the database only after route work. */
  private routeDue: number | undefined;
  private routeDirty = true;
  /** Reasons of the clears being committed (the incident keeps its opening reason). */
  private clearing: readonly Transition[] = [];
  private spins = 0;
  private spinAt: number | undefined;

  constructor(
    private readonly wb: Workbench,
    private readonly o: SimulationOptions,
  ) {
    const { site, config } = wb;
    this.clock = new ManualClock(o.start);
    this.devices = new Map(site.devices.map((d) => [d.id, d]));
    this.rules = new Map(wb.rules.map((r) => [r.id, r]));
    this.names = new Map([
      ...site.people.map((p): [string, string] => [`person:${p.id}`, p.name]),
      ...site.teams.map((t): [string, string] => [`team:${t.id}`, t.name]),
    ]);
    for (const [name, type] of wb.channels) this.channels.set(name, new DryRunChannel(name, type));
    this.db = new DatabaseCtor(':memory:');
    migrate(this.db);
    const logger = silentLogger;
    const metrics = new Registry();
    const clock = this.clock;
    // As placeChannelNames: the board and relays show a step once per team as written.
    const consoles = new Set(
      [...this.channels.values()]
        .filter((c) => c.type === 'console' || c.type === 'relay')
        .map((c) => c.name),
    );
    this.incidents = new IncidentService({
      db: this.db,
      clock,
      site,
      logger,
      consoleChannels: consoles,
      storm: config.storm,
      resolveStep: createStepResolver(site, consoles, logger),
    });
    this.incidents.onChanges((changes) => this.note(changes));
    const people = new Map(site.people.map((p) => [p.id, p]));
    const failover = new Failover({
      db: this.db,
      logger,
      next: (id, severity, tried) => {
        const p = people.get(id);
        return p && failoverChannel(p, severity, tried);
      },
    });
    this.deliveries = new DeliveryWorker({
      db: this.db,
      channels: this.channels,
      clock,
      logger,
      metrics,
      incidents: this.incidents,
      compose: createComposer({
        site,
        ...(config.http.publicUrl ? { publicUrl: config.http.publicUrl } : {}),
        groupSize: (g) => this.incidents.groupSize(g),
      }),
      rate: config.storm.rate,
      onFailed: (row, incident, now) => void failover.next(row, incident, now),
    });
    this.engine = new Engine({ clock, maxClockSkewMs: config.engine.maxClockSkew });
    this.engine.setRules([...wb.rules]);
    this.engine.setDevices(site.devices);
  }

  /** Earliest virtual time something is due (a `for` window, an escalation, a delivery). */
  nextDue(): number | undefined {
    if (this.routeDirty) {
      const a = this.incidents.nextEscalationDue();
      const b = this.deliveries.nextDue();
      this.routeDue = a === undefined ? b : b === undefined ? a : Math.min(a, b);
      this.routeDirty = false;
    }
    const e = this.engine.nextDue();
    const r = this.routeDue;
    return e === undefined ? r : r === undefined ? e : Math.min(e, r);
  }

  /**
   * Runs the clock to `t`, firing what falls due on the way at its own time. Returns a promise
   * only when deliveries had to be awaited: most events cost no await at all.
   */
  advanceTo(t: number): Promise<void> | undefined {
    for (let next = this.nextDue(); next !== undefined && next <= t; next = this.nextDue()) {
      const now = Math.max(this.clock.now(), next);
      // Something due that nothing takes (a row the worker cannot claim) must not hang the replay.
      this.spins = now === this.spinAt ? this.spins + 1 : 0;
      this.spinAt = now;
      if (this.spins > MAX_SPINS) {
        if (this.spins === MAX_SPINS + 1)
          this.problems.push(
            `work due at ${new Date(now).toISOString()} never ran; the replay went on without it`,
          );
        break;
      }
      this.clock.set(now);
      // The pipeline's timer, then the scheduler's, each only when it is due: most engine timers
      // (a `for` window that ends with the door already closed) change nothing downstream.
      const engineDue = this.engine.nextDue();
      const opened = engineDue !== undefined && engineDue <= now && this.commit(this.engine.advance());
      if (opened || (this.routeDue !== undefined && this.routeDue <= now)) {
        const waiting = this.route();
        if (waiting) return waiting.then(() => this.advanceTo(t));
      }
    }
    if (t > this.clock.now()) this.clock.set(t);
    return undefined;
  }

  /** One recorded event, as the live pipeline handles an accepted message. */
  event(ev: RecordedEvent): Promise<void> | undefined {
    const device = this.devices.get(ev.deviceId);
    if (device === undefined) {
      // The live listen stage refuses devices the site file does not declare.
      this.skipped++;
      this.unknownDevices.set(ev.deviceId, (this.unknownDevices.get(ev.deviceId) ?? 0) + 1);
      return undefined;
    }
    const waiting = this.advanceTo(ev.receivedAt);
    if (waiting) return waiting.then(() => this.ingest(ev, device));
    return this.ingest(ev, device);
  }

  /**
   * A person's acknowledge or resolve, applied to the incident of that rule and device active then
   * (a resolve may also close out the latest one that cleared by itself, as people do live).
   */
  async action(a: RecordedAction): Promise<void> {
    await this.advanceTo(a.at);
    this.actions++;
    const [active] = this.incidents.list({
      ruleId: a.ruleId,
      deviceId: a.deviceId,
      state: a.action === 'resolve' ? ['open', 'acknowledged', 'cleared'] : ['open', 'acknowledged'],
      limit: 1,
    });
    if (!active) {
      this.problems.push(
        `${a.action} at ${new Date(a.at).toISOString()}: no active incident of ${a.ruleId} on ${a.deviceId}`,
      );
      return;
    }
    const actor = { id: a.by, via: 'replay' };
    if (a.action === 'acknowledge') {
      if (active.state === 'open') this.incidents.acknowledge(active.id, actor);
    } else this.incidents.resolve(active.id, actor);
    this.routeDirty = true;
  }

  /** Everything the replay did, read back from its database. */
  result(span: { from: number; to: number; wallMs: number }): ReplayResult {
    this.collectDeliveries();
    this.drain();
    const incidents: ReplayIncident[] = [];
    for (const [id, k] of this.known) {
      const i = this.incidents.get(id);
      if (i) incidents.push(this.replayIncident(i, k));
    }
    const problems = [...this.problems];
    if (this.unknownDevices.size > 0) {
      const ids = [...this.unknownDevices.keys()].sort();
      const n = [...this.unknownDevices.values()].reduce((a, b) => a + b, 0);
      problems.unshift(
        `${n} event(s) of ${ids.length} device(s) not in the site file skipped: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', ...' : ''}`,
      );
    }
    return {
      site: this.wb.site.id,
      rules: this.wb.rules.map((r) => r.id),
      from: span.from,
      to: span.to,
      events: this.events,
      actions: this.actions,
      skipped: this.skipped,
      problems,
      incidents,
      notifications: [...this.notifications].sort((a, b) => a.at - b.at),
      timeline: [...this.lines].sort((a, b) => a.at - b.at),
      wallMs: span.wallMs,
    };
  }

  close(): void {
    this.db.close();
  }

  // ---- the loop ----

  private ingest(ev: RecordedEvent, device: Device): Promise<void> | undefined {
    if ((++this.events & (DRAIN_EVERY - 1)) === 0) this.drain();
    const transitions = this.engine.ingest(toSensorEvent(ev, this.wb.site.id, device.kind));
    if (transitions.length === 0) return undefined;
    // As the pipeline's flush, then the scheduler's kick: an opened incident's first step goes now.
    return this.commit(transitions) ? this.route() : undefined;
  }

  /** Commits engine transitions; true when one opened an incident (its first step may be due now). */
  private commit(transitions: readonly Transition[]): boolean {
    if (transitions.length === 0) return false;
    this.clearing = transitions;
    try {
      const changes = this.incidents.applyTransitions(
        transitions,
        NO_KEYS,
        (id) => planRule(this.rules.get(id), this.wb.site),
        (id) => this.devices.get(id),
      );
      this.note(changes);
      if (changes.length > 0) this.routeDirty = true;
      return changes.some((c) => c.kind === 'opened');
    } finally {
      this.clearing = [];
    }
  }

  /**
   * The EngageScheduler's run: escalations due now, then the deliveries due now. A promise only
   * when sends started (the dry-run channels answer at once, but through the worker's promises).
   */
  private route(): Promise<void> | undefined {
    this.note(this.incidents.runEscalations(this.clock.now()));
    this.routeDirty = true;
    if (this.deliveries.pump() === 0) return undefined;
    return this.deliveries.idle().then(() => this.collectDeliveries());
  }

  private drain(): void {
    this.engine.takeDirtyKeys();
    this.engine.takeDirtyDevices();
  }

  // ---- what happened ----

  private note(changes: readonly IncidentChange[]): void {
    for (const c of changes) {
      const i = c.incident;
      let k = this.known.get(i.id);
      if (!k) {
        const pair = `${i.ruleId}/${i.deviceId}`;
        const n = (this.perPair.get(pair) ?? 0) + 1;
        this.perPair.set(pair, n);
        k = { key: `${pair}#${n}`, ruleId: i.ruleId, deviceId: i.deviceId, severity: i.severity };
        this.known.set(i.id, k);
      }
      if (c.kind === 'opened' || c.kind === 'escalated') this.watched.add(i.id);
      this.emit({
        at: this.clock.now(),
        kind: c.kind,
        incidentKey: k.key,
        severity: i.severity,
        text: this.changeText(c),
      });
    }
  }

  private changeText(c: IncidentChange): string {
    const i = c.incident;
    const what = `${i.ruleId} on ${i.deviceId} (${i.deviceName})`;
    switch (c.kind) {
      case 'opened': {
        const storm = i.damped
          ? ' [flapping: pages nobody]'
          : i.groupId && !this.incidents.leadsGroup(i)
            ? ' [grouped]'
            : i.groupId
              ? ' [leads a grouped alert]'
              : '';
        return `${what}: ${i.reason}${storm}`;
      }
      case 'escalated': {
        // Only the timeline says whether the step ran again (`repeat`); escalations are few.
        const last = this.incidents
          .timeline(i.id)
          .filter((e) => e.kind === 'escalated')
          .at(-1);
        return `${what}: step ${i.escalationStep + 1}${last?.detail.repeat === true ? ' again (repeat)' : ''}`;
      }
      case 'acknowledged':
        return `${what}: by ${i.acknowledgedBy ?? '?'}`;
      case 'resolved':
        return `${what}: by ${i.resolvedBy ?? '?'}`;
      case 'cleared': {
        const t = this.clearing.find((x) => x.ruleId === i.ruleId && x.deviceId === i.deviceId);
        return t ? `${what}: ${t.reason}${valuesText(t.values)}` : `${what}: cleared`;
      }
    }
  }

  /** Reports every delivery of the watched incidents that reached its outcome. */
  private collectDeliveries(): void {
    const now = this.clock.now();
    for (const id of this.watched) {
      const k = this.known.get(id);
      let waiting = false;
      // Deliveries of one instant in a stable order (their ids end in random characters).
      const all = this.incidents.deliveries(id).sort(byStepRecipientChannel);
      for (const d of all) {
        if (this.reported.has(d.id)) continue;
        const outcome = OUTCOME[d.state];
        if (!outcome || !k) {
          waiting = true;
          continue;
        }
        this.reported.add(d.id);
        const sent = this.channels.get(d.channel)?.sent.get(d.id);
        const n: ReplayNotification = {
          at: now,
          incidentId: id,
          incidentKey: k.key,
          ruleId: k.ruleId,
          deviceId: k.deviceId,
          severity: k.severity,
          step: d.step,
          channel: d.channel,
          channelType: this.wb.channels.get(d.channel) ?? 'unknown',
          to: d.recipient,
          toName: sent?.recipient.name ?? this.names.get(d.recipient) ?? d.recipient,
          outcome,
          message: sent?.message ?? '',
        };
        if (outcome !== 'sent' && d.lastError) n.detail = d.lastError;
        this.notifications.push(n);
        const who = `${n.channel} to ${n.toName} (${n.to}), step ${n.step + 1}`;
        this.emit({
          at: n.at,
          kind: 'notification',
          incidentKey: k.key,
          severity: k.severity,
          text: outcome === 'sent' ? who : `${who}: ${n.detail ?? outcome}`,
        });
      }
      if (!waiting) this.watched.delete(id);
    }
  }

  private emit(line: ReplayLine): void {
    this.lines.push(line);
    this.o.onChange?.(line);
  }

  private replayIncident(i: Incident, k: Known): ReplayIncident {
    const out: ReplayIncident = {
      id: i.id,
      key: k.key,
      ruleId: i.ruleId,
      ruleName: i.ruleName,
      deviceId: i.deviceId,
      deviceName: i.deviceName,
      zone: i.zone,
      severity: i.severity,
      reason: i.reason,
      state: i.state,
      openedAt: i.openedAt,
      triggerTs: i.triggerTs,
      escalations: this.incidents
        .timeline(i.id)
        .filter((e) => e.kind === 'escalated')
        .map((e) => ({ at: e.at, step: Number(e.detail.step), repeat: e.detail.repeat === true })),
    };
    if (i.acknowledgedAt !== undefined) out.acknowledgedAt = i.acknowledgedAt;
    if (i.acknowledgedBy !== undefined) out.acknowledgedBy = i.acknowledgedBy;
    if (i.clearedAt !== undefined) out.clearedAt = i.clearedAt;
    if (i.resolvedAt !== undefined) out.resolvedAt = i.resolvedAt;
    if (i.resolvedBy !== undefined) out.resolvedBy = i.resolvedBy;
    if (i.damped) out.damped = true;
    if (i.groupId !== undefined) out.groupId = i.groupId;
    return out;
  }
}

function byStepRecipientChannel(a: Delivery, b: Delivery): number {
  return (
    a.step - b.step || cmp(a.recipient, b.recipient) || cmp(a.channel, b.channel) || a.createdAt - b.createdAt
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** ` (open = false)`: what the device said when the condition stopped holding. */
function valuesText(values: Readonly<Record<string, unknown>>): string {
  const shown = Object.entries(values)
    .slice(0, 4)
    .map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  return shown.length > 0 ? ` (${shown.join(', ')})` : '';
}
