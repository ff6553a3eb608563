import type { Database, Statement } from 'better-sqlite3';
import type { DeliveryRow } from '../route/rows.js';
import type { TimelineEntry } from '../route/model.js';

/** The delivery worker's SQL. Each method is one small write; the worker composes transactions. */
export class DeliveryStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      due: p(
        `SELECT * FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, created_at LIMIT ?`,
      ),
      get: p('SELECT * FROM deliveries WHERE id = ?'),
      claim: p(
        // An interrupted attempt keeps its claim time: the provider is asked about messages since
        // then, and the text (its duration) is rendered exactly as it was sent.
        `UPDATE deliveries SET state = 'sending', attempts = attempts + 1,
         claimed_at = CASE WHEN interrupted = 1 AND claimed_at IS NOT NULL THEN claimed_at ELSE ? END
         WHERE id = ? AND state = 'pending'`,
      ),
      delivered: p(
        `UPDATE deliveries SET state = @state, delivered_at = CASE WHEN @state = 'delivered' THEN @at ELSE delivered_at END,
         latency_ms = @latency, last_error = NULL, interrupted = 0, provider_id = @providerId,
         provider_status = COALESCE(@providerStatus, provider_status), sent_via = @via WHERE id = @id`,
      ),
      suppressed: p(`UPDATE deliveries SET state = 'suppressed', last_error = ? WHERE id = ?`),
      recentSends: p(
        `SELECT COUNT(*) AS n FROM deliveries WHERE claimed_at >= ? AND state IN ('sending', 'sent', 'delivered')
         AND (? IS NULL OR recipient = ?)`,
      ),
      retry: p(`UPDATE deliveries SET state = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?`),
      failed: p(`UPDATE deliveries SET state = 'failed', last_error = ? WHERE id = ?`),
      cancelled: p(`UPDATE deliveries SET state = 'cancelled', last_error = ? WHERE id = ?`),
      recover: p(
        `UPDATE deliveries SET state = 'pending', interrupted = 1, next_attempt_at = MIN(next_attempt_at, ?)
         WHERE state = 'sending'`,
      ),
      nextDue: p(`SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE state = 'pending'`),
      timeline: p(
        'INSERT INTO timeline (incident_id, at, kind, actor, detail_json) VALUES (@incidentId, @at, @kind, @actor, @detail)',
      ),
    };
  }

  /**
   * Incidents still open (nobody acknowledged, nothing cleared) that reached `channel`, with when it
   * first did: what a relay (a siren) was sounding for when the gateway stopped.
   */
  reachedAndOpen(channel: string): { incidentId: string; since: number }[] {
    return this.db
      .prepare(
        `SELECT d.incident_id AS incidentId, MIN(d.delivered_at) AS since FROM deliveries d
         JOIN incidents i ON i.id = d.incident_id
         WHERE d.channel = ? AND d.state = 'delivered' AND i.state = 'open' GROUP BY d.incident_id`,
      )
      .all(channel) as { incidentId: string; since: number }[];
  }

  due(now: number, limit: number): DeliveryRow[] {
    return this.s.due.all(now, limit) as DeliveryRow[];
  }

  /** pending -> sending, attempts + 1; undefined when someone else took it. */
  claim(id: string, now: number): DeliveryRow | undefined {
    if (this.s.claim.run(now, id).changes === 0) return undefined;
    return this.s.get.get(id) as DeliveryRow;
  }

  get(id: string): DeliveryRow | undefined {
    return this.s.get.get(id) as DeliveryRow | undefined;
  }

  /** `delivered`, or `sent` when the provider will tell the outcome in a status callback. */
  delivered(
    id: string,
    at: number,
    latencyMs: number,
    o: { state: 'delivered' | 'sent'; providerId?: string; providerStatus?: string; via?: string },
  ): void {
    this.s.delivered.run({
      id,
      at,
      latency: latencyMs,
      state: o.state,
      providerId: o.providerId ?? null,
      providerStatus: o.providerStatus ?? null,
      via: o.via ?? null,
    });
  }

  suppressed(id: string, reason: string): void {
    this.s.suppressed.run(reason, id);
  }

  /** Attempts started since `since`, for one recipient (`person:amina`) or the whole site. */
  recentSends(since: number, recipient?: string): number {
    return (this.s.recentSends.get(since, recipient ?? null, recipient ?? null) as { n: number }).n;
  }

  retry(id: string, nextAttemptAt: number, error: string): void {
    this.s.retry.run(nextAttemptAt, error, id);
  }

  cancelled(id: string, reason: string): void {
    this.s.cancelled.run(reason, id);
  }

  failed(id: string, error: string): void {
    this.s.failed.run(error, id);
  }

  recover(now: number): number {
    return this.s.recover.run(now).changes;
  }

  nextDue(): number | undefined {
    return (this.s.nextDue.get() as { due: number | null }).due ?? undefined;
  }

  /** The audit trail's record of one attempt or outcome of a delivery. */
  noteAttempt(incidentId: string, at: number, detail: Record<string, unknown>): void {
    this.appendTimeline({ incidentId, at, kind: 'notification', actor: 'system', detail });
  }

  appendTimeline(e: TimelineEntry): void {
    this.s.timeline.run({ ...e, detail: JSON.stringify(e.detail) });
  }
}
