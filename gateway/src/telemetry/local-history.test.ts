import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import type { Scalar, SensorEvent } from '../../../rules/src/model.js';
import { memoryLogger } from '../core/log.js';
import { openDatabase, type Database } from '../store/db.js';
import { LocalHistory } from './local-history.js';

const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function fresh(): { db: Database; h: LocalHistory; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-hist-'));
  dirs.push(dir);
  const db = openDatabase(dir);
  return {
    db,
    dir,
    h: new LocalHistory(db, { retention: 48 * 3_600_000, minInterval: 10_000 }, memoryLogger()),
  };
}

const ev = (deviceId: string, ts: number, values: Record<string, Scalar>, battery?: number): SensorEvent => ({
  site: 'cdg',
  deviceId,
  kind: 'x',
  ts,
  receivedAt: ts,
  values,
  ...(battery !== undefined ? { battery } : {}),
});

describe('local history', () => {
  let t: ReturnType<typeof fresh>;
  beforeEach(() => (t = fresh()));

  it('keeps every door change but thins a temperature read every second to one per 10 s', () => {
    for (let i = 0; i < 60; i++) {
      t.h.record(ev('temp-1', T0 + i * 1000, { celsius: 20 + i / 10 }));
      t.h.record(ev('door-1', T0 + i * 1000, { open: i % 2 === 0 }));
    }
    t.h.flush();
    const temp = t.h.series('temp-1', 'celsius', T0, T0 + 60_000);
    assert.equal(temp.source, 'store');
    assert.deepEqual(
      temp.points.map(([at]) => (at - T0) / 1000),
      [0, 10, 20, 30, 40, 50],
    );
    assert.equal(temp.points[1][1], 21);
    const door = t.h.series('door-1', 'open', T0, T0 + 60_000);
    assert.equal(door.points.length, 60);
    assert.deepEqual(door.points.slice(0, 3), [
      [T0, 1],
      [T0 + 1000, 0],
      [T0 + 2000, 1],
    ]);
  });

  it('records a value that does not move every 5 minutes, the battery too, and ignores text and late events', () => {
    for (let i = 0; i <= 12; i++)
      t.h.record(ev('temp-1', T0 + i * 60_000, { celsius: 19, status: 'ok' }, 80));
    t.h.record(ev('temp-1', T0 - 1000, { celsius: 40 }));
    t.h.flush();
    assert.deepEqual(
      t.h.series('temp-1', 'celsius', T0 - 10_000, T0 + 3_600_000).points.map(([at]) => (at - T0) / 60_000),
      [0, 5, 10],
    );
    assert.equal(t.h.series('temp-1', 'battery', T0, T0 + 3_600_000).points.length, 3);
    assert.equal(t.h.series('temp-1', 'status', T0, T0 + 3_600_000).points.length, 0);
  });

  it('survives a restart (it is in SQLite) and forgets what is older than its retention', () => {
    t.h.record(ev('temp-1', T0, { celsius: 18 }));
    t.h.record(ev('temp-1', T0 + 49 * 3_600_000, { celsius: 22 }));
    t.h.flush();
    t.db.close();
    const db = openDatabase(t.dir);
    const again = new LocalHistory(db, { retention: 48 * 3_600_000, minInterval: 10_000 }, memoryLogger());
    assert.equal(again.series('temp-1', 'celsius', 0, T0 + 50 * 3_600_000).points.length, 2);
    assert.equal(again.prune(T0 + 49 * 3_600_000), 1);
    assert.deepEqual(again.series('temp-1', 'celsius', 0, T0 + 50 * 3_600_000).points, [
      [T0 + 49 * 3_600_000, 22],
    ]);
    db.close();
  });

  it('hands a chart at most about 300 points, averaged, over a long window', () => {
    for (let i = 0; i < 3000; i++) t.h.record(ev('temp-1', T0 + i * 10_000, { celsius: i % 2 ? 20 : 22 }));
    t.h.flush();
    const s = t.h.series('temp-1', 'celsius', T0, T0 + 30_000_000);
    assert.ok(s.points.length <= 301 && s.points.length >= 250, `${s.points.length} points`);
    assert.ok(
      s.points.every(([, v]) => v === 21),
      'each bucket is the mean of its samples',
    );
    assert.ok(s.points.every(([at], i) => i === 0 || at > s.points[i - 1][0]));
  });
});
