import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRuleTestFile } from './format.js';

const GOOD = `start: 2026-11-24T14:00
channels: [voice, sms]
rules: [door-held-open]
tests:
  - name: held open
    given:
      - { at: 0s, device: door-g12, values: { open: true } }
      - { at: 45s, device: door-g12, values: { open: false }, ts: 40s }
      - { at: 1m, acknowledge: door-held-open, device: door-g12, by: person:sec-amina }
      - { at: 0, device: temp-hall-b, values: { celsius: 21 }, every: 1m, until: 5m }
    until: 10m
    expect:
      incidents:
        - { rule: door-held-open, device: door-g12, opened: 30s..31s, cleared: never, state: acknowledged }
      notifications:
        - { to: sec-amina, channel: voice, at: 30s, step: 1, count: 1 }
  - name: quiet
    start: 2026-11-24T22:00:00+01:00
    given: []
    expect: { incidents: none, notifications: none }
`;

/** The problems of a test file, as `line: message`. */
function problems(text: string): string[] {
  return parseRuleTestFile('x.test.yaml', text).problems.map((p) => `${p.line}: ${p.message}`);
}

describe('rule test files - parsing', () => {
  it('reads a well-formed file: settings, given events and actions, expectations, in ms from the start', () => {
    const { spec, problems: p } = parseRuleTestFile('door.test.yaml', GOOD);
    assert.deepEqual(p, []);
    assert.ok(spec);
    assert.deepEqual(spec.start, { value: '2026-11-24T14:00', line: 1 });
    assert.deepEqual(
      spec.channels?.map((c) => c.value),
      ['voice', 'sms'],
    );
    assert.equal(spec.tests.length, 2);
    const [t, quiet] = spec.tests;
    assert.equal(t.line, 5);
    assert.equal(t.until, 600_000);
    assert.deepEqual(t.given[1], {
      type: 'event',
      line: 8,
      at: 45_000,
      device: 'door-g12',
      values: { open: false },
      valueLines: { open: 8 },
      ts: 40_000,
    });
    assert.deepEqual(t.given[2], {
      type: 'action',
      line: 9,
      at: 60_000,
      action: 'acknowledge',
      rule: 'door-held-open',
      device: 'door-g12',
      by: 'person:sec-amina',
    });
    assert.equal(t.given[3].type === 'event' && t.given[3].every, 60_000);
    assert.deepEqual(t.expect.incidents, [
      {
        line: 14,
        rule: 'door-held-open',
        device: 'door-g12',
        opened: { from: 30_000, to: 31_000 },
        cleared: 'never',
        state: 'acknowledged',
      },
    ]);
    assert.deepEqual(t.expect.notifications, [
      { line: 16, to: 'sec-amina', channel: 'voice', at: { from: 30_000, to: 30_000 }, step: 1, count: 1 },
    ]);
    assert.deepEqual(quiet.start, { value: '2026-11-24T22:00:00+01:00', line: 18 });
    assert.deepEqual(quiet.expect.incidents, []);
    assert.equal(quiet.expect.noNotifications, true);
  });

  it('reports YAML syntax errors with their line', () => {
    const head =
      'start: 2026-11-24T14:00\ntests:\n  - name: a\n    expect: { incidents: none }\n  - name: b\n';
    assert.deepEqual(problems(`${head}\texpect: { incidents: none }\n`), [
      '6: YAML syntax: Tabs are not allowed as indentation',
    ]);
    assert.deepEqual(problems(`${head}    expect: { incidents: none } }\n`), [
      '6: YAML syntax: Unexpected flow-map-end token in YAML stream: "}"',
    ]);
  });

  it('reports every mistake of a file at the line it sits on', () => {
    const text = [
      'start: 2026-11-24T14:00', // 1
      'channels: [Voice]', // 2
      'tests:', // 3
      '  - name: one', // 4
      '    given:', // 5
      '      - { at: 30, device: door-g12, values: { open: true } }', // 6
      '      - { at: 1m, device: door-g12 }', // 7
      '      - { at: 2m, device: door-g12, status: asleep }', // 8
      '      - { at: 3m, acknowledge: door-held-open, resolve: door-held-open, device: door-g12 }', // 9
      '      - { at: 4m, device: door-g12, values: { open: [true] }, until: 5m }', // 10
      '    expect:', // 11
      '      incidents:', // 12
      '        - { rule: door-held-open, opened: soon }', // 13
      '        - { rule: door-held-open, device: door-g12, cleared: 45s..30s, colour: red }', // 14
      '      notifications:', // 15
      '        - { count: 2 }', // 16
      '        - { to: sec-amina, step: 0, outcome: delivered }', // 17
      '  - name: one', // 18
      '    expect: { incidents: none }', // 19
      '  - given: []', // 20
    ].join('\n');
    assert.deepEqual(problems(text), [
      '2: channels: "Voice" is not a channel (write NAME or NAME:TYPE, e.g. sms, duty-phone:voice)',
      '6: test "one": given[1].at: "30" is not a time from the start (use 0s, 30s, 2m, 1h30m)',
      '7: test "one": given[2]: an event needs values or a status',
      '8: test "one": given[3].status: must be online or offline, got "asleep"',
      '9: test "one": given[4]: acknowledge or resolve, not both',
      '10: test "one": given[5].values.open: expected a number, true/false or a text, got a list',
      '10: test "one": given[5].until: only with every (a repeated event)',
      '13: test "one": expect.incidents[1].device: missing',
      '13: test "one": expect.incidents[1].opened: "soon" is not a time from the start (use 0s, 30s, 2m, 1h30m), or a range 30s..35s',
      '14: test "one": expect.incidents[2].colour: unknown key (expected one of: rule, device, severity, opened, acknowledged, cleared, resolved, state, reason, damped)',
      '14: test "one": expect.incidents[2].cleared: "45s..30s" is not a time range (use 30s..35s, earliest first)',
      '16: test "one": expect.notifications[1]: say which notification (to, channel, at, rule, device, step, outcome, message)',
      '17: test "one": expect.notifications[2].step: must be at least 1, got 0',
      '17: test "one": expect.notifications[2].outcome: "delivered" is not an outcome (sent, suppressed, cancelled, failed, any)',
      '18: test "one" is already named at line 4',
      '20: tests[3].name: missing (say what the test proves)',
      '20: tests[3].expect: missing (incidents and/or notifications)',
    ]);
  });

  it('refuses a file without tests, and an until before the last given time', () => {
    assert.deepEqual(problems('start: 2026-11-24T14:00\n'), ['1: tests: expected a list of tests']);
    assert.deepEqual(problems('start: 2026-11-24T14:00\ntests: []\n'), [
      '2: tests: expected a list of tests',
    ]);
    assert.deepEqual(
      problems(
        'tests:\n  - name: t\n    given:\n      - { at: 5m, device: d, values: { open: true } }\n    until: 1m\n    expect: { incidents: none }\n',
      ),
      ['5: test "t": until: "1m" is before the last given time'],
    );
  });

  it('refuses unknown keys at the top and in a test', () => {
    assert.deepEqual(problems('strat: 2026-11-24T14:00\ntests:\n  - name: t\n    expct: {}\n'), [
      '1: strat: unknown key (expected one of: start, channels, rules, devices, tests)',
      '4: tests[1].expct: unknown key (expected one of: name, start, channels, rules, devices, given, until, expect)',
      '3: test "t": expect: missing (incidents and/or notifications)',
    ]);
  });
});
