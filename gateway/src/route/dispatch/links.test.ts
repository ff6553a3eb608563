import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../store/db.js';
import { LinkSigner, linkSigner } from './links.js';

const NOW = Date.UTC(2026, 0, 15, 8, 0, 0);
const DAY = 86_400_000;

test('links - a signed link verifies until it expires, for its own purpose only', () => {
  const s = new LinkSigner('k'.repeat(32), 7 * DAY);
  const token = s.sign('job', 'off_0mkf1a2b3c4d5e6', NOW);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$/, 'URL-safe, no padding');
  assert.ok(token.length <= 60, `short enough for an SMS: ${token.length}`);
  const ok = s.verify('job', token, NOW + 7 * DAY - 1000);
  assert.deepEqual(ok, { ok: true, id: 'off_0mkf1a2b3c4d5e6', expiresAt: NOW + 7 * DAY });
  assert.deepEqual(s.verify('job', token, NOW + 7 * DAY), { ok: false, reason: 'expired' });
  assert.deepEqual(
    s.verify('survey', token, NOW),
    { ok: false, reason: 'signature' },
    'a job link is no survey link',
  );
});

test('links - a tampered token, or one signed with another key, is refused', () => {
  const s = new LinkSigner('k'.repeat(32), DAY);
  const token = s.sign('job', 'off_1', NOW);
  const [body, sig] = token.split('.');
  // The id and the expiry are in the signed part: changing either breaks the signature.
  const forged = Buffer.from(`off_2.${Math.ceil((NOW + 365 * DAY) / 1000).toString(36)}`).toString(
    'base64url',
  );
  const longer = Buffer.from(`off_1.${Math.ceil((NOW + 365 * DAY) / 1000).toString(36)}`).toString(
    'base64url',
  );
  const flipped = sig.slice(0, -1) + (sig.at(-1) === 'A' ? 'B' : 'A');
  const cases: Array<[string, string]> = [
    [`${forged}.${sig}`, 'signature'],
    [`${longer}.${sig}`, 'signature'],
    [`${body}.${flipped}`, 'signature'],
    [`${body}.${sig}A`, 'malformed'],
    [`${body}.${sig.slice(1)}`, 'malformed'],
    [body, 'malformed'],
    ['', 'malformed'],
    [`.${sig}`, 'malformed'],
    ['a'.repeat(300), 'malformed'],
    [new LinkSigner('other-key', DAY).sign('job', 'off_1', NOW), 'signature'],
  ];
  for (const [t, reason] of cases) assert.deepEqual(s.verify('job', t, NOW), { ok: false, reason }, t);
  assert.throws(() => s.sign('job', 'bad id/with slash', NOW));
});

test('links - the key is kept in the database: links survive a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-links-'));
  try {
    let db = openDatabase(dir);
    const token = linkSigner(db, DAY).sign('survey', 'job_1', NOW);
    db.close();
    db = openDatabase(dir);
    assert.equal(linkSigner(db, DAY).verify('survey', token, NOW).ok, true);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
