import { performance } from 'node:perf_hooks';
import type { Database } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Counter, Histogram, Registry } from '../core/metrics.js';
import type { IncidentService } from '../route/incidents.js';
import type { DeliveryRow } from '../route/rows.js';
import { recipientFromRow } from '../route/rows.js';
import { backoffDelay, DEFAULT_RETRY } from './backoff.js';
import type { Channel, Notification, SendResult } from './channel.js';
import { DeliveryStore } from './delivery-store.js';
import { plainCompose, type Compose } from './composer.js';
import type { Incident } from '../route/model.js';
import type { ServiceBody } from './service-messages.js';

/** Storm control's rate limits (config `storm.rate`). */
export interface RateLimits {
  perPerson: number;
  perSite: number;
  window: number;
}

/** Channel types that page a person (rate limits apply); console and webhooks feed systems. */
const PAGING = new Set(['sms', 'voice', 'modem', 'email']);

export interface DeliveryWorkerOptions {
  db: Database;
  channels: ReadonlyMap<string, Channel>;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
  incidents: Pick<IncidentService, 'get'>;
  /** Sends in flight at most (default 8). */
  concurrency?: number;
  /** Hard limit on one send, whatever the channel does (default 60 s). */
  sendTimeoutMs?: number;
  /** For tests: the jitter source. */
  random?: () => number;
  /** Renders the alert per channel type and language (default: the rule's message). */
  compose?: Compose;
  /** Per-person and per-site limits; none when absent. */
  rate?: RateLimits;
  /**
   * Called inside the transaction that records a delivery as failed for good: the place to queue
   * the person's next channel (engage/failover.ts).
   */
  onFailed?: (row: DeliveryRow, incident: Incident | undefined, now: number) => void;
}

type Outcome = 'delivered' | 'sent' | 'retry' | 'failed' | 'cancelled' | 'suppressed';

/**
 * Sends pending deliveries through their channels. Delivery state machine:
 *   pending -> sending -> delivered | pending (retry, later) | failed
 * `sending` is committed BEFORE the send, so after a crash we know which sends may have left.
 */
export class DeliveryWorker {
  private readonly store: DeliveryStore;
  private readonly inFlight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly listeners = new Set<() => void>();
  private readonly total: Counter;
  private readonly latency: Histogram;
  private readonly concurrency: number;
  private stopped = false;

  constructor(private readonly o: DeliveryWorkerOptions) {
    this.store = new DeliveryStore(o.db);
    this.concurrency = Math.max(1, o.concurrency ?? 8);
    this.total = o.metrics.counter(
      'vigie_notifications_total',
      'Notification attempts by channel and outcome',
    );
    this.latency = o.metrics.histogram(
      'vigie_notification_latency_seconds',
      'Duration of successful notification attempts',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
  }

  /**
   * Call once at start. Rows still `sending` were cut by a crash: the send may or may not have
   * reached the receiver. They are marked `interrupted`: a channel that can ask its provider
   * (reconcile) does so before sending again; the others send again with the same delivery id
   * (the Idempotency-Key), which their receivers use to drop the duplicate.
   */
  recover(): number {
    const n = this.store.recover(this.o.clock.now());
    if (n > 0) this.o.logger.warn('deliveries interrupted by a restart are sent again', { count: n });
    return n;
  }

  /** Called after each attempt is recorded (the scheduler re-arms on it). */
  onSettled(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the sends that are due, up to the concurrency limit; returns how many started. */
  pump(): number {
    if (this.stopped) return 0;
    const room = this.concurrency - this.inFlight.size;
    if (room <= 0) return 0;
    let started = 0;
    for (const row of this.store.due(this.o.clock.now(), room)) {
      if (started >= room) break;
      if (this.inFlight.has(row.id)) continue;
      const claimed = this.store.claim(row.id, this.o.clock.now());
      if (!claimed) continue;
      const abort = new AbortController();
      const done = this.attempt(claimed, abort.signal).finally(() => {
        this.inFlight.delete(row.id);
        for (const l of this.listeners) l();
      });
      this.inFlight.set(row.id, { abort, done });
      started++;
    }
    return started;
  }

  /** Earliest attempt time of a pending delivery; undefined when none, or when full (a finishing send pumps again). */
  nextDue(): number | undefined {
    if (this.stopped || this.inFlight.size >= this.concurrency) return undefined;
    return this.store.nextDue();
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** Resolves when no send is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()].map((f) => f.done));
  }

