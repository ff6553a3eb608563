import type { QueueConfig } from './config.js';
import {
  EVENT_TYPES,
  assignmentSchema,
  envelopeSchema,
  outcomeSchema,
  workItemSchema,
  type AssignmentData,
  type OutcomeKind,
} from './model.js';
import { estimateWaitSec } from './routing.js';
import { Durations, type DurationSummary } from './stats.js';

/*
 * What the contact center measures, fed with every event in stream order (incidents and jobs from
 * VIGIE, work items, assignments and outcomes from CC). Every instance reads the same streams, so
 * every instance answers the same. Times come from the events, never from the router's clock.
 *
 * First-contact resolution: a work item whose first outcome is `resolved` (no transfer before) and
 * that nobody re-opened: a new work item for the same device or customer within `reopenWindow` of
 * the previous one's resolution (or of its arrival while still unresolved) re-opens it.
 * Rates are over the work items with at least one outcome.
 */

export interface SiteKpis {
  site: string;
  timeToAcknowledge: DurationSummary;
  timeToDispatch: DurationSummary;
  timeToResolve: DurationSummary;
  workItems: number;
  /** Work items with at least one outcome: the base of the two rates. */
  withOutcome: number;
  firstContactResolutions: number;
  firstContactResolutionRate: number | null;
  transferred: number;
  transferRate: number | null;
  reopened: number;
}

export interface TrackedAssignment {
  data: AssignmentData;
  outcome?: OutcomeKind;
  /** Counted in its queue's backlog: no outcome yet and the incident not resolved. */
  inQueue: boolean;
}

interface IncidentTrack {
  site: string;
  openedAt: number;
  acknowledged: boolean;
  dispatched: boolean;
  resolved: boolean;
}

interface WorkItemTrack {
  site: string;
  at: number;
  /** The work item event itself was seen (an assignment may arrive first on a local shortcut). */
  seen: boolean;
  transfers: number;
  firstOutcome?: OutcomeKind;
  resolvedAt?: number;
  reopened: boolean;
  keys: string[];
}

interface SiteCounters {
  ack: Durations;
  dispatch: Durations;
  resolve: Durations;
  workItems: number;
  withOutcome: number;
  fcr: number;
  transferred: number;
  reopened: number;
}

const INCIDENT = 'com.vigie.incident.';
const JOB_ACCEPTED = 'com.vigie.job.accepted';

export class KpiTracker {
  private readonly incidents = new Map<string, IncidentTrack>();
  private readonly workItems = new Map<string, WorkItemTrack>();
  private readonly assignments = new Map<string, TrackedAssignment>();
  /** Incident id -> its assignments; apart from `incidents`, as VIGIE and CC are read independently. */
  private readonly byIncident = new Map<string, Set<string>>();
  /** `d:{site}:{device}` / `c:{customer}` -> the latest work item for it. */
  private readonly latestByKey = new Map<string, string>();
  private readonly sites = new Map<string, SiteCounters>();
  private readonly backlog = new Map<string, Map<string, number>>();

  constructor(private readonly opts: { reopenWindow: number; retention: number }) {}

  /** Feeds one event; false when it is not one the KPIs use or it is malformed (never throws). */
  apply(event: unknown): boolean {
    const env = envelopeSchema.safeParse(event);
    if (!env.success) return false;
    const e = env.data;
    const time = Date.parse(e.time);
    if (e.type.startsWith(INCIDENT)) return this.onIncident(e.type.slice(INCIDENT.length), e.data, time);
    if (e.type === JOB_ACCEPTED) return this.onJobAccepted(e.data, time);
    if (e.type === EVENT_TYPES.workItem) return this.onWorkItem(e.data, time);
    if (e.type === EVENT_TYPES.assignment) return this.onAssignment(e.data);
    if (e.type === EVENT_TYPES.outcome) return this.onOutcome(e.data);
    return false;
  }

  /** Open assignments of a queue (all sites): the routing's view of the backlog. */
  readonly load = (queueId: string): number => {
    let n = 0;
    for (const v of this.backlog.get(queueId)?.values() ?? []) n += v;
    return n;
  };

  backlogBySite(queueId: string): Record<string, number> {
    return Object.fromEntries(this.backlog.get(queueId) ?? []);
  }

  assignment(id: string): Readonly<TrackedAssignment> | undefined {
    return this.assignments.get(id);
  }

  transfersOf(workItemId: string): number {
    return this.workItems.get(workItemId)?.transfers ?? 0;
  }

