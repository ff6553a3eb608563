import { createHash } from 'node:crypto';
import {
  consumerOpts,
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
  subjects,
  type CloudEvent,
} from '../../gateway/src/route/uplink/events.js';
import { ensureStream, GATEWAYS_STREAM, sameSubjects } from '../../gateway/src/route/uplink/streams.js';
import { Wakeup } from '../../gateway/src/route/uplink/wakeup.js';
import type { RouterMetrics } from './metrics.js';
import {
  EVENT_TYPES,
  envelopeSchema,
  gatewayBackSchema,
  gatewaySilentSchema,
  heartbeatSchema,
  type GatewaySilentData,
  type HeartbeatData,
} from './model.js';

/*
 * Noticing a gateway that went quiet (issue 7 item 5). Every instance follows the gateways' stream
 * (the last message of each subject, then everything new) and draws the same conclusions:
 *
 *   vigie.{site}.gateway.heartbeat   gateway -> stream VIGIE_GATEWAYS (core publish, last one kept)
 *   vigie.{site}.gateway.silent      router  -> stream VIGIE_GATEWAYS (CloudEvent)
 *   vigie.{site}.gateway.back        router  -> stream VIGIE_GATEWAYS (CloudEvent)
 *   cc.interactions.{site}           router  -> stream CC (the work item of the silence)
 *
 * Whoever notices first publishes; every id derives from the last heartbeat (site, gateway,
 * startedAt, seq), so the others' copies are dropped by the streams' duplicate window, and the
 * stored `silent` tells a router started any time later that this silence was already raised.
 */

export const gatewaySubjects = {
  heartbeat: (site: string) => `vigie.${site}.gateway.heartbeat`,
  silent: (site: string) => `vigie.${site}.gateway.silent`,
  back: (site: string) => `vigie.${site}.gateway.back`,
};

export const GATEWAY_SILENT_RULE = 'gateway-silent';
export const GATEWAY_OFFLINE_INTENT = 'gateway-offline';

export type GatewayState = 'up' | 'silent';

export interface GatewayView {
  site: string;
  gateway: string;
  state: GatewayState;
  lastHeartbeat: HeartbeatData;
  /** When the last heartbeat reached NATS (server clock), epoch ms. */
  lastSeenAt: number;
  silentAfterMs: number;
  /** The incident raised for the silence going on, once some router raised it. */
  incidentId?: string;
}

interface Raised {
  incidentId: string;
  lastHeartbeat: HeartbeatData;
  lastSeenAt: number;
}

interface Tracked {
  site: string;
  gateway: string;
  last: HeartbeatData;
  seenAt: number;
  /** The silence raised (by any instance) and not announced over yet. */
  raised?: Raised;
  /** A publish for this gateway is in flight. */
  busy: boolean;
}

/** The incident of a silence: the same on every instance and after any restart. */
export function silenceIncidentId(site: string, hb: Pick<HeartbeatData, 'gateway' | 'startedAt' | 'seq'>) {
  const h = createHash('sha256').update(`${site}\n${hb.gateway}\n${hb.startedAt}\n${hb.seq}`);
  return `inc_gw_${h.digest('hex').slice(0, 20)}`;
}

/** What the stream says about each gateway; no I/O, so its rules are tested on their own. */
export class GatewayTracker {
  private readonly gateways = new Map<string, Tracked>();

  constructor(private readonly silentAfterMs?: number) {}

  silentAfter(t: Pick<Tracked, 'last'>): number {
    return this.silentAfterMs ?? 3 * t.last.intervalMs;
  }

  heartbeat(hb: HeartbeatData, seenAt: number): Tracked {
    const t = this.get(hb.site, hb.gateway);
    if (!t) {
      const fresh: Tracked = { site: hb.site, gateway: hb.gateway, last: hb, seenAt, busy: false };
      this.gateways.set(key(hb.site, hb.gateway), fresh);
      return fresh;
    }
    t.last = hb;
    t.seenAt = seenAt;
    return t;
  }

  /** A silence raised (by us or another instance); ignored when the gateway has spoken since. */
  silent(d: GatewaySilentData): Tracked | undefined {
    const raised = { incidentId: d.incidentId, lastHeartbeat: d.lastHeartbeat, lastSeenAt: d.lastSeenAt };
    const t = this.get(d.site, d.gateway);
    if (!t) {
      const fresh: Tracked = {
        site: d.site,
        gateway: d.gateway,
        last: d.lastHeartbeat,
        seenAt: d.lastSeenAt,
        raised,
        busy: false,
      };
      this.gateways.set(key(d.site, d.gateway), fresh);
      return fresh;
    }
    if (silenceIncidentId(t.site, t.last) !== d.incidentId) return undefined;
    t.raised = raised;
    return t;
  }

