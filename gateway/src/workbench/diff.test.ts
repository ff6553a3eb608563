import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffReplays, formatDiff, gateFailures } from './diff.js';
import type { ReplayIncident, ReplayNotification, ReplayResult } from './model.js';

// Two replays of one recording, built by hand: a base (today's rules) and a proposed rule set.
// Incident ids are made per run, as real replays make them, so matching cannot lean on them.

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const MIN = 60_000;
const at = (h: number, m: number, s = 0) => T0 + ((h * 60 + m) * 60 + s) * 1000;

interface Spec {
  rule?: string;
  device?: string;
  severity?: ReplayIncident['severity'];
  opened: number;
  cleared?: number;
  state?: ReplayIncident['state'];
  escalations?: number[];
  reason?: string;
  /** Sent notifications: [to, toName, channel], or with an outcome other than 'sent'. */
  sent?: [string, string, string, ReplayNotification['outcome']?][];
}

const AMINA = 'person:sec-amina';
const BOB = 'person:ops-bob';

function run(name: string, specs: Spec[], rules?: string[]): ReplayResult {
  const incidents: ReplayIncident[] = [];
  const notifications: ReplayNotification[] = [];
  specs.forEach((s, n) => {
    const ruleId = s.rule ?? 'door-held-open';
    const deviceId = s.device ?? 'door-b12';
    const inc: ReplayIncident = {
      id: `${name}-inc-${n}`,
      key: `${ruleId}/${deviceId}#${n + 1}`,
      ruleId,
      ruleName: ruleId,
      deviceId,
      deviceName: deviceId,
      zone: 'terminal-2',
      severity: s.severity ?? 'major',
      reason: s.reason ?? 'open for 30 s',
      state: s.state ?? (s.cleared === undefined ? 'open' : 'cleared'),
      openedAt: s.opened,
      triggerTs: s.opened,
      escalations: (s.escalations ?? []).map((step, k) => ({
        at: s.opened + (k + 1) * MIN,
        step,
        repeat: false,
      })),
    };
    if (s.cleared !== undefined) inc.clearedAt = s.cleared;
    incidents.push(inc);
    for (const [to, toName, channel, outcome] of s.sent ?? []) {
      notifications.push({
        at: s.opened,
        incidentId: inc.id,
        incidentKey: inc.key,
        ruleId,
        deviceId,
        severity: inc.severity,
        step: 0,
        channel,
        channelType: channel,
        to,
        toName,
        outcome: outcome ?? 'sent',
        message: inc.reason,
      });
    }
  });
  return {
    site: 'airport',
    rules: rules ?? [...new Set(incidents.map((i) => i.ruleId))],
    from: T0,
    to: at(2, 0),
    events: 1000,
    actions: 0,
    skipped: 0,
    problems: [],
    incidents,
    notifications,
    timeline: [],
    wallMs: 5,
  };
}

const door = (opened: number, more: Partial<Spec> = {}): Spec => ({
  opened,
  cleared: opened + 5 * MIN,
  ...more,
});

test('identical replays: no difference, the gate passes', () => {
  const specs = [
    door(at(0, 12, 30), { sent: [[AMINA, 'Amina Diallo', 'voice']] }),
    door(at(1, 0), { device: 'door-b14', escalations: [1] }),
  ];
  const d = diffReplays(run('a', specs), run('b', specs));
  assert.deepEqual([d.added, d.removed, d.changed, d.people], [[], [], [], []]);
  assert.equal(d.unchanged, 2);
  assert.deepEqual(gateFailures(d), []);
  assert.match(formatDiff(d), /^no difference \(2 incidents, 1 notifications sent in both\)/);
});

