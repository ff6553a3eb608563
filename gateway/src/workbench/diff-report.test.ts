import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration, offset, when } from './diff-report.js';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

test('offsets from the replay start: +HH:MM:SS, hours past a day for long recordings', () => {
  const cases: [number, string][] = [
    [0, '+00:00:00'],
    [12 * 60_000 + 30_000, '+00:12:30'],
    [12 * 60_000 + 30_999, '+00:12:30'],
    [7 * 86_400_000 - 1000, '+167:59:59'],
    [-5000, '-00:00:05'],
  ];
  for (const [ms, want] of cases) assert.equal(offset(T0 + ms, T0), want, String(ms));
});

test('durations a person reads at a glance: two units at most', () => {
  const cases: [number, string][] = [
    [30_000, '30 s'],
    [1_400, '1 s'],
    [125_000, '2 min 5 s'],
    [120_000, '2 min'],
    [3_780_000, '1 h 3 min'],
    [3_600_000 + 59_000, '1 h'],
    [2 * 86_400_000 + 4 * 3_600_000 + 30_000, '2 d 4 h'],
    [200, '0 s'],
  ];
  for (const [ms, want] of cases) assert.equal(duration(ms), want, String(ms));
});

test('when: the offset and the wall-clock time in the site zone; an unknown zone falls back to UTC', () => {
  const t = T0 + 90 * 60_000;
  assert.equal(when(t, T0), '+01:30:00 (2024-05-01 09:30:00 UTC)');
  assert.equal(when(t, T0, 'Europe/Paris'), '+01:30:00 (2024-05-01 11:30:00 Europe/Paris)');
  assert.equal(when(t, T0, 'Mars/Olympus'), '+01:30:00 (2024-05-01 09:30:00 UTC)');
  // Past midnight in the zone, the date moves too.
  assert.equal(
    when(Date.UTC(2024, 4, 1, 23, 30), T0, 'Europe/Paris'),
    '+15:30:00 (2024-05-02 01:30:00 Europe/Paris)',
  );
});
