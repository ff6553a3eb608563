import { randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';

/**
 * A random key kept in the database's meta table, made on first use: the gateway signs URLs it
 * hands out (voice prompts) with it, and they must stay valid across a restart.
 */
export function persistentSecret(db: Database, name: string): string {
  const key = `secret:${name}`;
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  if (row) return row.value;
  const value = randomBytes(32).toString('hex');
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string }).value;
}
