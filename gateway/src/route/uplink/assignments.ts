import { AckPolicy, ConsumerEvents, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Database, Statement } from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Counter, Registry } from '../../core/metrics.js';
import { LogLimiter } from '../../listen/log-limiter.js';
import type { IncidentService } from '../incidents.js';
import type { Incident } from '../model.js';
import { CE_TYPE_PREFIX, subjects, type CloudEvent } from './events.js';
import { apiErrorCode } from './streams.js';
import { Wakeup } from './wakeup.js';

/** `data` of `com.vigie.assignment.created` (the router's answer to a work item). */
export interface AssignmentData {
  assignmentId: string;
  workItemId: string;
  incidentId: string;
  site: string;
  identification?: Record<string, unknown>;
  segment?: { tier: string; value?: number };
  objective?: { intent: string; skill: string };
  queue: string;
  resource: { kind: string; id: string };
  estimatedWaitSec: number;
  callbackOffered: boolean;
  routedBy: string;
  at: number;
}

export type AssignmentOutcome = 'applied' | 'duplicate' | 'unknown-incident' | 'ignored';

export interface AssignmentOptions {
  db: Database;
  site: string;
  /** The contact-center stream (config uplink.streams.contactCenter). */
  stream: string;
  incidents: Pick<IncidentService, 'annotate' | 'get'>;
  metrics: Registry;
  logger: Logger;
  clock: Clock;
  /** After the commit of an applied assignment (the gateway pushes the incident to the live console). */
  onApplied?: (incident: Incident) => void;
  /** Wait before an assignment that failed is offered again (default 5 s). */
  retryDelayMs?: number;
}

const TYPE = `${CE_TYPE_PREFIX}assignment.created`;
// JetStream API error code (nats-server server/errors.json).
const CONSUMER_NOT_FOUND = 10014;

class Malformed extends Error {}

/**
 * Applies the router's assignments to incidents: a timeline entry and `context.assignment`. The
 * consumer is durable, so assignments routed while the gateway was down are waiting for it; each one
 * is acknowledged only after its transaction committed, and `uplink_seen` makes a redelivery (an
 * acknowledgement lost, the consumer recreated) a no-op.
 */
export class AssignmentConsumer {
  readonly name: string;
  private readonly s: { seen: Statement; insert: Statement };
  private readonly counted: Counter;
  private readonly limiter: LogLimiter;
  private stopped = false;
  private readonly retry = new Wakeup();
  private running: Promise<void> | undefined;
  private messages: { stop(): void } | undefined;

  constructor(private readonly o: AssignmentOptions) {
    this.name = `vigie-${o.site}-assignments`;
    this.s = {
      seen: o.db.prepare('SELECT 1 FROM uplink_seen WHERE id = ?').pluck(),
      insert: o.db.prepare('INSERT INTO uplink_seen (id, at) VALUES (?, ?)'),
    };
    this.counted = o.metrics.counter(
      'vigie_uplink_assignments_total',
      'Assignments received from the router, by outcome',
    );
    this.limiter = new LogLimiter(o.clock, 60_000);
  }

