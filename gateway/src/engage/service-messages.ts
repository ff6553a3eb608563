import type { Database, Statement } from 'better-sqlite3';
import { newId } from '../route/ids.js';
import { recipientKey, type Recipient } from './channel.js';

/** The text of a service message, fixed when it is queued so a resend says exactly the same. */
export interface ServiceBody {
  message: string;
  subject?: string;
  html?: string;
  language: string;
}

export interface ServiceMessage extends ServiceBody {
  incidentId: string;
  /** A configured channel name (an sms, modem or email channel). */
  channel: string;
  recipient: Recipient;
  /** What it is about, for the timeline: `job-offer`, `customer-eta`, `survey`... */
  tag: string;
}

/**
 * Job offers to technicians and updates to customers ride the same durable delivery queue as the
 * alerts (retries, provider reconcile after a crash, audit trail), marked `purpose = 'service'`.
 * `enqueue` must run inside the caller's transaction, the one that records the job change: the
 * message is queued if and only if the change is committed.
 */
export class ServiceMessages {
  private readonly insert: Statement;

  constructor(private readonly db: Database) {
    this.insert = db.prepare(
      `INSERT INTO deliveries (id, incident_id, step, channel, recipient, recipient_json, state, attempts,
         next_attempt_at, created_at, purpose, body_json)
       VALUES (@id, @incidentId, -1, @channel, @recipient, @recipientJson, 'pending', 0, @at, @at, 'service', @body)`,
    );
  }

  /** Queues the message; returns its delivery id. */
  enqueue(m: ServiceMessage, now: number): string {
    const id = newId('dlv_', now);
    const body: ServiceBody & { tag: string } = { message: m.message, language: m.language, tag: m.tag };
    if (m.subject !== undefined) body.subject = m.subject;
    if (m.html !== undefined) body.html = m.html;
    this.insert.run({
      id,
      incidentId: m.incidentId,
      channel: m.channel,
      recipient: recipientKey(m.recipient),
      recipientJson: JSON.stringify(m.recipient),
      at: now,
      body: JSON.stringify(body),
    });
    return id;
  }
}
