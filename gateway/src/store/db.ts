import { join } from 'node:path';
import DatabaseCtor from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { VigieError } from '../core/errors.js';
import { MIGRATIONS } from './migrations.js';

export type { Database };

export const DB_FILE = 'vigie.db';

/**
 * Opens (creating if needed) `<dataDir>/vigie.db` and brings its schema up to date.
 * The directory must exist.
 */
export function openDatabase(dataDir: string): Database {
  let db: Database;
  try {
    db = new DatabaseCtor(join(dataDir, DB_FILE));
  } catch (err) {
    throw new VigieError('VIGIE_ERR_STORE', `cannot open the database in ${dataDir}`, { cause: err });
  }
  try {
    // WAL + synchronous=NORMAL: a commit is durable once it is in the WAL file, which the OS holds
    // even if this process crashes or is killed with SIGKILL; only an OS crash or power loss before
    // the next checkpoint/fsync can lose the last commits (never corrupt the file).
    // https://www.sqlite.org/pragma.html#pragma_synchronous
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Another process (a backup, the CLI) may hold the lock for a moment: wait rather than fail.
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof VigieError) throw err;
    throw new VigieError('VIGIE_ERR_STORE', `cannot prepare the database in ${dataDir}`, { cause: err });
  }
  return db;
}

/** Applies the migrations newer than the file's `user_version`, each in its own transaction. */
export function migrate(db: Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new VigieError(
      'VIGIE_ERR_STORE',
      `the database schema (version ${current}) is newer than this gateway knows (${MIGRATIONS.length}); upgrade the gateway`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      // user_version cannot be bound as a parameter; v is a number we control.
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return MIGRATIONS.length;
}
