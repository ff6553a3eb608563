import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OnCallOverride, OnCallSchedule } from '../site/model.js';
import { inQuietHours, instantOf, nextHandover, onCallAt } from './oncall.js';

const H = 3_600_000;
const D = 24 * H;
/** An instant from UTC fields (month 1-12), to write expected hand-overs explicitly. */
const utc = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);

function schedule(
  members: string[],
  everyMs: number,
  start: string,
  overrides: OnCallOverride[] = [],
): OnCallSchedule {
  return { id: 'night', timezone: 'Europe/Paris', rotation: { members, everyMs, start }, overrides };
}

test('oncall - a weekly rotation hands over at the start time each week, in turn, and nobody before it', () => {
  // 08:00 in Paris in November is 07:00 UTC.
  const s = schedule(['amina', 'claire', 'bob'], 7 * D, '2026-11-02T08:00');
  assert.equal(onCallAt(s, utc(2026, 11, 2, 6, 59)), undefined);
  assert.equal(onCallAt(s, utc(2026, 11, 2, 7)), 'amina');
  assert.equal(onCallAt(s, utc(2026, 11, 9, 6, 59)), 'amina');
  assert.equal(onCallAt(s, utc(2026, 11, 9, 7)), 'claire');
  assert.equal(onCallAt(s, utc(2026, 11, 16, 7)), 'bob');
  assert.equal(onCallAt(s, utc(2026, 11, 23, 7)), 'amina');
  assert.equal(onCallAt(s, utc(2027, 2, 22, 7)), 'claire', '16 weeks later');
  assert.equal(nextHandover(s, utc(2026, 10, 1, 0)), utc(2026, 11, 2, 7), 'before the start: the start');
  assert.equal(nextHandover(s, utc(2026, 11, 4, 12)), utc(2026, 11, 9, 7));
});

test('oncall - a daily hand-over stays at 08:00 local across the spring change (2026-03-29, Paris)', () => {
  const s = schedule(['amina', 'bob'], D, '2026-03-27T08:00');
  // 03-28 08:00 CET = 07:00Z; 03-29 and later 08:00 CEST = 06:00Z (24 h later would be 09:00 local).
  assert.equal(onCallAt(s, utc(2026, 3, 28, 6, 59)), 'amina');
  assert.equal(onCallAt(s, utc(2026, 3, 28, 7)), 'bob');
  assert.equal(onCallAt(s, utc(2026, 3, 29, 5, 59)), 'bob');
  assert.equal(onCallAt(s, utc(2026, 3, 29, 6)), 'amina');
  assert.equal(onCallAt(s, utc(2026, 3, 30, 6)), 'bob');
  assert.equal(nextHandover(s, utc(2026, 3, 28, 12)), utc(2026, 3, 29, 6));
  assert.equal(utc(2026, 3, 29, 6) - utc(2026, 3, 28, 7), 23 * H, 'that calendar day is 23 h long');
});

test('oncall - hand-overs stay at local time across the autumn change (2026-10-25, Paris)', () => {
  const weekly = schedule(['amina', 'bob'], 7 * D, '2026-10-19T08:00');
  // 10-19 08:00 CEST = 06:00Z; 10-26 08:00 CET = 07:00Z.
  assert.equal(onCallAt(weekly, utc(2026, 10, 19, 6)), 'amina');
  assert.equal(onCallAt(weekly, utc(2026, 10, 26, 6, 30)), 'amina', '07:30 local: not yet');
  assert.equal(onCallAt(weekly, utc(2026, 10, 26, 7)), 'bob');
  // 12 h turns at 08:00 and 20:00 local: the night turn over the change lasts 13 h.
  const halfDays = schedule(['day', 'night'], 12 * H, '2026-10-24T08:00');
  assert.equal(onCallAt(halfDays, utc(2026, 10, 24, 18)), 'night', '20:00 CEST');
  assert.equal(onCallAt(halfDays, utc(2026, 10, 25, 6, 59)), 'night', '07:59 CET');
  assert.equal(onCallAt(halfDays, utc(2026, 10, 25, 7)), 'day', '08:00 CET');
  assert.equal(nextHandover(halfDays, utc(2026, 10, 24, 18)), utc(2026, 10, 25, 7));
});

