import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplayIncident, ReplayNotification, ReplayResult } from '../model.js';
import { matchExpectations, type MatchClock } from './match.js';
import { formatFailure } from './output.js';
import type { Expectations } from './spec.js';

// Tuesday 24 November 2026, 14:00 in Paris (UTC+1).
const START = Date.parse('2026-11-24T13:00:00Z');
const clock: MatchClock = { start: START, end: START + 600_000, timeZone: 'Europe/Paris' };
const s = (n: number) => START + n * 1000;

function incident(
  p: Partial<ReplayIncident> & { ruleId: string; deviceId: string; openedAt: number },
): ReplayIncident {
  return {
    id: `inc-${p.ruleId}-${p.openedAt}`,
    key: `${p.ruleId}/${p.deviceId}#1`,
    ruleName: p.ruleId,
    deviceName: p.deviceId,
    zone: 'hall-b',
    severity: 'major',
    reason: 'open = true for 30s',
    state: 'open',
    triggerTs: p.openedAt,
    escalations: [],
    ...p,
  };
}

function note(
  p: Partial<ReplayNotification> & { at: number; to: string; channel: string },
): ReplayNotification {
  return {
    incidentId: 'inc-1',
    incidentKey: 'door-held-open/door-b12#1',
    ruleId: 'door-held-open',
    deviceId: 'door-b12',
    severity: 'major',
    step: 0,
    channelType: p.channel,
    toName: p.to,
    outcome: 'sent',
    message: 'Door B12 open for 30 s',
    ...p,
  };
}

function result(incidents: ReplayIncident[], notifications: ReplayNotification[] = []): ReplayResult {
  return {
    site: 'airport',
    rules: ['door-held-open'],
    from: START,
    to: clock.end,
    events: 2,
    actions: 0,
    skipped: 0,
    problems: [],
    incidents,
    notifications,
    timeline: [],
    wallMs: 1,
  };
}

const held = incident({
  ruleId: 'door-held-open',
  deviceId: 'door-b12',
  openedAt: s(30),
  clearedAt: s(45),
  state: 'cleared',
});
const sent = [
  note({ at: s(30), to: 'person:sec-amina', channel: 'voice' }),
  note({ at: s(30), to: 'person:sec-amina', channel: 'sms', message: 'Porte Door B12 ouverte' }),
  note({ at: s(50), to: 'person:sec-claire', channel: 'voice', step: 1 }),
  note({ at: s(55), to: 'person:sec-lucas', channel: 'sms', outcome: 'suppressed', detail: 'rate limit' }),
];

/** What `vigie test-rules` prints for these expectations against this result. */
function failures(expect: Omit<Expectations, 'line'>, r: ReplayResult): string[] {
  return matchExpectations({ line: 1, ...expect }, r, clock).flatMap((f) => formatFailure(f, 't.yaml'));
}