  /** Another instance announced the end of a silence. */
  back(d: { site: string; gateway: string; incidentId: string }): void {
    const t = this.get(d.site, d.gateway);
    if (t?.raised?.incidentId === d.incidentId) t.raised = undefined;
  }

  /** What is owed now: a silence to raise, or the end of one to announce. */
  due(t: Tracked, now: number): 'raise' | 'back' | undefined {
    if (t.busy) return undefined;
    const current = silenceIncidentId(t.site, t.last);
    if (t.raised && t.raised.incidentId !== current) return 'back';
    if (!t.raised && now - t.seenAt > this.silentAfter(t)) return 'raise';
    return undefined;
  }

  all(): Tracked[] {
    return [...this.gateways.values()];
  }

  view(now: number): GatewayView[] {
    return this.all()
      .map((t) => {
        const v: GatewayView = {
          site: t.site,
          gateway: t.gateway,
          state: now - t.seenAt > this.silentAfter(t) ? 'silent' : 'up',
          lastHeartbeat: t.last,
          lastSeenAt: t.seenAt,
          silentAfterMs: this.silentAfter(t),
        };
        if (t.raised?.incidentId === silenceIncidentId(t.site, t.last)) v.incidentId = t.raised.incidentId;
        return v;
      })
      .sort((a, b) => a.site.localeCompare(b.site) || a.gateway.localeCompare(b.gateway));
  }

  counts(now: number): Record<GatewayState, number> {
    const out = { up: 0, silent: 0 };
    for (const v of this.view(now)) out[v.state]++;
    return out;
  }

  private get(site: string, gateway: string): Tracked | undefined {
    return this.gateways.get(key(site, gateway));
  }
}

const key = (site: string, gateway: string) => `${site}\n${gateway}`;

export interface GatewayWatchOptions {
  /** The gateways' stream (created if missing, last message per subject). */
  stream: string;
  /** Overrides 3 x the heartbeat's own period. */
  silentAfterMs?: number;
  checkEveryMs: number;
  duplicateWindowMs: number;
  instance: string;
  clock: Clock;
  log: Logger;
  metrics: RouterMetrics;
}

// A stream JetStream refuses (an operator's stream already takes `vigie.>`) stays refused until
// someone acts: retries slow down to once a minute rather than fill the log.
const SETUP_RETRY_MS = { min: 2_000, max: 60_000 };
const CATCH_UP_TIMEOUT_MS = 15_000;
const FOLLOW_HEARTBEAT_MS = 2_000;

/** The tracker fed from NATS, and what it concludes published back to NATS. */
export class GatewayWatch {
  readonly tracker: GatewayTracker;
  private js: JetStreamClient | undefined;
  private sub: JetStreamSubscription | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private caughtUp = false;
  private appliedSeq = 0;
  /** A message arrived with nothing more pending behind it: the stream is read to its end. */
  private sawEnd = false;
  private stopping = false;
  private readonly stopped = new Wakeup();
  private readonly source: string;

  constructor(private readonly o: GatewayWatchOptions) {
    this.tracker = new GatewayTracker(o.silentAfterMs);
    this.source = `vigie://router/${o.instance}`;
    o.metrics.gatewayStates = () => this.tracker.counts(o.clock.now());
  }

