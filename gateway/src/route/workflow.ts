import type { Database, Statement } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Counter, Registry } from '../core/metrics.js';
import type { Device, Site } from '../site/model.js';
import type { CrmQuery, CrmResult, CustomerRecord } from './crm/crm.js';
import type { IncidentChange, IncidentService } from './incidents.js';
import type { Incident } from './model.js';
import type { RuleInfo } from './rule-info.js';
import { incidentSummary } from './summary.js';
import { cloudEvent, subjects, type CloudEvent } from './uplink/events.js';

/** What an opened incident still needs from the route stage, fixed when it opened. */
export interface RouteWork {
  crm: boolean;
  dispatch?: string;
  workItem: boolean;
}

/** The part of the job service the workflow needs (route/dispatch/jobs.ts). */
export interface JobStarter {
  create(incident: Incident, profile: string, customer: CustomerRecord | undefined): unknown;
  summary(incidentId: string): unknown;
}

export interface RouteWorkflowOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
  site: Site;
  incidents: IncidentService;
  /** The rule an incident was opened by, as loaded now. */
  rule: (ruleId: string) => RuleInfo | undefined;
  /** Customer lookup with its own deadline (route/crm/lookup.ts); never rejects. */
  lookup: (q: CrmQuery) => Promise<CrmResult>;
  jobs?: JobStarter;
  /** The uplink outbox, when there is one: called inside the transaction that completes the task. */
  emit?: (subject: string, event: CloudEvent, incidentId: string) => void;
  /** Forward work items to the contact center (config uplink.workItems). */
  workItems: boolean;
  /** After a commit that queued messages or events: wake the delivery worker and the uplink. */
  committed: () => void;
  /** CRM lookups tried before going on without the customer (default 3), and the wait between them. */
  crmAttempts?: number;
  crmRetryMs?: number;
}

const HISTORY = 10;

/**
 * The route stage's proactive half, after an incident opens: look the customer up, send a
 * technician, hand the case to the contact center with all of it. The work is written as a task in
 * the incident's own transaction (a recorder), then done asynchronously, because a CRM may be slow
 * and an alarm never waits for it; a crash in between leaves the task, which runs at the next start.
 */
export class RouteWorkflow {
  private readonly s: Record<string, Statement>;
  private readonly done: Counter;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private kickQueued = false;
  private stopped = true;
  private current: Promise<void> | undefined;
  /** A site has thousands of devices: look them up, not through. */
  private readonly devices: ReadonlyMap<string, Device>;

