import {
  connect,
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamSubscription,
  type JsMsg,
  type NatsConnection,
  type PubAck,
} from 'nats';
import type { Clock } from '../../gateway/src/core/clock.js';
import type { Logger } from '../../gateway/src/core/log.js';
import {
  cloudEvent,
  isSubjectToken,
  STREAM_SUBJECTS,
  subjects,
  type CloudEvent,
} from '../../gateway/src/route/uplink/events.js';
import type { RouterConfig } from './config.js';
import { GatewayWatch, type GatewayView } from './gateway-watch.js';
import { bindWorkItems, ensureStream, ensureWorkConsumer, followStream, lastSequence } from './jetstream.js';
import { KpiTracker } from './kpis.js';
import { RouterMetrics } from './metrics.js';
import {
  EVENT_TYPES,
  envelopeSchema,
  transferNumber,
  workItemSchema,
  type AssignmentData,
  type OutcomeData,
  type OutcomeKind,
  type WorkItem,
} from './model.js';
import { route, transfer } from './routing.js';

export interface RouterDeps {
  log: Logger;
  clock: Clock;
}

export interface OutcomeRequest {
  outcome: OutcomeKind;
  toQueue?: string;
}

export type OutcomeResult =
  | { ok: true; outcome: OutcomeData; assignment?: AssignmentData }
  | { ok: false; status: 400 | 404 | 409 | 503; message: string };

const CATCH_UP_TIMEOUT_MS = 15_000;
const SETUP_RETRY_MS = 2_000;
const PRUNE_EVERY_MS = 60_000;

class Malformed extends Error {}

/**
 * The router: one durable consumer shared by every instance for the work items (execution), and
 * every event of both streams followed in order for the queue view and the KPIs.
 */
export class RouterService {
  readonly kpis: KpiTracker;
  readonly metrics: RouterMetrics;
  /** Absent when `gateways.enabled` is false. */
  readonly gatewayWatch: GatewayWatch | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private work: JetStreamSubscription | undefined;
  private workLoop: Promise<void> | undefined;
  private readonly followers: JetStreamSubscription[] = [];
  /** Stream name -> the last sequence applied to the KPIs. */
  private readonly applied = new Map<string, number>();
  private caughtUp = false;
  /** False between a disconnect and the reconnect that follows it. */
  private linkUp = true;
  private stopping = false;
  private pruneTimer: ReturnType<typeof setInterval> | undefined;
  private readonly log: Logger;
  private readonly source: string;

  constructor(
    readonly cfg: Readonly<RouterConfig>,
    private readonly deps: RouterDeps,
  ) {
    this.log = deps.log;
    this.source = `vigie://router/${cfg.instance}`;
    this.kpis = new KpiTracker({ reopenWindow: cfg.reopenWindow, retention: cfg.retention });
    this.metrics = new RouterMetrics(this.kpis, cfg.queues);
    if (cfg.gateways.enabled)
      this.gatewayWatch = new GatewayWatch({
        stream: cfg.streams.gateways,
        silentAfterMs: cfg.gateways.silentAfter,
        checkEveryMs: cfg.gateways.checkEvery,
        duplicateWindowMs: cfg.streams.duplicateWindow,
        instance: cfg.instance,
        clock: deps.clock,
        log: deps.log.child('gateway-watch'),
        metrics: this.metrics,
      });
  }

  /** Every gateway heard of, with its last heartbeat; undefined when the watch is off. */
  gateways(): GatewayView[] | undefined {
    return this.gatewayWatch?.list();
  }

  status() {
    return {
      instance: this.cfg.instance,
      nats: this.link(),
      consuming: this.work !== undefined,
      caughtUp: this.caughtUp,
    };
  }

  private link(): 'connecting' | 'connected' | 'reconnecting' | 'draining' | 'closed' {
    const nc = this.nc;
    if (!nc) return 'connecting';
    if (nc.isClosed()) return 'closed';
    if (nc.isDraining()) return 'draining';
    return this.linkUp ? 'connected' : 'reconnecting';
  }

  get ready(): boolean {
    const s = this.status();
    return s.nats === 'connected' && s.consuming && s.caughtUp;
  }