test('a longer `for` opens the same incident 30 s later: changed, not added or removed; the gate passes', () => {
  const base = run('a', [door(at(0, 12, 30), { cleared: at(0, 20) })]);
  const proposed = run('b', [door(at(0, 13), { cleared: at(0, 20) })]);
  const d = diffReplays(base, proposed);
  assert.deepEqual([d.added.length, d.removed.length, d.changed.length], [0, 0, 1]);
  const c = d.changed[0]!;
  assert.equal(c.openedDeltaMs, 30_000);
  assert.equal(c.clearedDeltaMs, undefined);
  assert.equal(c.base.id, 'a-inc-0');
  assert.equal(c.proposed.id, 'b-inc-0');
  assert.deepEqual(gateFailures(d), []);
  const text = formatDiff(d);
  assert.match(text, /^1 opened later\n/);
  assert.ok(text.includes('opened 30 s later (+00:12:30 -> +00:13:00)'), text);
});

test('timing jitter under a second is no change', () => {
  const d = diffReplays(
    run('a', [door(at(0, 10))]),
    run('b', [door(at(0, 10) + 400, { cleared: at(0, 15) - 900 })]),
  );
  assert.deepEqual([d.changed.length, d.unchanged], [0, 1]);
});

test('removing an incident fails the gate, naming it and when it happened', () => {
  const base = run('a', [door(at(0, 12, 30)), door(at(0, 40), { device: 'door-b14' })]);
  const proposed = run('b', [door(at(0, 40), { device: 'door-b14' })]);
  const d = diffReplays(base, proposed);
  assert.equal(d.removed.length, 1);
  assert.deepEqual(gateFailures(d), [
    'removes major incident door-held-open on door-b12 at +00:12:30 (2024-05-01 08:12:30 UTC)',
  ]);
  assert.deepEqual(gateFailures(d, { timeZone: 'Europe/Paris' }), [
    'removes major incident door-held-open on door-b12 at +00:12:30 (2024-05-01 10:12:30 Europe/Paris)',
  ]);
});

test('an added major incident passes the gate, an added critical one fails it', () => {
  const base = run('a', [door(at(0, 10))]);
  const major = diffReplays(
    base,
    run('b', [door(at(0, 10)), door(at(0, 30), { rule: 'temp-high', device: 'fridge-3' })]),
  );
  assert.equal(major.added.length, 1);
  assert.deepEqual(gateFailures(major), []);

  const aed: Spec = { rule: 'aed-removed', device: 'aed-t2-01', severity: 'critical', opened: at(1, 0) };
  const critical = diffReplays(base, run('c', [door(at(0, 10)), aed]));
  assert.deepEqual(gateFailures(critical), [
    'adds critical incident aed-removed on aed-t2-01 at +01:00:00 (2024-05-01 09:00:00 UTC)',
  ]);
});

test('incidents of the same rule and device are matched in order, by overlap and nearest opening', () => {
  const base = run('a', [door(at(0, 10)), door(at(0, 30)), door(at(1, 0), { cleared: undefined })]);
  const proposed = run('b', [
    door(at(0, 10, 30)),
    door(at(0, 30, 30)),
    door(at(1, 30), { cleared: undefined }),
  ]);
  const d = diffReplays(base, proposed);
  assert.deepEqual([d.added.length, d.removed.length], [0, 0]);
  assert.deepEqual(
    d.changed.map((c) => [c.base.id, c.proposed.id, c.openedDeltaMs]),
    [
      ['a-inc-0', 'b-inc-0', 30_000],
      ['a-inc-1', 'b-inc-1', 30_000],
      // Both still open when the replay ended: active until its end, so they overlap.
      ['a-inc-2', 'b-inc-2', 30 * MIN],
    ],
  );

  // A long base incident overlaps two proposed ones: the nearest opening wins, the other is added.
  const long = diffReplays(
    run('a', [door(at(0, 10), { cleared: at(1, 0) })]),
    run('b', [door(at(0, 5), { cleared: at(0, 12) }), door(at(0, 10, 20), { cleared: at(1, 0) })]),
  );
  assert.deepEqual(
    long.changed.map((c) => [c.proposed.id, c.openedDeltaMs]),
    [['b-inc-1', 20_000]],
  );
  assert.deepEqual(
    long.added.map((i) => i.id),
    ['b-inc-0'],
  );

  // Same rule and device but never active at the same time: a different alert.
  const apart = diffReplays(run('a', [door(at(0, 10))]), run('b', [door(at(0, 20))]));
  assert.deepEqual([apart.added.length, apart.removed.length, apart.changed.length], [1, 1, 0]);
});

