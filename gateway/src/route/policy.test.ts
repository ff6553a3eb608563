import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSite } from '../site/load.js';
import type { Site } from '../site/model.js';
import { failoverChannel, policyPlan, resolveStep } from './policy.js';

const SITE = `
site: mall
timezone: Europe/Paris
people:
  - id: amina
    name: Amina
    channels: { critical: [voice, sms], warning: [sms, email], default: [email] }
    quietHours: { from: '22:00', to: '07:00' }
  - id: bob
    name: Bob
    channels: { critical: [voice], warning: [] }
  - { id: claire, name: Claire, channels: { default: [sms] }, quietHours: { from: '22:00', to: '07:00' } }
  - { id: sup, name: Supervisor, channels: { default: [voice] } }
  - { id: nochan, name: No channels }
teams:
  - { id: security, name: Security, members: [amina, bob] }
oncall:
  night:
    rotation: { members: [claire], every: 1w, start: '2026-11-02T08:00' }
policies:
  door:
    tiers:
      - { notify: [security, oncall:night], mode: sequential, every: 2m, wait: 5m }
      - { notify: [person:sup, team:security], via: [voice], wait: 10m }
    repeat: 2
  once:
    tiers:
      - notify: [sup]
`;

function site(): Site {
  const { site: s, problems } = parseSite('site.yaml', SITE);
  assert.deepEqual(problems, []);
  return s!;
}

const MIN = 60_000;
/** Paris in winter is UTC + 1 h. */
const paris = (d: number, h: number, mi = 0) => Date.UTC(2026, 10, d, h - 1, mi);

test('policy - a sequential tier is one step per person, every apart; the tier wait leads to the next tier', () => {
  const s = site();
  const plan = policyPlan(s.policies.door, s);
  assert.deepEqual(plan.steps, [
    { afterMs: 0, notify: ['person:amina'], via: [] },
    { afterMs: 2 * MIN, notify: ['person:bob'], via: [] },
    { afterMs: 2 * MIN, notify: ['oncall:night'], via: [] },
    { afterMs: 5 * MIN, notify: ['person:sup', 'team:security'], via: ['voice'] },
  ]);
  assert.deepEqual(plan.repeat, { times: 2, everyMs: 10 * MIN, fromStep: 0 });
  assert.deepEqual(policyPlan(s.policies.once, s), {
    steps: [{ afterMs: 0, notify: ['person:sup'], via: [] }],
  });
});

test('policy - a sequential tier names each person once, even through two teams', () => {
  const s = site();
  const policy = {
    id: 'p',
    tiers: [
      {
        notify: ['team:security', 'person:bob', 'person:sup'],
        via: [],
        mode: 'sequential' as const,
        everyMs: MIN,
      },
    ],
  };
  assert.deepEqual(
    policyPlan(policy, s).steps.map((st) => [st.afterMs, ...st.notify]),
    [
      [0, 'person:amina'],
      [MIN, 'person:bob'],
      [MIN, 'person:sup'],
    ],
  );
});

test('policy - resolveStep uses preferences, skips quiet hours except for critical and the one on call', () => {
  const s = site();
  const step = { afterMs: 0, notify: ['team:security', 'amina', 'oncall:night', 'sup'], via: [] };
  const names = (r: ReturnType<typeof resolveStep>) => ({
    deliveries: r.deliveries.map((d) => [d.person.id, ...d.channels]),
    skipped: r.skipped.map((k) => [k.person, k.reason]),
  });
  // 23:00 local: amina and claire are in quiet hours; claire is on call.
  assert.deepEqual(names(resolveStep(s, step, 'warning', paris(10, 23))), {
    deliveries: [
      ['claire', 'sms'],
      ['sup', 'voice'],
    ],
    skipped: [
      ['amina', 'quiet hours'],
      ['bob', 'no channel for this severity'],
    ],
  });
  assert.deepEqual(names(resolveStep(s, step, 'critical', paris(10, 23))), {
    deliveries: [
      ['amina', 'voice', 'sms'],
      ['bob', 'voice'],
      ['claire', 'sms'],
      ['sup', 'voice'],
    ],
    skipped: [],
  });
  // Midday, major: amina falls back to default, bob has nothing for major.
  assert.deepEqual(names(resolveStep(s, step, 'major', paris(10, 12))).deliveries, [
    ['amina', 'email'],
    ['claire', 'sms'],
    ['sup', 'voice'],
  ]);
});

test('policy - resolveStep: a step via wins over preferences; nobody on call and unknown names are skipped', () => {
  const s = site();
  const r = resolveStep(
    s,
    { afterMs: 0, notify: ['oncall:night', 'person:nochan', 'ghost'], via: ['console'] },
    'minor',
    paris(1, 12),
  );
  assert.deepEqual(
    r.deliveries.map((d) => [d.person.id, ...d.channels]),
    [['nochan', 'console']],
  );
  assert.deepEqual(r.skipped, [
    { person: 'oncall:night', reason: 'nobody on call' },
    { person: 'ghost', reason: 'no person, team or on-call schedule by this name' },
  ]);
  const quiet = resolveStep(s, { afterMs: 0, notify: ['amina'], via: ['console'] }, 'minor', paris(10, 23));
  assert.deepEqual(quiet.skipped, [{ person: 'amina', reason: 'quiet hours' }]);
});

test('policy - failoverChannel gives the next preferred channel not tried yet', () => {
  const amina = site().people[0];
  assert.equal(failoverChannel(amina, 'critical', []), 'voice');
  assert.equal(failoverChannel(amina, 'critical', ['voice']), 'sms');
  assert.equal(failoverChannel(amina, 'critical', ['voice', 'sms']), undefined);
  assert.equal(failoverChannel(amina, 'minor', ['sms']), 'email', 'default list');
  assert.equal(failoverChannel(site().people[4], 'critical', []), undefined, 'no channels at all');
});
