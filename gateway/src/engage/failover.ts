import type { Database, Statement } from 'better-sqlite3';
import type { Severity } from '../../../rules/src/model.js';
import type { Logger } from '../core/log.js';
import { newId } from '../route/ids.js';
import type { Incident } from '../route/model.js';
import { recipientFromRow, type DeliveryRow } from '../route/rows.js';
import { DeliveryStore } from './delivery-store.js';
import { IncidentStore } from '../route/store.js';

/** The person's next preferred channel for this severity that was not tried yet (site file `channels`). */
export type NextChannel = (
  personId: string,
  severity: Severity,
  tried: readonly string[],
) => string | undefined;

/**
 * When a delivery fails for good (the SMS came back undelivered, the phone did not answer after
 * the last try), the same person is tried on their next channel at once, instead of waiting for
 * the escalation to move on. Runs inside the transaction that records the failure.
 */
export class Failover {
  private readonly store: DeliveryStore;
  private readonly incidents: IncidentStore;
  private readonly siblings: Statement;

  constructor(private readonly o: { db: Database; next: NextChannel; logger: Logger }) {
    this.store = new DeliveryStore(o.db);
    this.incidents = new IncidentStore(o.db);
    this.siblings = o.db.prepare(
      `SELECT channel FROM deliveries WHERE incident_id = ? AND step = ? AND recipient = ? AND created_at >= ?`,
    );
  }

  /** Queues the next channel; returns its name, or undefined when there is none (or no need). */
  next(row: DeliveryRow, incident: Incident | undefined, now: number): string | undefined {
    if (!incident || incident.state !== 'open') return undefined;
    const recipient = recipientFromRow(row);
    if (recipient.kind !== 'person') return undefined;
    // Channels already used for this person in this run of the step: the failover chain back to
    // its first delivery, and what was sent alongside it.
    let root = row;
    for (let hops = 0; root.failover_of && hops < 20; hops++) {
      const prev = this.store.get(root.failover_of);
      if (!prev) break;
      root = prev;
    }
    const tried = (
      this.siblings.all(row.incident_id, row.step, row.recipient, root.created_at) as { channel: string }[]
    ).map((r) => r.channel);
    const channel = this.o.next(recipient.id, incident.severity, tried);
    if (!channel) {
      this.store.appendTimeline({
        incidentId: incident.id,
        at: now,
        kind: 'note',
        actor: 'system',
        detail: { text: `no other channel left for ${row.recipient}`, tried },
      });
      return undefined;
    }
    const id = newId('dlv_', now);
    this.incidents.insertDelivery({
      id,
      incidentId: row.incident_id,
      step: row.step,
      channel,
      recipient,
      at: now,
      failoverOf: row.id,
    });
    this.store.appendTimeline({
      incidentId: incident.id,
      at: now,
      kind: 'notification',
      actor: 'system',
      detail: {
        deliveryId: id,
        failover: { from: row.channel, to: channel, failed: row.id },
        recipient: row.recipient,
      },
    });
    this.o.logger.info('failing over to the next channel', {
      incident: incident.id,
      recipient: row.recipient,
      from: row.channel,
      to: channel,
    });
    return channel;
  }
}
