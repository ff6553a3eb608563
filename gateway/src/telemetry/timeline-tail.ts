import type { Database, Statement } from 'better-sqlite3';
import type { TimelineRow } from './model.js';

interface RawRow {
  seq: number;
  incident_id: string;
  at: number;
  kind: string;
  actor: string;
  detail_json: string;
  site: string;
  zone: string;
  rule_id: string;
  severity: string;
  device_id: string;
  opened_at: number;
}

/**
 * Reads the audit trail (the `timeline` table) forward from a sequence number. Everything that
 * happens to an incident is written there, in the same transaction as the change itself, by several
 * modules; following it is how the console hears of a notification outcome or a job step, and how
 * telemetry gets incident and notification points, without each writer knowing about either.
 */
export class TimelineTail {
  private readonly s: Record<'after' | 'latest', Statement>;

  constructor(db: Database) {
    this.s = {
      after: db.prepare(
        `SELECT t.seq, t.incident_id, t.at, t.kind, t.actor, t.detail_json,
                i.site, i.zone, i.rule_id, i.severity, i.device_id, i.opened_at
         FROM timeline t JOIN incidents i ON i.id = t.incident_id
         WHERE t.seq > ? ORDER BY t.seq LIMIT ?`,
      ),
      latest: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM timeline'),
    };
  }

  latest(): number {
    return (this.s.latest.get() as { seq: number }).seq;
  }

  after(seq: number, limit: number): TimelineRow[] {
    return (this.s.after.all(seq, limit) as RawRow[]).map((r) => ({
      seq: r.seq,
      incidentId: r.incident_id,
      at: r.at,
      kind: r.kind,
      actor: r.actor,
      detail: parseDetail(r.detail_json),
      site: r.site,
      zone: r.zone,
      rule: r.rule_id,
      severity: r.severity,
      device: r.device_id,
      openedAt: r.opened_at,
    }));
  }
}

function parseDetail(json: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(json);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
