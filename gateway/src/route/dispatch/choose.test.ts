import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Technician } from '../../site/model.js';
import { chooseCandidates, onShift, type Exclusion, type TechnicianStatus } from './choose.js';
import { PROFILE, TECHNICIANS } from './testing.js';

const JOB = { lat: 49.0033, lon: 2.5703 };
const TZ = 'Europe/Paris';
/** Thursday 15 January 2026, 09:00 in Paris (UTC+1). */
const THU_0900 = Date.UTC(2026, 0, 15, 8, 0);
const paris = (day: number, hh: number, mm = 0) => Date.UTC(2026, 0, day, hh - 1, mm);

interface Case {
  name: string;
  skills?: string[];
  area?: string;
  location?: { lat: number; lon: number } | null;
  now?: number;
  status?: Record<string, Partial<TechnicianStatus>>;
  tried?: string[];
  travelMinutes?: Record<string, Record<string, number>>;
  technicians?: Technician[];
  want: string[];
  excluded?: Record<string, Exclusion>;
}

test('choose - candidates by skill, shift, status and travel time, nearest first', () => {
  const cases: Case[] = [
    { name: 'no skill needed: everybody, nearest first', want: ['tech-hugo', 'tech-lea', 'tech-marc'] },
    {
      name: 'skills: only plumbers',
      skills: ['plumbing'],
      want: ['tech-hugo', 'tech-marc'],
      excluded: { 'tech-lea': 'skill' },
    },
    { name: 'every skill listed is needed', skills: ['plumbing', 'coffee-machines'], want: ['tech-hugo'] },
    { name: 'a skill nobody has', skills: ['welding'], want: [] },
    {
      name: 'busy with another job',
      status: { 'tech-hugo': { busy: true } },
      want: ['tech-lea', 'tech-marc'],
      excluded: { 'tech-hugo': 'busy' },
    },
    {
      name: 'made unavailable',
      status: { 'tech-lea': { available: false } },
      want: ['tech-hugo', 'tech-marc'],
      excluded: { 'tech-lea': 'unavailable' },
    },
    {
      name: 'already offered this job (declined or let it expire)',
      tried: ['tech-hugo', 'tech-lea'],
      want: ['tech-marc'],
      excluded: { 'tech-hugo': 'tried', 'tech-lea': 'tried' },
    },
    {
      name: 'a reported position beats the base',
      status: { 'tech-marc': { position: { lat: 49.004, lon: 2.571 } } },
      want: ['tech-marc', 'tech-hugo', 'tech-lea'],
    },
    {
      name: "configured travel times for the customer's area beat the distance",
      area: 'roissy-north',
      travelMinutes: { 'roissy-north': { 'tech-marc': 3, 'tech-lea': 60 } },
      want: ['tech-marc', 'tech-hugo', 'tech-lea'],
    },
    {
      name: 'configured times of another area do not apply',
      area: 'paris-south',
      travelMinutes: { 'roissy-north': { 'tech-marc': 3 } },
      want: ['tech-hugo', 'tech-lea', 'tech-marc'],
    },
    {
      name: 'no location: configured times first, then by id',
      location: null,
      area: 'roissy-north',
      travelMinutes: { 'roissy-north': { 'tech-lea': 30 } },
      want: ['tech-lea', 'tech-hugo', 'tech-marc'],
    },
    {
      name: 'same travel time: by id',
      technicians: [
        { id: 'b', name: 'B', phone: '+331', skills: ['x'], base: { lat: 49, lon: 2.5 } },
        { id: 'a', name: 'A', phone: '+332', skills: ['x'], base: { lat: 49, lon: 2.5 } },
      ],
      want: ['a', 'b'],
    },
    // Marc works Monday to Friday, 07:00 to 19:00, site time (Paris).
    {
      name: 'Thursday 18:59: on shift',
      now: paris(15, 18, 59),
      want: ['tech-hugo', 'tech-lea', 'tech-marc'],
    },
    {
      name: 'Thursday 19:00: the shift has ended',
      now: paris(15, 19, 0),
      want: ['tech-hugo', 'tech-lea'],
      excluded: { 'tech-marc': 'shift' },
    },
    { name: 'Friday 06:59: not yet', now: paris(16, 6, 59), want: ['tech-hugo', 'tech-lea'] },
    { name: 'Friday 07:00: started', now: paris(16, 7, 0), want: ['tech-hugo', 'tech-lea', 'tech-marc'] },
    { name: 'Saturday 10:00: not a work day', now: paris(17, 10, 0), want: ['tech-hugo', 'tech-lea'] },
  ];
  for (const c of cases) {
    const status = (id: string): TechnicianStatus => ({ available: true, busy: false, ...c.status?.[id] });
    const location = c.location === null ? undefined : (c.location ?? JOB);
    const choice = chooseCandidates({
      need: {
        skills: c.skills ?? [],
        ...(location ? { location } : {}),
        ...(c.area ? { area: c.area } : {}),
      },
      technicians: c.technicians ?? TECHNICIANS,
      status,
      profile: { ...PROFILE, travelMinutes: c.travelMinutes ?? {} },
      timezone: TZ,
      now: c.now ?? THU_0900,
      tried: new Set(c.tried ?? []),
    });
    assert.deepEqual(
      choice.ranked.map((r) => r.technician.id),
      c.want,
      c.name,
    );
    for (const [id, why] of Object.entries(c.excluded ?? {}))
      assert.deepEqual(choice.excluded.find((e) => e.id === id)?.why, why, `${c.name}: ${id}`);
  }
});

