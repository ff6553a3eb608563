import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatInstant, formatOffset, resolveStart } from './time.js';

describe('rule tests - times', () => {
  it('reads a start in the site zone, or with its own offset', () => {
    const paris = 'Europe/Paris';
    assert.equal(resolveStart('2026-11-24T14:00', paris), Date.parse('2026-11-24T13:00:00Z'));
    assert.equal(resolveStart('2026-07-14 14:00:30', paris), Date.parse('2026-07-14T12:00:30Z'));
    assert.equal(resolveStart('2026-11-24T14:00:00+01:00', 'UTC'), Date.parse('2026-11-24T13:00:00Z'));
    assert.equal(resolveStart('2026-11-24T13:00:00Z', paris), Date.parse('2026-11-24T13:00:00Z'));
    // 02:30 does not exist on the spring-forward night: as the on-call rotations read it, 03:30.
    assert.equal(resolveStart('2026-03-29T02:30', paris), Date.parse('2026-03-29T01:30:00Z'));
    for (const bad of ['2026-02-30T08:00', '2026-11-24T24:00', 'tomorrow', '2026-11-24', '1732453200000'])
      assert.equal(resolveStart(bad, paris), undefined, bad);
  });

  it('writes offsets as a test file does and instants in the site zone with their offset', () => {
    assert.equal(formatOffset(0), '+0s');
    assert.equal(formatOffset(90_000), '+1m30s');
    assert.equal(formatOffset(3_600_000 + 500), '+1h500ms');
    assert.equal(formatOffset(-5000), '-5s');
    assert.equal(
      formatInstant(Date.parse('2026-11-24T13:01:00Z'), 'Europe/Paris'),
      '2026-11-24 14:01:00 +01:00',
    );
    assert.equal(
      formatInstant(Date.parse('2026-07-14T12:00:00.250Z'), 'Europe/Paris'),
      '2026-07-14 14:00:00.250 +02:00',
    );
    assert.equal(
      formatInstant(Date.parse('2026-07-14T12:00:00Z'), 'America/St_Johns'),
      '2026-07-14 09:30:00 -02:30',
    );
  });
});
