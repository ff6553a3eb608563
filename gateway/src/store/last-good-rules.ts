import type { Database } from 'better-sqlite3';
import type { RuleFile } from '../ruleset/rule-files.js';

const KEY = 'last_good_rules';

/**
 * The texts of the last rule set that loaded cleanly. If the rules directory is invalid when the
 * gateway starts (an integrator's typo, then a power cut), the gateway runs these instead of
 * nothing: a site is never left unwatched by a typo.
 */
export class LastGoodRules {
  constructor(private readonly db: Database) {}

  save(files: readonly RuleFile[]): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(KEY, JSON.stringify({ savedAt: Date.now(), files }));
  }

  load(): { savedAt: number; files: RuleFile[] } | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(KEY) as
      { value: string } | undefined;
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as { savedAt: number; files: RuleFile[] };
    } catch {
      return undefined;
    }
  }
}