  /** Aborts the sends in flight (they go back to pending) and waits for their outcome to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const f of this.inFlight.values()) f.abort.abort();
    await this.idle();
  }

  private async attempt(row: DeliveryRow, stop: AbortSignal): Promise<void> {
    const channel = this.o.channels.get(row.channel);
    const incident = this.o.incidents.get(row.incident_id);
    let result: SendResult;
    const t0 = performance.now();
    const claimedAt = row.claimed_at ?? this.o.clock.now();
    if (!channel) result = { ok: false, retryable: false, error: `no channel named "${row.channel}"` };
    else if (!incident) result = { ok: false, retryable: false, error: 'incident not found' };
    else if (row.purpose !== 'service' && incident.state !== 'open') {
      // Somebody acknowledged it, or it cleared or was resolved, before this send (a retry, or a
      // step queued just before): paging people about it now would only be noise, like escalation.
      // A service message (job offer, customer update, survey) goes whatever the incident's state.
      result = { ok: false, retryable: false, error: `cancelled: the incident is ${incident.state}` };
      this.record(row, channel, result, 0, 'cancelled');
      return;
    } else {
      const limited = row.purpose !== 'service' && this.overLimit(row, channel, incident, claimedAt);
      if (limited) {
        this.record(row, channel, { ok: false, retryable: false, error: limited }, 0, 'suppressed');
        return;
      }
      const recipient = recipientFromRow(row);
      // A service message's text was fixed when the job changed; an alert is rendered now.
      const text =
        row.purpose === 'service'
          ? serviceBody(row)
          : (this.o.compose ?? plainCompose)(incident, recipient, channel.type, claimedAt);
      const n: Notification = {
        deliveryId: row.id,
        incident,
        recipient,
        step: row.step,
        attempt: row.attempts,
        message: text.message,
        language: text.language,
        claimedAt,
      };
      if (text.subject !== undefined) n.subject = text.subject;
      if (text.html !== undefined) n.html = text.html;
      result = await this.send(channel, n, row, stop);
    }
    this.record(row, channel, result, performance.now() - t0);
  }

  private async send(
    channel: Channel,
    n: Notification,
    row: DeliveryRow,
    stop: AbortSignal,
  ): Promise<SendResult> {
    // A referenced timer (AbortSignal.timeout's is not): an attempt under way keeps the process up.
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(), this.o.sendTimeoutMs ?? 60_000);
    const signal = AbortSignal.any([stop, limit.signal]);
    let result: SendResult;
    try {
      // The race keeps a channel that ignores its signal from holding a worker slot forever.
      const found = row.interrupted ? await this.reconcile(channel, n, signal) : undefined;
      result = found ?? (await Promise.race([channel.send(n, signal), whenAborted(signal)]));
    } catch (err) {
      // Channels should not throw; if one does, treat it as a passing fault.
      result = { ok: false, retryable: true, error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
    if (!result.ok && limit.signal.aborted) result = { ok: false, retryable: true, error: 'send timed out' };
    return result;
  }

  /**
   * After a crash between "request sent" and "recorded": did the provider get it? Found means no
   * second call or SMS; not found, or the provider cannot say, means send (rather twice than never
   * for an alarm; the timeline records the doubt).
   */
  private async reconcile(
    channel: Channel,
    n: Notification,
    signal: AbortSignal,
  ): Promise<SendResult | undefined> {
    if (!channel.reconcile) return undefined;
    const r = await Promise.race([
      channel.reconcile(n, signal),
      whenAborted(signal).then(() => ({ unknown: 'aborted' }) as const),
    ]);
    if ('found' in r && r.found) {
      this.o.logger.info('an interrupted attempt had reached the provider: not sent again', {
        delivery: n.deliveryId,
        providerId: r.providerId,
      });
      return { ok: true, providerId: r.providerId, awaitingStatus: true };
    }
    if ('unknown' in r)
      this.o.logger.warn('cannot tell whether an interrupted attempt reached the provider: sending again', {
        delivery: n.deliveryId,
        reason: r.unknown,
      });
    return undefined;
  }

