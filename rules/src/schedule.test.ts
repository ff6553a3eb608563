import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSchedule, localTime } from './schedule.js';
import { ruleYaml, setup } from './test-support.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];
const utc = (iso: string) => Date.parse(`${iso}Z`);

describe('schedules', () => {
  const office = compileSchedule(
    { windows: [{ days: WEEKDAYS, from: '08:00', to: '18:00' }] },
    'Europe/Paris',
  );
  const night = compileSchedule({ windows: [{ days: ['fri'], from: '22:00', to: '06:00' }] }, 'Europe/Paris');
  const daily = compileSchedule(
    { windows: [{ days: [...WEEKDAYS, 'sat', 'sun'], from: '08:00', to: '18:00' }] },
    'Europe/Paris',
  );
  const tokyo = compileSchedule(
    { timezone: 'Asia/Tokyo', windows: [{ days: WEEKDAYS, from: '09:00', to: '17:00' }] },
    'Europe/Paris',
  );

  const CASES: [string, (t: number) => boolean, string, boolean][] = [
    // 2026-01-05 is a Monday; Paris is UTC+1 in winter.
    ['office, before opening', office, '2026-01-05T06:59:59', false],
    ['office, opening minute', office, '2026-01-05T07:00:00', true],
    ['office, last minute', office, '2026-01-05T16:59:59', true],
    ['office, closing minute is outside', office, '2026-01-05T17:00:00', false],
    ['office, Saturday', office, '2026-01-10T10:00:00', false],
    ['night window, Friday evening', night, '2026-01-09T22:30:00', true],
    ['night window, Saturday early morning (spans midnight)', night, '2026-01-10T04:59:00', true],
    ['night window, Saturday at 06:00 local', night, '2026-01-10T05:00:00', false],
    ['night window, Saturday evening (not a listed day)', night, '2026-01-10T22:30:00', false],
    ['night window, Friday early morning (Thursday not listed)', night, '2026-01-09T02:00:00', false],
    // DST: Paris moves to UTC+2 on 2026-03-29 at 02:00 local.
    ['DST, 06:30 UTC the day before = 07:30 local', daily, '2026-03-28T06:30:00', false],
    ['DST, 06:30 UTC the day of = 08:30 local', daily, '2026-03-29T06:30:00', true],
    ['DST, 16:30 UTC the day before = 17:30 local', daily, '2026-03-28T16:30:00', true],
    ['DST, 16:30 UTC the day of = 18:30 local', daily, '2026-03-29T16:30:00', false],
    // Back to UTC+1 on 2026-10-25.
    ['DST end, 07:30 UTC = 08:30 local', daily, '2026-10-25T07:30:00', true],
    ['DST end, 06:30 UTC the day before = 08:30 local', daily, '2026-10-24T06:30:00', true],
    ['DST end, 06:30 UTC the day of = 07:30 local', daily, '2026-10-25T06:30:00', false],
    ['explicit zone, 09:00 Tokyo = 00:00 UTC', tokyo, '2026-01-05T00:00:00', true],
    ['explicit zone, 17:00 Tokyo', tokyo, '2026-01-05T08:00:00', false],
  ];
  for (const [name, inside, iso, expected] of CASES) {
    it(`${name}: ${iso}Z -> ${expected ? 'inside' : 'outside'}`, () =>
      assert.equal(inside(utc(iso)), expected));
  }

  it('reads local day and minute in the zone', () => {
    assert.deepEqual(localTime(utc('2026-03-29T01:30:00'), 'Europe/Paris'), { day: 6, minute: 3 * 60 + 30 });
    assert.deepEqual(localTime(utc('2026-01-04T23:30:00'), 'Europe/Paris'), { day: 0, minute: 30 });
  });

  it('a door opened outside hours opens; inside hours it does not; checked at the event time', () => {
    const rule = ruleYaml(
      'after-hours',
      'devices: { kind: door }\nwhen:\n  all:\n    - state: { open: true }\n    - not: { schedule: office }',
    );
    const x = setup(rule);
    x.clock.t = utc('2026-01-05T07:30:00');
    assert.deepEqual(x.send('d1', { open: true }), []);
    x.clock.t = utc('2026-01-05T19:30:00');
    assert.deepEqual(x.wait(0), [], 'still open at closing time: not re-checked without an event');
    assert.deepEqual(x.send('d1', { open: false }), []);
    assert.deepEqual(x.send('d1', { open: true }, x.clock.t + 1), ['open:after-hours:d1']);
    assert.deepEqual(x.send('d1', { open: false }, x.clock.t + 2), ['clear:after-hours:d1']);
  });
});
