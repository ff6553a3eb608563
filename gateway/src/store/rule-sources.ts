import type { Database } from 'better-sqlite3';
import type { FlowRuleDoc } from '../red/link.js';

export interface StoredRuleSource {
  id: string;
  label: string;
  rules: FlowRuleDoc[];
  updatedAt: number;
}

/**
 * The last accepted rule set of each rule source (a Node-RED instance), as the documents it sent:
 * they are compiled again at start, against the site of that day.
 */
export class RuleSourceStore {
  constructor(private readonly db: Database) {}

  load(): StoredRuleSource[] {
    const rows = this.db
      .prepare('SELECT id, label, docs_json, updated_at FROM rule_sources ORDER BY id')
      .all() as { id: string; label: string; docs_json: string; updated_at: number }[];
    return rows.map((r) => ({
      id: r.id,
      label: r.label,
      rules: JSON.parse(r.docs_json) as FlowRuleDoc[],
      updatedAt: r.updated_at,
    }));
  }

  save(id: string, label: string, rules: readonly FlowRuleDoc[], updatedAt: number): void {
    this.db
      .prepare(
        `INSERT INTO rule_sources (id, label, docs_json, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET label = excluded.label, docs_json = excluded.docs_json,
           updated_at = excluded.updated_at`,
      )
      .run(id, label, JSON.stringify(rules), updatedAt);
  }

  /** False when there was no such source. */
  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM rule_sources WHERE id = ?').run(id).changes > 0;
  }
}
