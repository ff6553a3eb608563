import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { createProbes } from './probes.js';

const dir = mkdtempSync(join(tmpdir(), 'vigie-probes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('watch probes', () => {
  it('reads the real free space of the data directory and the readings the gateway passes', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const s = await createProbes({
      dataDir: dir,
      clock,
      store: () => {},
      broker: () => true,
      uplink: () => false,
      hardware: () => [{ name: 'gpio', ok: false, detail: 'no GPIO chip' }],
    }).sample();
    assert.equal(s.at, 1_700_000_000_000);
    assert.ok(s.disk && s.disk.totalBytes > 0 && s.disk.freeBytes <= s.disk.totalBytes);
    assert.equal(s.storeOk, true);
    assert.equal(s.brokerConnected, true);
    assert.equal(s.uplinkConnected, false);
    assert.deepEqual(s.hardware, [{ name: 'gpio', ok: false, detail: 'no GPIO chip' }]);
    assert.equal(typeof s.mono, 'number');
  });

  it('failures become readings: a missing directory, a store that throws, one that hangs, a throwing probe', async () => {
    const base = { clock: new ManualClock(0), broker: () => true };
    const thrown = await createProbes({
      ...base,
      dataDir: join(dir, 'missing'),
      store: () => {
        throw new Error('SQLITE_FULL: database or disk is full');
      },
      hardware: () => {
        throw new Error('boom');
      },
    }).sample();
    assert.equal(thrown.disk, undefined);
    assert.match(thrown.diskError ?? '', /ENOENT/);
    assert.equal(thrown.storeOk, false);
    assert.equal(thrown.storeError, 'SQLITE_FULL: database or disk is full');
    assert.deepEqual(thrown.hardware, []);
    assert.equal(thrown.uplinkConnected, undefined, 'no uplink configured');
    const hung = await createProbes({
      ...base,
      dataDir: dir,
      store: () => new Promise(() => {}),
      storeTimeoutMs: 30,
    }).sample();
    assert.equal(hung.storeOk, false);
    assert.equal(hung.storeError, 'no answer in 30 ms');
    assert.ok((hung.storeMs ?? 0) >= 25);
  });
});