test('choose - the nearest carries its distance and estimated minutes', () => {
  const { ranked } = chooseCandidates({
    need: { skills: [], location: JOB },
    technicians: TECHNICIANS,
    status: () => ({ available: true, busy: false }),
    profile: PROFILE,
    timezone: TZ,
    now: THU_0900,
    tried: new Set(),
  });
  const hugo = ranked[0];
  assert.equal(hugo.technician.id, 'tech-hugo');
  assert.ok(hugo.km! > 1.5 && hugo.km! < 2.5, `Hugo is about 2 km away: ${hugo.km}`);
  assert.ok(Math.abs(hugo.minutes! - (hugo.km! / 40) * 60 * 1.3) < 1e-9);
  assert.equal(hugo.configured, false);
});

test('choose - shifts are read in their own zone, across midnight and clock changes', () => {
  const night: Technician = {
    id: 'n',
    name: 'N',
    phone: '+33',
    skills: [],
    base: { lat: 0, lon: 0 },
    shift: { days: ['thu'], from: '22:00', to: '06:00' },
  };
  const ny: Technician = {
    ...night,
    shift: { days: ['thu'], from: '09:00', to: '17:00', timezone: 'America/New_York' },
  };
  const cases: Array<[string, Technician, number, boolean]> = [
    ['night shift, Thursday 21:59', night, paris(15, 21, 59), false],
    ['night shift, Thursday 22:00', night, paris(15, 22, 0), true],
    ['night shift goes on into Friday 05:59', night, paris(16, 5, 59), true],
    ['night shift over at Friday 06:00', night, paris(16, 6, 0), false],
    ['night shift: Wednesday night is not Thursday', night, paris(14, 23, 0), false],
    // 09:00 in New York in January is 14:00 UTC.
    ['New York shift, 08:59 there', ny, Date.UTC(2026, 0, 15, 13, 59), false],
    ['New York shift, 09:00 there', ny, Date.UTC(2026, 0, 15, 14, 0), true],
    // Summer time in Paris (UTC+2): Thursday 16 July 2026, 07:00 is 05:00 UTC.
    ['summer: 06:59 in Paris', TECHNICIANS[2], Date.UTC(2026, 6, 16, 4, 59), false],
    ['summer: 07:00 in Paris', TECHNICIANS[2], Date.UTC(2026, 6, 16, 5, 0), true],
    ['no shift: always on duty', TECHNICIANS[0], paris(17, 3, 0), true],
  ];
  for (const [name, t, at, want] of cases) assert.equal(onShift(t, at, TZ), want, name);
});