  /** Resolves once the router takes work items (NATS may be away at first: it keeps trying). */
  async start(): Promise<void> {
    const n = this.cfg.nats;
    this.nc = await connect({
      servers: [...n.servers],
      name: `vigie-router/${this.cfg.instance}`,
      ...(n.user !== undefined ? { user: n.user, pass: n.pass } : {}),
      ...(n.token !== undefined ? { token: n.token } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      waitOnFirstConnect: true,
    });
    this.log.info('connected to NATS', { server: this.nc.getServer() });
    void this.watchStatus(this.nc);
    this.js = this.nc.jetstream();
    this.jsm = await this.nc.jetstreamManager();
    // On its own: a gateways stream it cannot set up must not keep work items from being routed.
    this.gatewayWatch?.start(this.nc);
    for (;;) {
      try {
        await this.setup(this.jsm, this.js);
        break;
      } catch (err) {
        if (this.stopping) return;
        this.log.warn('JetStream setup failed, retrying', { error: (err as Error).message });
        await new Promise((r) => setTimeout(r, SETUP_RETRY_MS));
      }
    }
    this.pruneTimer = setInterval(() => this.kpis.prune(this.deps.clock.now()), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Finishes the work items already delivered here, then leaves the group and closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      await this.gatewayWatch?.stop();
      await this.work?.drain();
      await this.workLoop;
      await nc.drain();
    } catch (err) {
      this.log.warn('stop: drain failed, closing', { error: (err as Error).message });
      await nc.close();
    }
  }

  /** Refreshes the consumer's backlog for /metrics; keeps the last value when NATS is away. */
  async refreshConsumer(): Promise<void> {
    if (!this.jsm || !this.nc || this.nc.isClosed()) return;
    try {
      const info = await this.jsm.consumers.info(this.cfg.streams.contactCenter, this.cfg.consumer.durable);
      this.metrics.consumer = { pending: info.num_pending, ackPending: info.num_ack_pending };
    } catch {
      /* NATS away: the last known value stays */
    }
  }

  async recordOutcome(assignmentId: string, req: OutcomeRequest): Promise<OutcomeResult> {
    const a = this.kpis.assignment(assignmentId);
    if (!a) return { ok: false, status: 404, message: `assignment ${assignmentId} not found (yet)` };
    if (a.outcome)
      return { ok: false, status: 409, message: `assignment ${assignmentId} already ${a.outcome}` };
    const target = req.toQueue === undefined ? undefined : this.cfg.queues.find((q) => q.id === req.toQueue);
    if (req.outcome === 'transferred') {
      if (!target) return { ok: false, status: 400, message: `toQueue: no queue "${req.toQueue ?? ''}"` };
      if (target.id === a.data.queue)
        return { ok: false, status: 400, message: `toQueue: already in ${target.id}` };
    } else if (req.toQueue !== undefined) {
      return { ok: false, status: 400, message: 'toQueue: only with outcome "transferred"' };
    }
    const js = this.js;
    if (!js) return { ok: false, status: 503, message: 'NATS not connected yet' };
    const now = this.deps.clock.now();
    const site = a.data.site;
    try {
      let next: AssignmentData | undefined;
      // The new assignment goes first. Its number follows from the one it replaces (not from a
      // count this instance may not have caught up on), so a retry after a failure in between
      // republishes the same one (dropped as a duplicate) and then the outcome.
      if (target) {
        next = transfer(a.data, target, transferNumber(assignmentId) + 1, this.kpis.load, this.cfg, {
          instance: this.cfg.instance,
          now,
        });
        const ev = this.event(EVENT_TYPES.assignment, next.assignmentId, next, now);
        if (!(await this.publish(subjects.assignment(site), ev)).duplicate) {
          this.kpis.apply(ev);
          this.metrics.assignments.inc({ site, queue: next.queue });
        }
      }
      const outcome: OutcomeData = {
        assignmentId,
        workItemId: a.data.workItemId,
        incidentId: a.data.incidentId,
        site,
        outcome: req.outcome,
        ...(target ? { toQueue: target.id } : {}),
        at: now,
      };
      const ev = this.event(EVENT_TYPES.outcome, `out_${assignmentId}`, outcome, now);
      if ((await this.publish(subjects.outcome(site), ev)).duplicate)
        return { ok: false, status: 409, message: `assignment ${assignmentId} already has an outcome` };
      this.kpis.apply(ev);
      this.metrics.outcomes.inc({ site, outcome: req.outcome });
      this.log.info('outcome recorded', { assignmentId, outcome: req.outcome, toQueue: target?.id });
      return next ? { ok: true, outcome, assignment: next } : { ok: true, outcome };
    } catch (err) {
      return { ok: false, status: 503, message: `not published: ${(err as Error).message}` };
    }
  }

  private async setup(jsm: JetStreamManager, js: JetStreamClient): Promise<void> {
    const { streams, consumer } = this.cfg;
    await ensureStream(jsm, streams.events, STREAM_SUBJECTS.events, streams.duplicateWindow, this.log);
    await ensureStream(
      jsm,
      streams.contactCenter,
      STREAM_SUBJECTS.contactCenter,
      streams.duplicateWindow,
      this.log,
    );
    await ensureWorkConsumer(jsm, streams.contactCenter, consumer);
    if (this.followers.length === 0) {
      for (const stream of [streams.events, streams.contactCenter]) {
        this.followers.push(await followStream(js, stream, (m) => this.follow(stream, m), this.log));
      }
    }
    await this.catchUp(jsm);
    if (this.stopping) return;
    this.work = await bindWorkItems(js, streams.contactCenter, consumer);
    const sub = this.work;
    this.workLoop = (async () => {
      for await (const m of sub) await this.handle(m);
    })().catch((err) => this.log.error('work item loop stopped', { error: (err as Error).message }));
    this.log.info('taking work items', {
      durable: consumer.durable,
      queue: consumer.queue,
      instance: this.cfg.instance,
    });
  }

  /** Routes with the queue view as the streams have it, not as an empty start would have it. */
  private async catchUp(jsm: JetStreamManager): Promise<void> {
    const targets = new Map<string, number>();
    for (const s of [this.cfg.streams.events, this.cfg.streams.contactCenter])
      targets.set(s, await lastSequence(jsm, s));
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    const behind = () => [...targets].some(([s, last]) => (this.applied.get(s) ?? 0) < last);
    while (behind() && Date.now() < deadline && !this.stopping) await new Promise((r) => setTimeout(r, 20));
    if (behind())
      this.log.warn('started before reading the streams to the end', {
        targets: Object.fromEntries(targets),
      });
    this.caughtUp = true;
  }

  private follow(stream: string, m: JsMsg): void {
    this.applied.set(stream, m.seq);
    let event: unknown;
    try {
      event = m.json();
    } catch {
      return;
    }
    this.kpis.apply(event);
  }

  /** One work item: route, publish, then ack. Never throws: a bad item is terminated and counted. */
  private async handle(m: JsMsg): Promise<void> {
    const token = m.subject.split('.')[2];
    let site = token !== undefined && isSubjectToken(token) ? token : 'unknown';
    if (m.redelivered) this.metrics.redelivered.inc({ site });
    let w: WorkItem;
    try {
      w = this.parse(m, site);
    } catch (err) {
      m.term();
      this.metrics.workItems.inc({ site, outcome: 'malformed' });
      this.log.warn('malformed work item terminated', {
        subject: m.subject,
        seq: m.seq,
        error: (err as Error).message,
      });
      return;
    }
    site = w.site;
    const now = this.deps.clock.now();
    try {
      const { assignment, fallback } = route(w, this.kpis.load, this.cfg, {
        instance: this.cfg.instance,
        now,
      });
      const ev = this.event(EVENT_TYPES.assignment, assignment.assignmentId, assignment, now);
      const ack = await this.publish(subjects.assignment(site), ev);
      if (ack.duplicate) {
        // Assigned already (by us before a crash, or by an instance whose ack was late).
        this.metrics.workItems.inc({ site, outcome: 'duplicate' });
      } else {
        this.kpis.apply(ev);
        this.metrics.workItems.inc({ site, outcome: fallback ? 'fallback' : 'assigned' });
        this.metrics.assignments.inc({ site, queue: assignment.queue });
      }
      m.ack();
      if (this.log.enabled('debug'))
        this.log.debug('assigned', {
          workItemId: w.workItemId,
          queue: assignment.queue,
          duplicate: ack.duplicate,
        });
    } catch (err) {
      // Not assigned: let it come back (here or elsewhere) rather than wait for the ack timeout.
      m.nak(1000);
      this.metrics.workItems.inc({ site, outcome: 'failed' });
      this.log.warn('work item not assigned, will retry', {
        workItemId: w.workItemId,
        error: (err as Error).message,
      });
    }
  }

  private parse(m: JsMsg, site: string): WorkItem {
    let raw: unknown;
    try {
      raw = m.json();
    } catch {
      throw new Malformed('not JSON');
    }
    const env = envelopeSchema.safeParse(raw);
    if (!env.success) throw new Malformed(`not a CloudEvent: ${describe(env.error.issues)}`);
    if (env.data.type !== EVENT_TYPES.workItem)
      throw new Malformed(`type ${env.data.type} is not a work item`);
    const w = workItemSchema.safeParse(env.data.data);
    if (!w.success) throw new Malformed(`data: ${describe(w.error.issues)}`);
    if (w.data.site !== site) throw new Malformed(`site ${w.data.site} does not match the subject`);
    return w.data;
  }

  private event<T>(type: string, id: string, data: T & { incidentId: string; site: string }, now: number) {
    return cloudEvent({
      id,
      source: this.source,
      type,
      subject: data.incidentId,
      site: data.site,
      time: now,
      data,
    });
  }

  private publish(subject: string, ev: CloudEvent): Promise<PubAck> {
    if (!this.js) return Promise.reject(new Error('NATS not connected'));
    return this.js.publish(subject, JSON.stringify(ev), { msgID: ev.id });
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.linkUp = false;
      else if (s.type === 'reconnect') this.linkUp = true;
      else if (s.type !== 'error') continue;
      this.log.info(`NATS ${s.type}`, { data: String(s.data) });
    }
  }
}

function describe(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const i = issues[0];
  return i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid';
}