  siteIds(): string[] {
    return [...this.sites.keys()].sort();
  }

  site(site: string): SiteKpis | undefined {
    const c = this.sites.get(site);
    if (!c) return undefined;
    const rate = (n: number) =>
      c.withOutcome === 0 ? null : Math.round((n / c.withOutcome) * 10_000) / 10_000;
    return {
      site,
      timeToAcknowledge: c.ack.summary(),
      timeToDispatch: c.dispatch.summary(),
      timeToResolve: c.resolve.summary(),
      workItems: c.workItems,
      withOutcome: c.withOutcome,
      firstContactResolutions: c.fcr,
      firstContactResolutionRate: rate(c.fcr),
      transferred: c.transferred,
      transferRate: rate(c.transferred),
      reopened: c.reopened,
    };
  }

  all(): SiteKpis[] {
    return this.siteIds().map((s) => this.site(s) as SiteKpis);
  }

  /** Forgets incidents and work items older than the retention; the counts stay. */
  prune(now: number): void {
    const before = now - Math.max(this.opts.retention, this.opts.reopenWindow);
    for (const [id, inc] of this.incidents) if (inc.openedAt < before) this.incidents.delete(id);
    for (const [id, w] of this.workItems) {
      if (w.at >= before) continue;
      this.workItems.delete(id);
      for (const k of w.keys) if (this.latestByKey.get(k) === id) this.latestByKey.delete(k);
    }
    for (const [id, a] of this.assignments) {
      if (this.workItems.has(a.data.workItemId)) continue;
      this.setInQueue(a, false);
      this.assignments.delete(id);
      this.byIncident.delete(a.data.incidentId);
    }
  }

  private counters(site: string): SiteCounters {
    let c = this.sites.get(site);
    if (!c) {
      c = {
        ack: new Durations(),
        dispatch: new Durations(),
        resolve: new Durations(),
        workItems: 0,
        withOutcome: 0,
        fcr: 0,
        transferred: 0,
        reopened: 0,
      };
      this.sites.set(site, c);
    }
    return c;
  }

  private onIncident(kind: string, data: unknown, time: number): boolean {
    const inc = (data as { incident?: { id?: unknown; site?: unknown; openedAt?: unknown; at?: unknown } })
      ?.incident;
    if (!inc || typeof inc.id !== 'string' || typeof inc.site !== 'string') return false;
    const at = typeof inc.at === 'number' ? inc.at : time;
    let t = this.incidents.get(inc.id);
    if (kind === 'opened') {
      if (t) return false;
      const openedAt = typeof inc.openedAt === 'number' ? inc.openedAt : at;
      t = {
        site: inc.site,
        openedAt,
        acknowledged: false,
        dispatched: false,
        resolved: false,
      };
      this.incidents.set(inc.id, t);
      this.counters(inc.site);
      return true;
    }
    // Opened before the stream's horizon: no start to measure from.
    if (!t) return false;
    const c = this.counters(t.site);
    if (kind === 'acknowledged' && !t.acknowledged) {
      t.acknowledged = true;
      c.ack.add(at - t.openedAt);
    } else if (kind === 'resolved' && !t.resolved) {
      t.resolved = true;
      c.resolve.add(at - t.openedAt);
      for (const id of this.byIncident.get(inc.id) ?? []) {
        const a = this.assignments.get(id);
        if (a) this.setInQueue(a, false);
      }
    } else return false;
    return true;
  }

  private onJobAccepted(data: unknown, time: number): boolean {
    const incidentId = (data as { job?: { incidentId?: unknown } })?.job?.incidentId;
    const t = typeof incidentId === 'string' ? this.incidents.get(incidentId) : undefined;
    if (!t || t.dispatched) return false;
    t.dispatched = true;
    this.counters(t.site).dispatch.add(time - t.openedAt);
    return true;
  }