  /** Why this send must be held back by storm control, or undefined. Critical alerts never are. */
  private overLimit(row: DeliveryRow, channel: Channel, incident: Incident, now: number): string | undefined {
    const rate = this.o.rate;
    if (!rate || incident.severity === 'critical' || !PAGING.has(channel.type)) return undefined;
    const since = now - rate.window;
    // The row itself is `sending` and counts: more than the limit means over it.
    if (this.store.recentSends(since, row.recipient) > rate.perPerson)
      return `suppressed: ${row.recipient} already got ${rate.perPerson} alerts within ${Math.round(rate.window / 60_000)} min`;
    if (this.store.recentSends(since) > rate.perSite)
      return `suppressed: the site already sent ${rate.perSite} alerts within ${Math.round(rate.window / 60_000)} min`;
    return undefined;
  }

  private record(
    row: DeliveryRow,
    channel: Channel | undefined,
    result: SendResult,
    latencyMs: number,
    forced?: 'cancelled' | 'suppressed',
  ): void {
    const now = this.o.clock.now();
    const policy = channel?.retry ?? DEFAULT_RETRY;
    let outcome: Outcome;
    let nextAttemptAt: number | undefined;
    if (forced) outcome = forced;
    else if (result.ok) outcome = result.awaitingStatus ? 'sent' : 'delivered';
    else if (result.retryable && (row.attempts < policy.maxAttempts || this.stopped)) {
      outcome = 'retry';
      // An attempt cut short by our own shutdown is not the receiver's fault: try again at once on restart.
      nextAttemptAt = this.stopped ? now : now + backoffDelay(policy, row.attempts, this.o.random);
    } else outcome = 'failed';
    const latency = Math.round(latencyMs * 10) / 10;
    const detail: Record<string, unknown> = {
      deliveryId: row.id,
      channel: row.channel,
      recipient: row.recipient,
      step: row.step,
      attempt: row.attempts,
      outcome,
      latencyMs: latency,
    };
    if (!result.ok) detail.error = result.error;
    if (result.ok && result.providerId) detail.providerId = result.providerId;
    if (result.ok && result.via) detail.via = result.via;
    if (nextAttemptAt !== undefined) detail.nextAttemptAt = nextAttemptAt;
    try {
      this.o.db.transaction(() => {
        if (result.ok) {
          this.store.delivered(row.id, now, latency, {
            state: result.awaitingStatus ? 'sent' : 'delivered',
            ...(result.providerId ? { providerId: result.providerId } : {}),
            ...(result.via ? { via: result.via } : {}),
          });
        } else if (outcome === 'retry') this.store.retry(row.id, nextAttemptAt ?? now, result.error);
        else if (outcome === 'cancelled') this.store.cancelled(row.id, result.error);
        else if (outcome === 'suppressed') this.store.suppressed(row.id, result.error);
        else this.store.failed(row.id, result.error);
        this.store.noteAttempt(row.incident_id, now, detail);
        // Failover walks a person's channel preferences; a service message has its own fallback.
        if (outcome === 'failed' && row.purpose !== 'service')
          this.o.onFailed?.(row, this.o.incidents.get(row.incident_id), now);
      })();
    } catch (err) {
      // The row stays `sending`; recover() resends it at the next start.
      this.o.logger.error('could not record a notification attempt', {
        delivery: row.id,
        error: (err as Error).message,
      });
      return;
    }
    this.total.inc({ channel: row.channel, outcome });
    if (result.ok) this.latency.observe(latencyMs / 1000);
    const log = {
      delivery: row.id,
      incident: row.incident_id,
      channel: row.channel,
      recipient: row.recipient,
      attempt: row.attempts,
    };
    if (outcome === 'failed')
      this.o.logger.warn('notification failed', { ...log, error: result.ok ? '' : result.error });
    else if (outcome === 'cancelled' || outcome === 'suppressed')
      this.o.logger.info(`notification ${outcome}`, { ...log, reason: result.ok ? '' : result.error });
    else if (outcome === 'retry')
      this.o.logger.info('notification will be retried', { ...log, error: result.ok ? '' : result.error });
    else this.o.logger.debug(`notification ${outcome}`, { ...log, latencyMs: latency });
  }
}

function serviceBody(row: DeliveryRow): ServiceBody {
  return JSON.parse(row.body_json ?? '{"message":"","language":"en"}') as ServiceBody;
}

function whenAborted(signal: AbortSignal): Promise<SendResult> {
  const result: SendResult = { ok: false, retryable: true, error: 'aborted' };
  if (signal.aborted) return Promise.resolve(result);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(result), { once: true }));
}