  /** Follows the stream in the background (retrying while JetStream is not there): never throws. */
  start(nc: NatsConnection): void {
    this.running ??= this.run(nc).catch((err: unknown) =>
      this.o.log.error('gateway watch stopped', { error: (err as Error).message }),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.fire();
    if (this.timer) clearInterval(this.timer);
    this.sub?.unsubscribe();
    await this.running;
  }

  list(): GatewayView[] {
    return this.tracker.view(this.o.clock.now());
  }

  private async run(nc: NatsConnection): Promise<void> {
    const log = this.o.log;
    let retryMs = SETUP_RETRY_MS.min;
    let stream = this.o.stream;
    while (!this.stopping && !nc.isClosed()) {
      try {
        const jsm = await nc.jetstreamManager();
        stream = await this.streamToFollow(jsm);
        this.js = nc.jetstream();
        this.sub = await this.follow(this.js, stream);
        break;
      } catch (err) {
        log.warn('gateway watch setup failed, retrying', { error: (err as Error).message, inMs: retryMs });
        await this.stopped.wait(retryMs);
        retryMs = Math.min(SETUP_RETRY_MS.max, retryMs * 2);
      }
    }
    if (!this.sub) return;
    // Before the stream is read to its end, a gateway may look silent only because the `silent`
    // that follows its heartbeat is not read yet: nothing is decided until then.
    const info = await this.sub.consumerInfo().catch(() => undefined);
    const readAll = () =>
      this.sawEnd || (info?.num_pending === 0 && this.appliedSeq >= info.delivered.stream_seq);
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    while (!readAll() && Date.now() < deadline && !this.stopping) await new Promise((r) => setTimeout(r, 20));
    if (this.stopping) return;
    this.caughtUp = true;
    log.info('watching gateways', { stream, known: this.tracker.all().length });
    this.check();
    this.timer = setInterval(() => this.check(), this.o.checkEveryMs);
    this.timer.unref();
  }

  /**
   * Ours, created if missing; or, when JetStream refuses it because an operator's stream already
   * captures these subjects (`vigie.>`), that one: filtered to the gateway subjects it does as well.
   */
  private async streamToFollow(jsm: JetStreamManager): Promise<string> {
    const { stream, log } = this.o;
    try {
      const r = await ensureStream(
        jsm,
        stream,
        GATEWAYS_STREAM.subjects,
        this.o.duplicateWindowMs,
        GATEWAYS_STREAM.config,
      );
      if (r.created) log.info('stream created', { stream, subjects: r.subjects });
      else if (!sameSubjects(r.subjects, GATEWAYS_STREAM.subjects))
        log.warn('gateways stream has other subjects', { stream, has: r.subjects });
      return stream;
    } catch (err) {
      const other = await jsm.streams.find(gatewaySubjects.heartbeat('any')).catch(() => undefined);
      if (other === undefined || other === stream) throw err;
      log.warn('gateways stream not created: following the stream that captures gateway subjects', {
        stream,
        following: other,
        error: (err as Error).message,
      });
      return other;
    }
  }

  /** The last message of each gateway subject, then every new one, in stream order. */
  private async follow(js: JetStreamClient, stream: string): Promise<JetStreamSubscription> {
    const opts = consumerOpts();
    opts.orderedConsumer();
    opts.bindStream(stream);
    opts.deliverLastPerSubject();
    opts.idleHeartbeat(FOLLOW_HEARTBEAT_MS);
    const sub = await js.subscribe(GATEWAYS_STREAM.subjects[0], opts);
    void (async () => {
      for await (const m of sub) this.onMessage(m);
    })().catch((err: unknown) =>
      this.o.log.error('gateway stream follower stopped', { error: (err as Error).message }),
    );
    return sub;
  }

  private onMessage(m: JsMsg): void {
    this.appliedSeq = m.seq;
    if (m.info.pending === 0) this.sawEnd = true;
    const [, site, , kind] = m.subject.split('.');
    if (site === undefined || !isSubjectToken(site)) return;
    // The server's receive time, not the gateway's clock: a gateway whose clock is late must not
    // look silent. Bounded by ours for a server whose clock is ahead.
    const seenAt = Math.min(this.o.clock.now(), Math.floor(m.info.timestampNanos / 1e6));
    let body: unknown;
    try {
      body = m.json();
    } catch {
      return this.ignore(m, 'not JSON');
    }
    if (kind === 'heartbeat') {
      const hb = heartbeatSchema.safeParse(body);
      if (!hb.success || hb.data.site !== site) return this.ignore(m, 'not a heartbeat of this site');
      const t = this.tracker.heartbeat(hb.data, seenAt);
      if (this.caughtUp) this.act(t);
    } else if (kind === 'silent' || kind === 'back') {
      const env = envelopeSchema.safeParse(body);
      if (!env.success) return this.ignore(m, 'not a CloudEvent');
      if (env.data.type === EVENT_TYPES.gatewaySilent) {
        const d = gatewaySilentSchema.safeParse(env.data.data);
        if (d.success && d.data.site === site) this.tracker.silent(d.data);
      } else if (env.data.type === EVENT_TYPES.gatewayBack) {
        const d = gatewayBackSchema.safeParse(env.data.data);
        if (d.success && d.data.site === site) this.tracker.back(d.data);
      }
    }
  }

  private ignore(m: JsMsg, why: string): void {
    if (this.o.log.enabled('debug'))
      this.o.log.debug('gateway stream message ignored', { subject: m.subject, why });
  }

  private check(): void {
    for (const t of this.tracker.all()) this.act(t);
  }

  private act(t: Tracked): void {
    const now = this.o.clock.now();
    const due = this.tracker.due(t, now);
    if (!due || this.stopping) return;
    t.busy = true;
    const done = due === 'raise' ? this.raise(t, now) : this.announceBack(t, t.raised!, now);
    void done
      .catch((err: unknown) =>
        this.o.log.warn(`gateway ${due} not published, will retry`, {
          site: t.site,
          gateway: t.gateway,
          error: (err as Error).message,
        }),
      )
      .finally(() => {
        t.busy = false;
        // The gateway may have spoken while we published: announce it without waiting for a tick.
        if (due === 'raise' && t.raised && !this.stopping) this.act(t);
      });
  }

  /** The work item first: a `silent` stored without it would stop every router from raising it. */
  private async raise(t: Tracked, now: number): Promise<void> {
    const last = t.last;
    const seenAt = t.seenAt;
    const incidentId = silenceIncidentId(t.site, last);
    const silentAfterMs = this.tracker.silentAfter(t);
    const item = this.workItem(t.site, last, seenAt, silentAfterMs, incidentId, now);
    const ack = await this.publish(subjects.workItem(t.site), item);
    const data: GatewaySilentData & Record<string, unknown> = {
      site: t.site,
      gateway: last.gateway,
      incidentId,
      workItemId: `wi_${incidentId}`,
      lastHeartbeat: last,
      lastSeenAt: seenAt,
      silentAfterMs,
      silentForMs: now - seenAt,
      detectedAt: now,
    };
    await this.publish(
      gatewaySubjects.silent(t.site),
      this.event(EVENT_TYPES.gatewaySilent, `evt_silent_${incidentId}`, incidentId, t.site, data, now),
    );
    t.raised = { incidentId, lastHeartbeat: last, lastSeenAt: seenAt };
    if (ack.duplicate) return;
    this.o.metrics.gatewaySilences.inc({ site: t.site });
    this.o.log.warn('gateway silent: incident raised for the contact center', {
      site: t.site,
      gateway: last.gateway,
      incidentId,
      lastSeq: last.seq,
      silentForMs: now - seenAt,
    });
  }

  private async announceBack(t: Tracked, r: Raised, now: number): Promise<void> {
    const data = {
      site: t.site,
      gateway: t.gateway,
      incidentId: r.incidentId,
      lastHeartbeat: r.lastHeartbeat,
      heartbeat: t.last,
      silentForMs: Math.max(0, t.seenAt - r.lastSeenAt),
    };
    const ack = await this.publish(
      gatewaySubjects.back(t.site),
      this.event(EVENT_TYPES.gatewayBack, `evt_back_${r.incidentId}`, r.incidentId, t.site, data, now),
    );
    if (t.raised === r) t.raised = undefined;
    if (ack.duplicate) return;
    this.o.metrics.gatewayBacks.inc({ site: t.site });
    this.o.log.info('gateway back', { ...data, lastHeartbeat: undefined, heartbeat: undefined });
  }

  /** The work item as a gateway would have sent it for an incident of its own (README "Uplink"). */
  private workItem(
    site: string,
    last: HeartbeatData,
    seenAt: number,
    silentAfterMs: number,
    incidentId: string,
    now: number,
  ): CloudEvent {
    const name = `Gateway ${last.gateway}`;
    const data = {
      workItemId: `wi_${incidentId}`,
      site,
      incident: {
        id: incidentId,
        site,
        rule: GATEWAY_SILENT_RULE,
        ruleName: 'Gateway silent',
        device: 'gateway',
        deviceName: name,
        zone: '',
        severity: 'critical',
        state: 'open',
        reason: 'silence',
        message: `No heartbeat from ${name} for ${Math.round((now - seenAt) / 1000)} s (one expected every ${Math.round(last.intervalMs / 1000)} s)`,
        triggerTs: seenAt + silentAfterMs,
        openedAt: now,
        at: now,
        values: {
          lastSeq: last.seq,
          startedAt: last.startedAt,
          lastHeartbeatAt: last.at,
          lastSeenAt: seenAt,
        },
      },
      device: { id: 'gateway', kind: 'gateway', name, zone: '' },
      history: [],
      intent: { rule: GATEWAY_SILENT_RULE, category: GATEWAY_OFFLINE_INTENT },
      priority: 'critical',
    };
    return cloudEvent({
      id: `evt_wi_${incidentId}`,
      source: this.source,
      type: EVENT_TYPES.workItem,
      subject: incidentId,
      site,
      time: now,
      data,
    });
  }

  private event(type: string, id: string, incidentId: string, site: string, data: unknown, now: number) {
    return cloudEvent({ id, source: this.source, type, subject: incidentId, site, time: now, data });
  }

  private publish(subject: string, ev: CloudEvent): Promise<PubAck> {
    if (!this.js) return Promise.reject(new Error('NATS not connected'));
    return this.js.publish(subject, JSON.stringify(ev), { msgID: ev.id });
  }
}