  private onWorkItem(data: unknown, time: number): boolean {
    const p = workItemSchema.safeParse(data);
    if (!p.success) return false;
    const wi = p.data;
    const existing = this.workItems.get(wi.workItemId);
    if (existing?.seen) return false;
    const keys = [`d:${wi.site}:${wi.device.id}`];
    if (wi.customer) keys.push(`c:${wi.customer.id}`);
    const w: WorkItemTrack = existing ?? {
      site: wi.site,
      at: time,
      seen: true,
      transfers: 0,
      reopened: false,
      keys,
    };
    w.seen = true;
    w.keys = keys;
    w.at = time;
    this.workItems.set(wi.workItemId, w);
    this.counters(wi.site).workItems++;
    for (const k of keys) {
      const prevId = this.latestByKey.get(k);
      this.latestByKey.set(k, wi.workItemId);
      const prev = prevId !== undefined && prevId !== wi.workItemId ? this.workItems.get(prevId) : undefined;
      if (!prev || prev.reopened) continue;
      if (time - (prev.resolvedAt ?? prev.at) <= this.opts.reopenWindow)
        this.update(prev, () => (prev.reopened = true));
    }
    return true;
  }

  private onAssignment(data: unknown): boolean {
    const p = assignmentSchema.safeParse(data);
    if (!p.success || this.assignments.has(p.data.assignmentId)) return false;
    const a: TrackedAssignment = { data: p.data as unknown as AssignmentData, inQueue: false };
    this.assignments.set(a.data.assignmentId, a);
    const inc = this.incidents.get(a.data.incidentId);
    let ids = this.byIncident.get(a.data.incidentId);
    if (!ids) {
      ids = new Set();
      this.byIncident.set(a.data.incidentId, ids);
    }
    ids.add(a.data.assignmentId);
    this.setInQueue(a, !inc?.resolved);
    if (!this.workItems.has(a.data.workItemId)) {
      const keys: string[] = [];
      this.workItems.set(a.data.workItemId, {
        site: a.data.site,
        at: a.data.at,
        seen: false,
        transfers: 0,
        reopened: false,
        keys,
      });
      this.counters(a.data.site);
    }
    return true;
  }

  private onOutcome(data: unknown): boolean {
    const p = outcomeSchema.safeParse(data);
    if (!p.success) return false;
    const o = p.data;
    const a = this.assignments.get(o.assignmentId);
    if (!a || a.outcome) return false;
    a.outcome = o.outcome;
    this.setInQueue(a, false);
    const w = this.workItems.get(a.data.workItemId);
    if (w) {
      this.update(w, () => {
        if (o.outcome === 'transferred') w.transfers++;
        w.firstOutcome ??= o.outcome;
        if (o.outcome === 'resolved') w.resolvedAt = o.at;
      });
    }
    return true;
  }

  /** Applies a change to a work item and moves the site's counters by the difference it made. */
  private update(w: WorkItemTrack, change: () => void): void {
    const before = contribution(w);
    change();
    const after = contribution(w);
    const c = this.counters(w.site);
    c.withOutcome += after.withOutcome - before.withOutcome;
    c.fcr += after.fcr - before.fcr;
    c.transferred += after.transferred - before.transferred;
    c.reopened += after.reopened - before.reopened;
  }

  private setInQueue(a: TrackedAssignment, inQueue: boolean): void {
    if (a.inQueue === inQueue) return;
    a.inQueue = inQueue;
    let bySite = this.backlog.get(a.data.queue);
    if (!bySite) {
      bySite = new Map();
      this.backlog.set(a.data.queue, bySite);
    }
    const n = (bySite.get(a.data.site) ?? 0) + (inQueue ? 1 : -1);
    if (n > 0) bySite.set(a.data.site, n);
    else bySite.delete(a.data.site);
  }
}

function contribution(w: WorkItemTrack) {
  return {
    withOutcome: w.firstOutcome ? 1 : 0,
    fcr: w.firstOutcome === 'resolved' && !w.reopened ? 1 : 0,
    transferred: w.transfers > 0 ? 1 : 0,
    reopened: w.reopened ? 1 : 0,
  };
}

export interface QueueState {
  id: string;
  name: string;
  skills: readonly string[];
  tiers: readonly string[] | null;
  agents: number;
  avgHandleSec: number;
  open: number;
  openBySite: Record<string, number>;
  estimatedWaitSec: number;
}

/** The queues as configured, with their backlog and the wait a new case would get now. */
export function queueView(queues: readonly QueueConfig[], kpis: KpiTracker): QueueState[] {
  return queues.map((q) => {
    const open = kpis.load(q.id);
    return {
      id: q.id,
      name: q.name,
      skills: q.skills,
      tiers: q.tiers ?? null,
      agents: q.agents,
      avgHandleSec: q.avgHandleSec,
      open,
      openBySite: kpis.backlogBySite(q.id),
      estimatedWaitSec: estimateWaitSec(q, open),
    };
  });
}