test('a renamed rule shows as removed and added incidents, and the report says why', () => {
  const base = run('a', [door(at(0, 10))]);
  const proposed = run('b', [door(at(0, 10), { rule: 'door-propped' })]);
  const d = diffReplays(base, proposed);
  assert.deepEqual(d.rules, { added: ['door-propped'], removed: ['door-held-open'] });
  assert.deepEqual([d.added.length, d.removed.length], [1, 1]);
  assert.equal(gateFailures(d).length, 1);
  assert.ok(formatDiff(d).includes('a renamed rule shows as its incidents removed and added'));
});

test('people called more or less often, per channel and in total; only sent notifications count', () => {
  const voice: Spec['sent'] = [
    [AMINA, 'Amina Diallo', 'voice'],
    [AMINA, 'Amina Diallo', 'voice'],
  ];
  const base = run('a', [
    door(at(0, 10), {
      sent: [
        ...voice,
        ...voice,
        [AMINA, 'Amina Diallo', 'sms'],
        [AMINA, 'Amina Diallo', 'voice', 'suppressed'],
      ],
    }),
  ]);
  const proposed = run('b', [
    door(at(0, 10), {
      sent: [
        ...voice,
        [AMINA, 'Amina Diallo', 'sms'],
        [AMINA, 'Amina Diallo', 'sms'],
        [BOB, 'Bob Martin', 'sms'],
      ],
    }),
  ]);
  const d = diffReplays(base, proposed);
  assert.deepEqual(d.people, [
    { to: AMINA, toName: 'Amina Diallo', channel: 'sms', base: 1, proposed: 2 },
    { to: AMINA, toName: 'Amina Diallo', channel: 'voice', base: 4, proposed: 2 },
    { to: BOB, toName: 'Bob Martin', channel: 'sms', base: 0, proposed: 1 },
  ]);
  assert.deepEqual(d.totals.people, [
    { to: AMINA, toName: 'Amina Diallo', base: 5, proposed: 4 },
    { to: BOB, toName: 'Bob Martin', base: 0, proposed: 1 },
  ]);
  assert.deepEqual(d.totals.notificationsSent, { base: 5, proposed: 5 });
  // The incident itself still sends 5: the per-incident count is no change.
  assert.deepEqual([d.changed.length, d.unchanged], [0, 1]);
  const text = formatDiff(d);
  assert.ok(text.includes('1 person called more often, 1 person called less often'), text);
  assert.ok(text.includes('\nPeople\n'), text);
  assert.ok(text.includes('Amina Diallo (person:sec-amina) voice 4 -> 2 (-2)'), text);
  assert.ok(text.includes('Amina Diallo (person:sec-amina) sms 1 -> 2 (+1)'), text);
  assert.ok(text.includes('Amina Diallo (person:sec-amina) all channels 5 -> 4 (-1)'), text);
  assert.ok(text.includes('Bob Martin (person:ops-bob) sms 0 -> 1 (+1)'), text);
  assert.ok(!text.includes('Bob Martin (person:ops-bob) all channels'), text);
});

