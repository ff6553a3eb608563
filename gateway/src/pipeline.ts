import { performance } from 'node:perf_hooks';
import type { Engine } from '../../rules/src/engine.js';
import type { DeviceRecord, KeyRecord, SensorEvent, Transition } from '../../rules/src/model.js';
import type { Config } from './config/schema.js';
import type { Clock } from './core/clock.js';
import type { Logger } from './core/log.js';
import type { Registry } from './core/metrics.js';
import type { LiveHub } from './engage/live-hub.js';
import type { EngageScheduler } from './engage/scheduler.js';
import { planRule } from './route/rule-plan.js';
import { REJECTION_TEXT, type Ingest } from './listen/ingest.js';
import type { InjectResult } from './red/link.js';
import type { MqttTransport } from './listen/transport.js';
import type { IncidentChange, IncidentService } from './route/incidents.js';
import type { Device, Site } from './site/model.js';
import { incidentSummary } from './route/summary.js';
import type { RuleInfo } from './route/rule-info.js';
import type { RuleSetManager } from './ruleset/manager.js';

type KeyChanges = { upserts: KeyRecord[]; deletes: { ruleId: string; deviceId: string }[] };

/**
 * The hot path. Each MQTT message is validated and evaluated synchronously (sub-millisecond);
 * what must be durable (incident changes and the engine state behind them) is committed once per
 * event-loop turn for all the messages of that turn (group commit), and only then published,
 * so nothing is announced that a crash could take back.
 */
export class Pipeline {
  private pending: Transition[] = [];
  private pendingKeys = new Map<string, KeyRecord | { ruleId: string; deviceId: string; deleted: true }>();
  private flushScheduled = false;
  private unsavedDevices: DeviceRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedDue: number | undefined;
  private deviceTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly devices: Map<string, Device>;
  private readonly evalSeconds;
  private readonly storeErrors;
  private readonly published: (kind: string) => { inc(n?: number): void };
  storeHealthy = true;