describe('rule tests - matching expectations against a replay', () => {
  it('passes when every expected incident and notification is there', () => {
    const out = failures(
      {
        incidents: [
          {
            line: 12,
            rule: 'door-held-open',
            device: 'door-b12',
            severity: 'major',
            opened: { from: 30_000, to: 30_000 },
            cleared: { from: 45_000, to: 45_000 },
          },
        ],
        notifications: [
          { line: 14, to: 'sec-amina', channel: 'voice', at: { from: 30_000, to: 30_000 }, step: 1 },
          { line: 15, to: 'person:sec-amina', channel: 'sms', message: 'Porte' },
          { line: 16, to: 'sec-claire', step: 2, count: 1 },
          { line: 17, to: 'sec-lucas', count: 0 },
          { line: 18, to: 'sec-lucas', outcome: 'suppressed' },
          { line: 19, channel: 'voice', at: { from: 40_000, to: 60_000 } },
        ],
      },
      result([held], sent),
    );
    assert.deepEqual(out, []);
  });

  it('shows a late opening as expected vs got, with the offset and the wall-clock time', () => {
    const late = { ...held, openedAt: s(60), clearedAt: undefined, state: 'open' as const };
    assert.deepEqual(
      failures(
        {
          incidents: [
            {
              line: 12,
              rule: 'door-held-open',
              device: 'door-b12',
              opened: { from: 30_000, to: 30_000 },
              cleared: { from: 45_000, to: 45_000 },
            },
          ],
        },
        result([late]),
      ),
      [
        '  incident door-held-open on door-b12 (t.yaml:12)',
        '    expected: opened at +30s (2026-11-24 14:00:30 +01:00)',
        '    got:      opened at +1m (2026-11-24 14:01:00 +01:00)',
        '    expected: cleared at +45s (2026-11-24 14:00:45 +01:00)',
        '    got:      not cleared: open when the clock stopped, at +10m (2026-11-24 14:10:00 +01:00)',
      ],
    );
  });

  it('names the incidents nobody expected, and the expected ones that did not happen', () => {
    const forced = incident({
      ruleId: 'door-forced',
      deviceId: 'door-b12',
      openedAt: s(0),
      reason: 'opened without an allowed badge',
    });
    assert.deepEqual(
      failures(
        {
          incidents: [
            { line: 12, rule: 'door-held-open', device: 'door-b12' },
            { line: 13, rule: 'door-held-open', device: 'door-b12', opened: { from: 300_000, to: 360_000 } },
          ],
        },
        result([held, forced]),
      ),
      [
        '  incident door-held-open on door-b12 (t.yaml:13)',
        '    expected: incident #2, opened between +5m and +6m (2026-11-24 14:06:00 +01:00)',
        '    got:      1 incident of door-held-open on door-b12',
        '  unexpected incident door-forced on door-b12 (major) opened at +0s (2026-11-24 14:00:00 +01:00): opened without an allowed badge',
      ],
    );
    assert.deepEqual(failures({ incidents: [] }, result([])), []);
    assert.deepEqual(failures({ incidents: [] }, result([held])), [
      '  unexpected incident door-held-open on door-b12 (major) opened at +30s (2026-11-24 14:00:30 +01:00): open = true for 30s',
    ]);
  });

  it('pairs the n-th expectation of a rule and device with its n-th incident, in opening order', () => {
    const second = incident({ ruleId: 'door-held-open', deviceId: 'door-b12', openedAt: s(300) });
    const expect = {
      incidents: [
        { line: 12, rule: 'door-held-open', device: 'door-b12', opened: { from: 30_000, to: 30_000 } },
        {
          line: 13,
          rule: 'door-held-open',
          device: 'door-b12',
          opened: { from: 300_000, to: 300_000 },
          cleared: 'never' as const,
        },
      ],
    };
    assert.deepEqual(failures(expect, result([second, held])), []);
    assert.deepEqual(failures(expect, result([{ ...second, clearedAt: s(320) }, held])), [
      '  incident door-held-open on door-b12 (t.yaml:13)',
      '    expected: never cleared',
      '    got:      cleared at +5m20s (2026-11-24 14:05:20 +01:00)',
    ]);
  });

  it('compares severity, state, reason, acknowledgement and flap damping', () => {
    const acked = {
      ...held,
      severity: 'minor' as const,
      acknowledgedAt: s(40),
      state: 'acknowledged' as const,
    };
    assert.deepEqual(
      failures(
        {
          incidents: [
            {
              line: 12,
              rule: 'door-held-open',
              device: 'door-b12',
              severity: 'major',
              acknowledged: 'never',
              resolved: { from: 60_000, to: 60_000 },
              state: 'resolved',
              reason: 'for 45s',
              damped: true,
            },
          ],
        },
        result([acked]),
      ),
      [
        '  incident door-held-open on door-b12 (t.yaml:12)',
        '    expected: severity major',
        '    got:      severity minor',
        '    expected: never acknowledged',
        '    got:      acknowledged at +40s (2026-11-24 14:00:40 +01:00)',
        '    expected: resolved at +1m (2026-11-24 14:01:00 +01:00)',
        '    got:      not resolved: acknowledged when the clock stopped, at +10m (2026-11-24 14:10:00 +01:00)',
        '    expected: resolved when the clock stopped',
        '    got:      acknowledged',
        '    expected: reason containing "for 45s"',
        '    got:      reason "open = true for 30s"',
        '    expected: damped (flapping: pages nobody)',
        '    got:      not damped',
      ],
    );
  });

  it('lists what was sent when an expected notification is missing', () => {
    assert.deepEqual(
      failures(
        {
          notifications: [
            {
              line: 14,
              to: 'sec-amina',
              channel: 'voice',
              at: { from: 20_000, to: 20_000 },
              rule: 'door-held-open',
              step: 1,
            },
          ],
        },
        result([held], sent),
      ),
      [
        '  voice notification to sec-amina at +20s (2026-11-24 14:00:20 +01:00) (door-held-open step 1) (t.yaml:14)',
        '    expected: at least once',
        '    got:      never',
        '    the replay sent:',
        '    +30s (2026-11-24 14:00:30 +01:00) voice to person:sec-amina, door-held-open on door-b12, step 1',
        '    +30s (2026-11-24 14:00:30 +01:00) sms to person:sec-amina, door-held-open on door-b12, step 1',
        '    +50s (2026-11-24 14:00:50 +01:00) voice to person:sec-claire, door-held-open on door-b12, step 2',
        '    +55s (2026-11-24 14:00:55 +01:00) sms to person:sec-lucas, door-held-open on door-b12, step 1 [suppressed: rate limit]',
      ],
    );
  });

  it('checks an exact count, and `notifications: none` against what was sent (not what was held back)', () => {
    assert.deepEqual(
      failures({ notifications: [{ line: 14, to: 'sec-amina', count: 1 }] }, result([held], sent)),
      [
        '  notification to sec-amina (t.yaml:14)',
        '    expected: once',
        '    got:      twice',
        '    matching:',
        '    +30s (2026-11-24 14:00:30 +01:00) voice to person:sec-amina, door-held-open on door-b12, step 1',
        '    +30s (2026-11-24 14:00:30 +01:00) sms to person:sec-amina, door-held-open on door-b12, step 1',
      ],
    );
    assert.deepEqual(
      failures({ noNotifications: true, notificationsLine: 20 }, result([held], sent.slice(3))),
      [],
    );
    assert.deepEqual(
      failures({ noNotifications: true, notificationsLine: 20 }, result([held], sent.slice(2))),
      [
        '  notifications (t.yaml:20)',
        '    expected: none sent',
        '    got:      1 sent',
        '    the replay sent:',
        '    +50s (2026-11-24 14:00:50 +01:00) voice to person:sec-claire, door-held-open on door-b12, step 2',
      ],
    );
  });
});