test('oncall - a local time skipped or repeated by a clock change maps to one instant', () => {
  // 02:30 does not exist on 2026-03-29 in Paris: it becomes 03:30 CEST (01:30Z).
  assert.equal(instantOf(utc(2026, 3, 29, 2, 30), 'Europe/Paris'), utc(2026, 3, 29, 1, 30));
  // 02:30 happens twice on 2026-10-25: the first (CEST, 00:30Z).
  assert.equal(instantOf(utc(2026, 10, 25, 2, 30), 'Europe/Paris'), utc(2026, 10, 25, 0, 30));
  const s = schedule(['amina'], D, '2026-03-29T02:30');
  assert.equal(onCallAt(s, utc(2026, 3, 29, 1, 29)), undefined);
  assert.equal(onCallAt(s, utc(2026, 3, 29, 1, 30)), 'amina');
});

test('oncall - an override wins while active, the last listed wins, and it ends at its end', () => {
  const s = schedule(['amina', 'claire'], 7 * D, '2026-11-02T08:00', [
    { person: 'luc', from: '2026-11-24T20:00', to: '2026-11-25T08:00' },
    { person: 'nora', from: '2026-11-25T06:00', to: '2026-11-25T10:00' },
    { person: 'luc', from: '2026-10-31T20:00', to: '2026-11-01T08:00' },
  ]);
  // CET: local = UTC + 1 h. Week of 11-23: claire.
  assert.equal(onCallAt(s, utc(2026, 11, 24, 18, 59)), 'claire');
  assert.equal(onCallAt(s, utc(2026, 11, 24, 19)), 'luc');
  assert.equal(onCallAt(s, utc(2026, 11, 25, 4, 59)), 'luc');
  assert.equal(onCallAt(s, utc(2026, 11, 25, 5)), 'nora', 'overlap: the later override wins');
  assert.equal(onCallAt(s, utc(2026, 11, 25, 9)), 'claire', 'after both: back to the rotation');
  assert.equal(onCallAt(s, utc(2026, 10, 31, 20)), 'luc', 'an override before the rotation starts');
  assert.equal(nextHandover(s, utc(2026, 11, 24, 12)), utc(2026, 11, 24, 19));
  assert.equal(nextHandover(s, utc(2026, 11, 24, 20)), utc(2026, 11, 25, 5));
  assert.equal(nextHandover(s, utc(2026, 11, 25, 6)), utc(2026, 11, 25, 9));
});

test('oncall - nextHandover is undefined when the person on call never changes', () => {
  const s = schedule(['amina', 'amina'], D, '2026-11-02T08:00');
  assert.equal(nextHandover(s, utc(2026, 12, 1, 0)), undefined);
  assert.equal(nextHandover(s, utc(2026, 11, 1, 0)), utc(2026, 11, 2, 7));
});

test('oncall - quiet hours across midnight, in the person zone or else the site zone', () => {
  const night = { from: '22:00', to: '07:00' };
  // Paris in January is UTC + 1 h.
  assert.equal(inQuietHours(night, 'Europe/Paris', utc(2026, 1, 10, 20, 59)), false, '21:59');
  assert.equal(inQuietHours(night, 'Europe/Paris', utc(2026, 1, 10, 21)), true, '22:00');
  assert.equal(inQuietHours(night, 'Europe/Paris', utc(2026, 1, 10, 23)), true, 'midnight');
  assert.equal(inQuietHours(night, 'Europe/Paris', utc(2026, 1, 11, 5, 59)), true, '06:59');
  assert.equal(inQuietHours(night, 'Europe/Paris', utc(2026, 1, 11, 6)), false, '07:00');
  assert.equal(inQuietHours(night, 'UTC', utc(2026, 1, 10, 21, 30)), false, 'site zone used');
  const lunch = { from: '12:00', to: '14:00', timezone: 'America/New_York' };
  assert.equal(inQuietHours(lunch, 'Europe/Paris', utc(2026, 1, 10, 17)), true, '12:00 in New York');
  assert.equal(inQuietHours(lunch, 'Europe/Paris', utc(2026, 1, 10, 12)), false, '12:00 in Paris');
});