test('per incident: notifications, severity, escalation and end state changes', () => {
  const base = run('a', [door(at(0, 10), { escalations: [1], sent: [[AMINA, 'Amina Diallo', 'sms']] })]);
  const proposed = run('b', [
    door(at(0, 10), {
      severity: 'critical',
      cleared: undefined,
      escalations: [1, 2],
      sent: [
        [AMINA, 'Amina Diallo', 'sms'],
        [AMINA, 'Amina Diallo', 'voice'],
        [BOB, 'Bob Martin', 'voice'],
      ],
    }),
  ]);
  const d = diffReplays(base, proposed);
  const c = d.changed[0]!;
  assert.deepEqual(c.severity, { from: 'major', to: 'critical' });
  assert.deepEqual(c.escalations, { from: { maxStep: 1, count: 1 }, to: { maxStep: 2, count: 2 } });
  assert.deepEqual(c.notifications, { from: 1, to: 3 });
  assert.deepEqual(c.state, { from: 'cleared', to: 'open' });
  assert.equal(c.clearedDeltaMs, undefined);
  const text = formatDiff(d);
  for (const line of [
    'severity major -> critical',
    'escalated further: escalations 1 -> 2, last step 2 -> 3',
    'notifications sent 1 -> 3 (+2)',
    'state at end cleared -> open',
  ]) {
    assert.ok(text.includes(`      ${line}\n`), `${line}\n---\n${text}`);
  }
  // A matched incident that turns critical pages like a new critical one: the gate fails.
  const failures = gateFailures(d);
  assert.equal(failures.length, 1, failures.join('\n'));
  assert.match(failures[0], /^makes door-held-open on door-b12 critical \(was major\) at \+/);
});

test('the formatted diff: summary, then one line per incident placed in the replay and on the clock', () => {
  const base = run('a', [
    door(at(0, 12, 30), { cleared: at(0, 20) }),
    door(at(0, 40), { device: 'door-b14', reason: 'open for 2 min' }),
    door(at(1, 30), { device: 'door-b16', cleared: at(1, 40) }),
  ]);
  const proposed = run('b', [
    door(at(0, 13), { cleared: at(0, 20) }),
    door(at(1, 30), { device: 'door-b16', cleared: at(1, 38) }),
    {
      rule: 'aed-removed',
      device: 'aed-t2-01',
      severity: 'critical',
      opened: at(1, 0),
      reason: 'AED taken out',
    },
    { rule: 'temp-high', device: 'fridge-3', severity: 'minor', opened: at(1, 5), reason: '9.2 °C' },
  ]);
  const d = diffReplays(base, proposed);
  const text = formatDiff(d, { timeZone: 'Europe/Paris' });
  const lines = text.split('\n');
  assert.equal(lines[0], '2 incidents added (1 critical), 1 removed, 1 opened later, 1 cleared earlier');
  assert.equal(lines[1], 'replay of airport from 2024-05-01 10:00:00 to 2024-05-01 12:00:00 (Europe/Paris)');
  const after = (title: string) => lines.slice(lines.indexOf(title) + 1);
  assert.deepEqual(after('Added').slice(0, 2), [
    '  +01:00:00  2024-05-01 11:00:00  aed-removed on aed-t2-01  critical  AED taken out',
    '  +01:05:00  2024-05-01 11:05:00  temp-high on fridge-3  minor  9.2 °C',
  ]);
  assert.deepEqual(
    after('Removed')[0],
    '  +00:40:00  2024-05-01 10:40:00  door-held-open on door-b14  major  open for 2 min',
  );
  assert.deepEqual(after('Changed').slice(0, 4), [
    '  +00:12:30  2024-05-01 10:12:30  door-held-open on door-b12  major  open for 30 s',
    '      opened 30 s later (+00:12:30 -> +00:13:00)',
    '  +01:30:00  2024-05-01 11:30:00  door-held-open on door-b16  major  open for 30 s',
    '      cleared 2 min earlier (+01:40:00 -> +01:38:00)',
  ]);
  // Offsets can count from another origin (the start of a picked window).
  assert.ok(formatDiff(d, { from: at(1, 0) }).includes('  +00:00:00  2024-05-01 09:00:00  aed-removed'));
});

test('the diff is plain JSON', () => {
  const d = diffReplays(
    run('a', [door(at(0, 10), { sent: [[AMINA, 'Amina Diallo', 'sms']] })]),
    run('b', [door(at(0, 11), { severity: 'critical' })]),
  );
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
});

test('replays of different windows are compared with a warning', () => {
  const other = { ...run('b', [door(at(0, 10))]), to: at(3, 0) };
  const d = diffReplays(run('a', [door(at(0, 10))]), other);
  assert.equal(d.warnings.length, 1);
  assert.match(formatDiff(d), /^warning: the replays did not cover the same events/);
});