  constructor(private readonly o: RouteWorkflowOptions) {
    const p = (sql: string) => o.db.prepare(sql);
    this.s = {
      insert: p(
        `INSERT INTO route_tasks (incident_id, route_json, due_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      due: p('SELECT * FROM route_tasks WHERE due_at <= ? ORDER BY due_at LIMIT 50'),
      next: p('SELECT MIN(due_at) AS due FROM route_tasks'),
      retry: p(
        'UPDATE route_tasks SET attempts = attempts + 1, due_at = ?, last_error = ? WHERE incident_id = ?',
      ),
      remove: p('DELETE FROM route_tasks WHERE incident_id = ?'),
    };
    this.devices = new Map(o.site.devices.map((d) => [d.id, d]));
    this.done = o.metrics.counter(
      'vigie_route_tasks_total',
      'Route work done after an incident opened, by outcome',
    );
  }

  /** For IncidentService.addRecorder: runs inside the opening transaction. */
  readonly recorder = (changes: readonly IncidentChange[], now: number): void => {
    for (const c of changes) {
      if (c.kind !== 'opened') continue;
      const i = c.incident;
      // A flapping device or the members of a grouped alert page nobody; they do not start jobs
      // or fill the contact center's queue either (the group's carrier stands for the group).
      if (i.damped || (i.groupId && !this.o.incidents.leadsGroup(i))) continue;
      const work = this.workFor(i);
      if (!work) continue;
      this.s.insert.run(i.id, JSON.stringify(work), now);
      this.kickSoon();
    }
  };

  /** After the current transaction: run now, the task would be read before it is committed. */
  private kickSoon(): void {
    if (this.kickQueued || this.stopped) return;
    this.kickQueued = true;
    setImmediate(() => {
      this.kickQueued = false;
      this.kick();
    });
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** Resolves when the work in progress (if any) is done. */
  async idle(): Promise<void> {
    while (this.running) await this.current;
  }

  /** Runs what is due now (after a commit that may have added a task). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.current = this.runDue()
      .catch((err: unknown) => this.o.logger.error('route work failed', { error: (err as Error).message }))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        } else this.arm();
      });
  }

  private workFor(i: Incident): RouteWork | undefined {
    const route = this.o.rule(i.ruleId)?.route;
    const work: RouteWork = {
      crm: route?.crm === true,
      workItem: this.o.workItems && route?.contactCenter !== false,
    };
    if (route?.dispatch && this.o.jobs) work.dispatch = route.dispatch;
    return work.crm || work.dispatch || work.workItem ? work : undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const due = (this.s.next.get() as { due: number | null }).due;
    if (due === null) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, due - this.o.clock.now()));
    this.timer.unref();
  }

  private async runDue(): Promise<void> {
    const rows = this.s.due.all(this.o.clock.now()) as {
      incident_id: string;
      route_json: string;
      attempts: number;
    }[];
    // One at a time: the CRM is somebody else's server, and the order of work items should follow
    // the order incidents opened in.
    for (const row of rows) {
      if (this.stopped) return;
      await this.runOne(row.incident_id, JSON.parse(row.route_json) as RouteWork, row.attempts);
    }
  }

  private async runOne(incidentId: string, work: RouteWork, attempts: number): Promise<void> {
    const incident = this.o.incidents.get(incidentId);
    if (!incident) {
      this.s.remove.run(incidentId);
      return;
    }
    let crm: CrmResult | undefined;
    if (work.crm) {
      crm = await this.o.lookup(this.crmQuery(incident));
      // Stopping: the task stays as it is for the next start.
      if (this.stopped) return;
      const max = this.o.crmAttempts ?? 3;
      if ('error' in crm && attempts + 1 < max) {
        // A CRM that hiccups gets another chance before the job goes out without the customer.
        this.s.retry.run(this.o.clock.now() + (this.o.crmRetryMs ?? 5000), crm.error, incidentId);
        this.done.inc({ outcome: 'crm-retry' });
        return;
      }
    }
    const customer = crm && 'found' in crm && crm.found ? crm.customer : undefined;
    try {
      this.o.db.transaction(() => {
        if (crm) {
          this.o.incidents.annotate(
            incidentId,
            {
              kind: 'crm',
              actor: 'system',
              detail: customer
                ? { found: true, customer: customer.id, source: customer.source }
                : 'error' in crm
                  ? { found: false, error: crm.error }
                  : { found: false },
            },
            customer ? { customer } : undefined,
          );
        }
        if (work.dispatch && this.o.jobs) this.o.jobs.create(incident, work.dispatch, customer);
        if (work.workItem && this.o.emit) {
          const data = this.workItem(this.o.incidents.get(incidentId) ?? incident, customer);
          this.o.emit(
            subjects.workItem(this.o.site.id),
            cloudEvent({
              id: `evt_wi_${incidentId}`,
              source: `vigie://${this.o.site.id}/gateway`,
              type: 'workitem.created',
              subject: incidentId,
              site: this.o.site.id,
              time: this.o.clock.now(),
              data,
            }),
            incidentId,
          );
        }
        this.s.remove.run(incidentId);
      })();
    } catch (err) {
      this.s.retry.run(this.o.clock.now() + 5000, (err as Error).message, incidentId);
      this.done.inc({ outcome: 'error' });
      this.o.logger.error('route work for an incident failed; retrying in 5 s', {
        incident: incidentId,
        error: (err as Error).message,
      });
      return;
    }
    this.done.inc({ outcome: 'done' });
    this.o.committed();
  }

  private crmQuery(i: Incident): CrmQuery {
    const device = this.devices.get(i.deviceId);
    const reported = i.values.serial;
    const q: CrmQuery = { deviceId: i.deviceId, site: this.o.site.id };
    const serial = typeof reported === 'string' && reported !== '' ? reported : device?.serial;
    if (serial) q.serial = serial;
    return q;
  }

  /** The contact center's view of the case (README "Work items"). */
  private workItem(i: Incident, customer: CustomerRecord | undefined) {
    const device = this.devices.get(i.deviceId);
    const history = this.o.incidents
      .list({ deviceId: i.deviceId, limit: HISTORY + 1 })
      .filter((p) => p.id !== i.id)
      .slice(0, HISTORY)
      .map((p) => ({
        incidentId: p.id,
        rule: p.ruleId,
        openedAt: p.openedAt,
        ...(p.resolvedAt !== undefined ? { resolvedAt: p.resolvedAt } : {}),
        reason: p.reason,
      }));
    const code = i.values.code;
    const job = this.o.jobs?.summary(i.id);
    return {
      workItemId: `wi_${i.id}`,
      site: this.o.site.id,
      incident: { ...incidentSummary(i), ...(i.ackCode ? { ackCode: i.ackCode } : {}) },
      device: {
        id: i.deviceId,
        name: i.deviceName,
        kind: device?.kind ?? 'unknown',
        zone: i.zone,
        ...(device?.location ? { location: device.location } : {}),
        ...(device?.serial ? { serial: device.serial } : {}),
      },
      ...(customer ? { customer } : {}),
      history,
      intent: {
        rule: i.ruleId,
        ...(code !== undefined && code !== null ? { faultCode: String(code) } : {}),
        category: device?.kind ?? 'unknown',
      },
      priority: i.severity,
      ...(job ? { job } : {}),
    };
  }
}
