import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VigieError } from '../core/errors.js';
import { MIGRATIONS } from './migrations.js';
import { openDatabase } from './db.js';

test('db - opens with WAL, NORMAL sync, foreign keys and the latest schema, twice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-db-'));
  try {
    for (let i = 0; i < 2; i++) {
      const db = openDatabase(dir);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 1);
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
      const tables = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
        .pluck()
        .all();
      for (const t of [
        'deliveries',
        'engine_devices',
        'engine_keys',
        'escalations',
        'incidents',
        'meta',
        'timeline',
      ]) {
        assert.ok(tables.includes(t), `table ${t}`);
      }
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('db - refuses a schema newer than the code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-db-'));
  try {
    const db = openDatabase(dir);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    assert.throws(
      () => openDatabase(dir),
      (e: unknown) => e instanceof VigieError && e.code === 'VIGIE_ERR_STORE',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('db - a missing directory is a store error', () => {
  assert.throws(
    () => openDatabase(join(tmpdir(), 'vigie-no-such-dir', 'deeper')),
    (e: unknown) => e instanceof VigieError && e.code === 'VIGIE_ERR_STORE',
  );
});
