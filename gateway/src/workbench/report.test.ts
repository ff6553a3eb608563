import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReplayIncident, ReplayNotification, ReplayResult } from './model.js';
import { formatReplay, localTime, offset } from './report.js';

const T0 = Date.UTC(2026, 0, 6, 9, 0, 0);
const s = (n: number) => T0 + n * 1000;

const held: ReplayIncident = {
  id: 'inc_1',
  key: 'door-held-open/door-g12#1',
  ruleId: 'door-held-open',
  ruleName: 'Door held open',
  deviceId: 'door-g12',
  deviceName: 'Door G12',
  zone: 'gates-g',
  severity: 'major',
  reason: 'open = true for 30s',
  state: 'cleared',
  openedAt: s(35),
  triggerTs: s(35),
  clearedAt: s(90),
  escalations: [{ at: s(55), step: 1, repeat: false }],
};

function note(at: number, o: Partial<ReplayNotification>): ReplayNotification {
  return {
    at,
    incidentId: 'inc_1',
    incidentKey: held.key,
    ruleId: held.ruleId,
    deviceId: held.deviceId,
    severity: 'major',
    step: 0,
    channel: 'sms',
    channelType: 'sms',
    to: 'person:sec-amina',
    toName: 'Amina Diallo',
    outcome: 'sent',
    message: 'Porte G12...',
    ...o,
  };
}

const notifications = [
  note(s(35), {}),
  note(s(35), { channel: 'voice', channelType: 'voice' }),
  note(s(55), { step: 1, to: 'person:sec-claire', toName: 'Claire Moreau' }),
  note(s(60), {
    step: 1,
    outcome: 'cancelled',
    detail: 'cancelled: the incident is cleared',
    to: 'person:sec-claire',
    toName: 'Claire Moreau',
    channel: 'voice',
  }),
];

const result: ReplayResult = {
  site: 'airport',
  rules: ['door-held-open', 'aed-removed'],
  from: T0,
  to: s(3700),
  events: 1200,
  actions: 1,
  skipped: 3,
  problems: ['3 event(s) of 1 device(s) not in the site file skipped: door-zz'],
  incidents: [held],
  notifications,
  timeline: [
    {
      at: s(35),
      kind: 'opened',
      incidentKey: held.key,
      severity: 'major',
      text: 'door-held-open on door-g12 (Door G12): open = true for 30s',
    },
    {
      at: s(35),
      kind: 'notification',
      incidentKey: held.key,
      severity: 'major',
      text: 'sms to Amina Diallo (person:sec-amina), step 1',
    },
    {
      at: s(35),
      kind: 'notification',
      incidentKey: held.key,
      severity: 'major',
      text: 'voice to Amina Diallo (person:sec-amina), step 1',
    },
    {
      at: s(55),
      kind: 'escalated',
      incidentKey: held.key,
      severity: 'major',
      text: 'door-held-open on door-g12 (Door G12): step 1',
    },
    {
      at: s(55),
      kind: 'notification',
      incidentKey: held.key,
      severity: 'major',
      text: 'sms to Claire Moreau (person:sec-claire), step 1',
    },
    {
      at: s(60),
      kind: 'notification',
      incidentKey: held.key,
      severity: 'major',
      text: 'voice to Claire Moreau (person:sec-claire), step 1: cancelled: the incident is cleared',
    },
    {
      at: s(90),
      kind: 'cleared',
      incidentKey: held.key,
      severity: 'major',
      text: 'door-held-open on door-g12 (Door G12): condition no longer holds (open = false)',
    },
  ],
  wallMs: 4,
};

describe('workbench report - the printed replay', () => {
  const text = formatReplay(result, { timeZone: 'Europe/Paris' });
  const lines = text.split('\n');

  test('the header gives the span in the site time zone, the counts and the speed', () => {
    assert.equal(lines[0], 'Replay of site airport');
    assert.match(text, /span: +2026-01-06 10:00:00 -> 2026-01-06 11:01:40 \(Europe\/Paris\), 1h 1m 40s/);
    assert.match(text, /1200 event\(s\), 1 action\(s\), 3 skipped/);
    assert.match(text, /rules: +2 \(door-held-open, aed-removed\)/);
    assert.match(text, /4 ms \(300000 events\/s\); nothing was sent/);
    assert.match(text, /Problems\n {2}3 event\(s\) of 1 device\(s\) not in the site file skipped: door-zz/);
  });

  test('one line per change with its offset; notifications beneath it, later ones with their own time', () => {
    const start = lines.indexOf('Timeline');
    assert.deepEqual(lines.slice(start + 1, start + 8), [
      '  +00:00:35  opened      MAJOR    door-held-open on door-g12 (Door G12): open = true for 30s',
      '               -> sms to Amina Diallo (person:sec-amina), step 1',
      '               -> voice to Amina Diallo (person:sec-amina), step 1',
      '  +00:00:55  escalated   MAJOR    door-held-open on door-g12 (Door G12): step 1',
      '               -> sms to Claire Moreau (person:sec-claire), step 1',
      '               -> voice to Claire Moreau (person:sec-claire), step 1: cancelled: the incident is cleared (+00:01:00)',
      '  +00:01:30  cleared     MAJOR    door-held-open on door-g12 (Door G12): condition no longer holds (open = false)',
    ]);
  });

  test('the summary counts incidents per rule and severity, notifications per person and channel', () => {
    const start = lines.indexOf('Summary');
    assert.deepEqual(lines.slice(start + 1, start + 6), [
      '  incidents: 1',
      '    door-held-open (major)  1',
      '  notifications: 4 (3 sent, 0 suppressed, 1 cancelled, 0 failed)',
      '    Amina Diallo (person:sec-amina)    sms 1, voice 1',
      '    Claire Moreau (person:sec-claire)  sms 1; 1 not sent',
    ]);
  });

  test('the same result prints the same text', () => {
    assert.equal(formatReplay(structuredClone(result), { timeZone: 'Europe/Paris' }), text);
  });

  test('an empty replay says so', () => {
    const empty = formatReplay({ ...result, incidents: [], notifications: [], timeline: [], problems: [] });
    assert.match(empty, /Timeline\n {2}\(no incident\)\n/);
    assert.match(empty, /span: +2026-01-06 09:00:00 -> .* \(UTC\)/);
  });

  test('offsets count hours past a day; local times follow the zone', () => {
    assert.equal(offset(7 * 86_400_000 + 61_000), '+168:01:01');
    assert.equal(offset(-5), '+00:00:00');
    assert.equal(localTime(Date.UTC(2026, 6, 1, 22, 30), 'Europe/Paris'), '2026-07-02 00:30:00');
  });
});