  /** Consumes on `nc` until stop() or until the connection closes (the uplink hands over the next one). */
  start(nc: NatsConnection): void {
    if (this.stopped) return;
    const previous = this.running;
    this.running = (async () => {
      await previous;
      await this.consumeWhileOpen(nc);
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    this.retry.fire();
    await this.running;
  }

  /**
   * Applies one assignment event in one transaction; throws when it must be offered again. The
   * outcome tells whether anything changed.
   */
  apply(event: CloudEvent<AssignmentData>): { outcome: AssignmentOutcome; incident?: Incident } {
    const d = event.data;
    if (event.type !== TYPE || d.site !== this.o.site) return { outcome: 'ignored' };
    return this.o.db.transaction(() => {
      if (this.s.seen.get(event.id)) return { outcome: 'duplicate' as const };
      // An incident this gateway does not have (its database was replaced, another gateway's site
      // id): retrying cannot make it appear.
      if (!this.o.incidents.get(d.incidentId)) return { outcome: 'unknown-incident' as const };
      this.s.insert.run(event.id, this.o.clock.now());
      const incident = this.o.incidents.annotate(
        d.incidentId,
        {
          kind: 'assignment',
          actor: `router:${d.routedBy}`,
          detail: {
            assignmentId: d.assignmentId,
            workItemId: d.workItemId,
            queue: d.queue,
            resource: d.resource,
            estimatedWaitSec: d.estimatedWaitSec,
            callbackOffered: d.callbackOffered,
            segment: d.segment,
            objective: d.objective,
          },
        },
        {
          assignment: {
            queue: d.queue,
            resource: d.resource,
            estimatedWaitSec: d.estimatedWaitSec,
            callbackOffered: d.callbackOffered,
            assignmentId: d.assignmentId,
          },
        },
      );
      return { outcome: 'applied' as const, incident };
    })();
  }

  private async consumeWhileOpen(nc: NatsConnection): Promise<void> {
    while (!this.stopped && !nc.isClosed()) {
      try {
        await this.consume(nc);
      } catch (err) {
        this.log('consume', 'assignment consumer failed', { error: (err as Error).message });
      }
      if (!this.stopped && !nc.isClosed()) await this.retry.wait(this.o.retryDelayMs ?? 5000);
    }
  }

  private async consume(nc: NatsConnection): Promise<void> {
    const jsm = await nc.jetstreamManager();
    // An existing durable keeps its place in the stream (and whatever limits an operator gave it).
    const exists = await jsm.consumers.info(this.o.stream, this.name).then(
      () => true,
      (err: unknown) => {
        if (apiErrorCode(err) === CONSUMER_NOT_FOUND) return false;
        throw err;
      },
    );
    if (!exists) {
      await jsm.consumers.add(this.o.stream, {
        durable_name: this.name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: subjects.assignment(this.o.site),
        ack_wait: nanos(30_000),
      });
    }
    const consumer = await nc.jetstream().consumers.get(this.o.stream, this.name);
    const messages = await consumer.consume({ max_messages: 64 });
    this.messages = messages;
    if (this.stopped) messages.stop();
    void (async () => {
      for await (const s of await messages.status()) {
        // Somebody deleted the consumer or the stream: stop, and the loop creates it again.
        if (
          s.type === ConsumerEvents.ConsumerNotFound ||
          s.type === ConsumerEvents.StreamNotFound ||
          s.type === ConsumerEvents.ConsumerDeleted
        ) {
          messages.stop();
        }
      }
    })().catch(() => undefined);
    for await (const m of messages) this.handle(m);
  }

  private handle(m: JsMsg): void {
    let event: CloudEvent<AssignmentData>;
    try {
      event = parse(m.data);
    } catch (err) {
      // Offering it again would fail again: terminate it, so it does not come back.
      this.counted.inc({ outcome: 'malformed' });
      this.log('malformed', 'malformed assignment dropped', { seq: m.seq, error: (err as Error).message });
      m.term();
      return;
    }
    let result: ReturnType<AssignmentConsumer['apply']>;
    try {
      result = this.apply(event);
    } catch (err) {
      this.counted.inc({ outcome: 'error' });
      this.log('apply', 'assignment not applied, offered again later', {
        event: event.id,
        error: (err as Error).message,
      });
      m.nak(this.o.retryDelayMs ?? 5000);
      return;
    }
    m.ack();
    this.counted.inc({ outcome: result.outcome });
    if (result.outcome === 'unknown-incident') {
      this.log('unknown', 'assignment for an unknown incident', {
        event: event.id,
        incident: event.data.incidentId,
      });
    }
    if (result.incident && this.o.onApplied) {
      try {
        this.o.onApplied(result.incident);
      } catch (err) {
        this.log('onApplied', 'assignment listener failed', { error: (err as Error).message });
      }
    }
  }

  private log(key: string, msg: string, fields: Record<string, unknown>): void {
    const suppressed = this.limiter.allow(key);
    if (suppressed !== false) this.o.logger.warn(msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}

function parse(data: Uint8Array): CloudEvent<AssignmentData> {
  if (data.length > 256 * 1024) throw new Malformed('larger than 256 KiB');
  const e = JSON.parse(
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'),
  ) as unknown;
  const ev = e as Partial<CloudEvent<Partial<AssignmentData>>> | null;
  const d = ev?.data;
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (
    typeof ev !== 'object' ||
    !ev ||
    !str(ev.id) ||
    !str(ev.type) ||
    typeof d !== 'object' ||
    !d ||
    !str(d.incidentId) ||
    !str(d.assignmentId) ||
    !str(d.site) ||
    !str(d.queue) ||
    !str(d.routedBy) ||
    typeof d.resource !== 'object' ||
    !d.resource ||
    typeof d.estimatedWaitSec !== 'number' ||
    typeof d.callbackOffered !== 'boolean'
  ) {
    throw new Malformed('not an assignment CloudEvent');
  }
  return e as CloudEvent<AssignmentData>;
}