  constructor(
    private readonly d: {
      config: Readonly<Config>;
      site: Site;
      clock: Clock;
      engine: Engine;
      ingest: Ingest;
      incidents: IncidentService;
      ruleset: RuleSetManager;
      transport: MqttTransport;
      live: LiveHub;
      scheduler: EngageScheduler;
      metrics: Registry;
      logger: Logger;
      /** History and InfluxDB: handed every accepted event, after the engine. */
      telemetry?: { sensor(ev: SensorEvent): void };
      /** The workbench's recordings: handed every accepted event, after the engine. */
      recorder?: { sensor(ev: SensorEvent): void };
      /** The gateway's own rules (self-watch, `gateway-*`): not in the rule set, never reloaded away. */
      systemRule?: (id: string) => RuleInfo | undefined;
      /** The pseudo-device the gateway's own incidents are about. */
      gatewayDevice?: Device;
    },
  ) {
    this.devices = new Map(d.site.devices.map((x) => [x.id, x]));
    if (d.gatewayDevice) this.devices.set(d.gatewayDevice.id, d.gatewayDevice);
    this.evalSeconds = d.metrics.histogram(
      'vigie_rule_evaluation_seconds',
      'Time to evaluate the rules for one event',
      [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    );
    this.storeErrors = d.metrics.counter('vigie_store_errors_total', 'Failed writes to the incident store');
    // Bound once per kind: announce() runs for every transition.
    const transitions = d.metrics.counter('vigie_incident_transitions_total', 'Incident transitions by kind');
    const byKind = new Map<string, { inc(n?: number): void }>();
    this.published = (kind) => {
      let c = byKind.get(kind);
      if (!c) byKind.set(kind, (c = transitions.labels({ kind })));
      return c;
    };
    const engineStats = d.engine.stats;
    d.metrics.gauge(
      'vigie_events_ignored_total',
      'Events accepted by listen but ignored by the engine',
      () => [
        [{ reason: 'duplicate' }, engineStats.duplicates],
        [{ reason: 'out_of_order' }, engineStats.outOfOrder],
      ],
    );
    d.metrics.gauge(
      'vigie_events_ts_skewed_total',
      'Events whose ts was too far from the gateway clock',
      () => [[{}, engineStats.skewed]],
    );
    // Every committed change is announced once: escalations from the scheduler, operator actions
    // (acknowledge, resolve) from the service; engine transitions from flush() below.
    d.scheduler.onChanges((changes) => this.announce(changes));
    d.incidents.onChanges((changes) => this.announce(changes));
    // A reloaded rule may be due at once (a shorter `for`): let the engine look now.
    d.ruleset.onLoaded(() => {
      if (!this.stopped) setImmediate(() => this.onTimer());
    });
  }

  start(): void {
    this.deviceTimer = setInterval(() => this.saveDevices(), this.d.config.engine.deviceFlush);
    this.deviceTimer.unref();
    // Timers that fell due while the gateway was down fire now (restore() put them back).
    this.onTimer();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.deviceTimer) clearInterval(this.deviceTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.flush();
    this.saveDevices();
  }

  /** The accepted event, or undefined when listen refused the message (Ingest.lastRejection says why). */
  onMessage(topic: string, payload: Buffer): SensorEvent | undefined {
    const ev = this.d.ingest.handle(topic, payload);
    if (ev === undefined) return undefined;
    const t0 = performance.now();
    const transitions = this.d.engine.ingest(ev);
    this.evalSeconds.observe((performance.now() - t0) / 1000);
    for (let i = 0; i < transitions.length; i++) this.pending.push(transitions[i]);
    this.scheduleFlush();
    this.d.telemetry?.sensor(ev);
    this.d.recorder?.sensor(ev);
    // After the engine, so a listener (Node-RED's `vigie listen`) never delays a rule; a property
    // read per event when nobody listens.
    if (this.d.live.wantsSensor) this.d.live.emitSensor(ev);
    return ev;
  }

  /** A message fed in by hand (Node-RED, the API): the MQTT path, with the reason when refused. */
  inject(topic: string, payload: Buffer): InjectResult {
    this.d.ingest.lastRejection = undefined;
    const ev = this.onMessage(topic, payload);
    if (ev) return { ok: true, deviceId: ev.deviceId };
    const reason = this.d.ingest.lastRejection ?? 'malformed_json';
    return { ok: false, error: `${reason}: ${REJECTION_TEXT[reason]}` };
  }

  /**
   * The gateway's own problems (self-watch): committed, announced and engaged like the engine's
   * decisions, and retried the same way while the store refuses.
   */
  raise(transitions: readonly Transition[]): void {
    if (transitions.length === 0) return;
    for (const t of transitions) this.pending.push(t);
    this.scheduleFlush();
  }

  /** The engage plan of a rule: the rule set's, or one of the gateway's own. */
  rulePlan(id: string): RuleInfo | undefined {
    return this.d.systemRule?.(id) ?? planRule(this.d.ruleset.rule(id), this.d.site);
  }

  /** Publishes committed changes (MQTT, live console, log). Called for engine, escalation and API changes. */
  announce(changes: readonly IncidentChange[]): void {
    const { site, transport, live, logger, config } = this.d;
    for (const c of changes) {
      const i = c.incident;
      this.published(c.kind).inc();
      // triggerTs: the event behind *this* transition (a clear's is the event that cleared it).
      const body = { ...incidentSummary(i), transition: c.kind, triggerTs: c.eventTs ?? i.triggerTs };
      if (config.mqtt.publishIncidents) {
        transport.publish(`vigie/${site.id}/incidents/${i.id}`, JSON.stringify(body), { qos: 1 });
      }
      live.emit({ type: 'incident', at: i.updatedAt, data: body });
      const level = i.severity === 'critical' && c.kind === 'opened' ? 'warn' : 'info';
      if (logger.enabled(level)) {
        logger[level](
          `incident ${c.kind}: ${i.id} ${i.severity.toUpperCase()} ${i.ruleId} on ${i.deviceId} (${i.zone}): ${i.reason}`,
        );
      }
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private takeKeys(): KeyChanges {
    const fresh = this.d.engine.takeDirtyKeys();
    if (this.pendingKeys.size === 0) return fresh;
    // A previous commit failed: merge what it carried with what changed since (latest wins).
    for (const u of fresh.upserts) this.pendingKeys.set(`${u.ruleId}\u0000${u.deviceId}`, u);
    for (const k of fresh.deletes)
      this.pendingKeys.set(`${k.ruleId}\u0000${k.deviceId}`, { ...k, deleted: true });
    const out: KeyChanges = { upserts: [], deletes: [] };
    for (const v of this.pendingKeys.values()) {
      if ('deleted' in v) out.deletes.push({ ruleId: v.ruleId, deviceId: v.deviceId });
      else out.upserts.push(v);
    }
    this.pendingKeys.clear();
    return out;
  }

  private flush(): void {
    this.flushScheduled = false;
    const transitions = this.pending;
    const keys = this.takeKeys();
    if (transitions.length === 0 && keys.upserts.length === 0 && keys.deletes.length === 0) {
      this.armTimer();
      return;
    }
    this.pending = [];
    // Engine state changed: its devices' values go in the same commit, or a restored `for` window
    // would wake up with no values to evaluate. (Plain value updates are written behind.)
    const devices = this.d.engine.takeDirtyDevices();
    let changes: readonly IncidentChange[];
    try {
      changes = this.d.incidents.applyTransitions(
        transitions,
        keys,
        (id) => this.rulePlan(id),
        (id) => this.devices.get(id),
        devices,
      );
      this.storeHealthy = true;
    } catch (err) {
      // The store refused (disk full, I/O error): keep everything and try again; the engine's
      // decisions are not lost, only delayed, and /readyz says so meanwhile.
      this.storeHealthy = false;
      this.storeErrors.inc();
      this.d.logger.error('could not commit incident changes; retrying in 1 s', {
        error: (err as Error).message,
      });
      this.pending = transitions.concat(this.pending);
      this.unsavedDevices.push(...devices);
      for (const u of keys.upserts) this.pendingKeys.set(`${u.ruleId}\u0000${u.deviceId}`, u);
      for (const k of keys.deletes)
        this.pendingKeys.set(`${k.ruleId}\u0000${k.deviceId}`, { ...k, deleted: true });
      if (!this.retryTimer && !this.stopped) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.flush();
        }, 1000);
      }
      return;
    }
    if (changes.length > 0) {
      this.announce(changes);
      // Only an opening with engage steps adds deliveries or escalations; clears only remove
      // work (a timer armed for it wakes up to nothing), so they need no scheduler round-trip.
      if (changes.some((c) => c.kind === 'opened' && this.hasSteps(c.incident.ruleId)))
        this.d.scheduler.kick();
    }
    this.armTimer();
  }

  private hasSteps(ruleId: string): boolean {
    const system = this.d.systemRule?.(ruleId);
    if (system) return system.engage.steps.length > 0;
    const rule = this.d.ruleset.rule(ruleId);
    return !rule || rule.engage.steps.length > 0 || rule.engage.policy !== undefined;
  }

  private armTimer(): void {
    if (this.stopped) return;
    const due = this.d.engine.nextDue();
    if (due === this.armedDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedDue = due;
    this.timer = undefined;
    if (due === undefined) return;
    // setTimeout caps at 2^31-1 ms; a far timer is simply re-armed when it wakes early.
    const delay = Math.min(Math.max(0, due - this.d.clock.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  private onTimer(): void {
    this.timer = undefined;
    this.armedDue = undefined;
    const transitions = this.d.engine.advance();
    for (const t of transitions) this.pending.push(t);
    this.flush();
  }

  private saveDevices(): void {
    const records = this.unsavedDevices.concat(this.d.engine.takeDirtyDevices());
    this.unsavedDevices = [];
    if (records.length === 0) return;
    try {
      this.d.incidents.saveDevices(records);
    } catch (err) {
      this.storeErrors.inc();
      this.d.logger.error('could not save device state', { error: (err as Error).message });
    }
  }
}
