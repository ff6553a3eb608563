import type { Database, Statement } from 'better-sqlite3';
import { systemClock, type Clock } from '../../core/clock.js';
import { VigieError } from '../../core/errors.js';
import type { CloudEvent } from './events.js';

/** One event waiting to be published: `data` is the CloudEvent's JSON, sent as is. */
export interface OutboxRow {
  seq: number;
  id: string;
  subject: string;
  data: string;
  attempts: number;
}

/**
 * The transactional outbox (README "Uplink"): an event is written by the transaction that makes the
 * change it reports, so the contact center hears of every committed change and of nothing else, even
 * when NATS is away or the process dies between the commit and the publish.
 */
export class Outbox {
  private readonly s: {
    insert: Statement;
    peek: Statement;
    remove: Statement;
    failed: Statement;
    depth: Statement;
    oldest: Statement;
  };

  constructor(
    private readonly db: Database,
    private readonly clock: Clock = systemClock,
    /** Called after each new row (inside the transaction): the publisher's wake-up. */
    private readonly onAppend?: () => void,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      // The same event id twice is the same event (a work item written again after a restart): the
      // first row stands, and the caller's change is not rolled back for it.
      insert: p(
        `INSERT INTO outbox (id, subject, incident_id, created_at, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
      ),
      peek: p('SELECT seq, id, subject, data, attempts FROM outbox ORDER BY seq LIMIT ?'),
      remove: p('DELETE FROM outbox WHERE seq = ?'),
      failed: p('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?'),
      depth: p('SELECT COUNT(*) AS n FROM outbox').pluck(),
      oldest: p('SELECT created_at FROM outbox ORDER BY seq LIMIT 1').pluck(),
    };
  }

  /**
   * Queues `event` for `subject`. Must run inside the caller's transaction: outside one, the event
   * and the change it reports could be committed apart, which is what the outbox exists to prevent.
   * False when an event with this id is already queued.
   */
  append(subject: string, event: CloudEvent, incidentId: string | undefined = event.subject): boolean {
    if (!this.db.inTransaction) {
      throw new VigieError(
        'VIGIE_ERR_STORE',
        'an outbox event must be appended inside the transaction of its change',
      );
    }
    const r = this.s.insert.run(
      event.id,
      subject,
      incidentId ?? null,
      this.clock.now(),
      JSON.stringify(event),
    );
    if (r.changes === 0) return false;
    this.onAppend?.();
    return true;
  }

  /** The oldest `limit` events, in the order they were committed. */
  peek(limit: number): OutboxRow[] {
    return this.s.peek.all(limit) as OutboxRow[];
  }

  /** Forgets published events, in one transaction. */
  remove(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    this.db.transaction(() => {
      for (const seq of seqs) this.s.remove.run(seq);
    })();
  }

  /** Records a failed attempt on the event that holds the queue up, so the table tells why it is stuck. */
  markFailed(seq: number, error: string): void {
    this.s.failed.run(error.slice(0, 500), seq);
  }

  depth(): number {
    return this.s.depth.get() as number;
  }

  /** How long the oldest unpublished event has waited (0 when none does). */
  oldestAge(now: number = this.clock.now()): number {
    const at = this.s.oldest.get() as number | undefined;
    return at === undefined ? 0 : Math.max(0, now - at);
  }
}
