import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRuleFile } from './parse.js';

const GOOD = `# a comment
rule: door-held-open
name: Door held open
severity: major
listen:
  devices: { kind: door }
  when:
    state: { open: true }
  for: 30s
route:
  team: security
engage:
  message: "{device.name} held open"
  steps:
    - notify: [team:security]
    - after: 20s
      notify: [sec-claire]
      via: [console, ops-webhook]
  repeat: { every: 2m, times: 3 }
`;

describe('parseRuleFile', () => {
  it('reads a valid rule with its line and defaults', () => {
    const { specs, problems } = parseRuleFile('door.yaml', GOOD);
    assert.deepEqual(problems, []);
    assert.equal(specs.length, 1);
    const s = specs[0];
    assert.equal(s.id, 'door-held-open');
    assert.equal(s.line, 2);
    assert.equal(s.forMs, 30_000);
    assert.equal(s.clear, 'auto');
    assert.deepEqual(s.when, { type: 'state', line: 8, fields: { open: [true] } });
    assert.equal(s.engage.steps[1].afterMs, 20_000);
    assert.deepEqual(s.engage.repeat, { everyMs: 120_000, times: 3 });
    assert.equal(s.engage.steps[0].via, undefined);
  });

  it('takes a rule without engage as incident-only, but refuses an engage that notifies nobody', () => {
    const bare = GOOD.slice(0, GOOD.indexOf('engage:'));
    const { specs, problems } = parseRuleFile('door.yaml', bare);
    assert.deepEqual(problems, []);
    assert.deepEqual(specs[0].engage.steps, []);
    const empty = parseRuleFile('door.yaml', bare + 'engage:\n  message: hi\n');
    assert.match(empty.problems[0].message, /engage.steps: missing/);
  });

  it('reads several documents and skips empty ones', () => {
    const two = `${GOOD}---\n${GOOD.replace('door-held-open', 'other')}---\n# nothing\n`;
    const { specs, problems } = parseRuleFile('x.yaml', two);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      specs.map((s) => [s.id, s.line]),
      [
        ['door-held-open', 2],
        ['other', 22],
      ],
    );
  });

  it('parses every condition type', () => {
    const when = `
    all:
      - threshold: { field: celsius, above: 28, below: 10, hysteresis: 1 }
      - any: [{ absent: 5m }, { absent: heartbeat }, { status: offline }]
      - schedule: office
      - not: { schedule: { timezone: UTC, windows: [{ days: [sat, sun], from: '22:00', to: '06:00' }] } }
      - badge: { before: open, within: 10s, allow: [A1, B2] }
      - count: { where: { state: { status: [fault, error] } }, atLeast: 3, within: 10m }`;
    const text = GOOD.replace('    state: { open: true }', when);
    const { specs, problems } = parseRuleFile('c.yaml', text);
    assert.deepEqual(problems, []);
    const all = specs[0].when;
    assert.equal(all.type, 'all');
    if (all.type !== 'all') return;
    assert.deepEqual(
      all.children.map((c) => c.type),
      ['threshold', 'any', 'schedule', 'not', 'badge', 'count'],
    );
  });

  const BAD: { name: string; from: string; to: string; line: number; message: RegExp }[] = [
    {
      name: 'bare number duration',
      from: 'for: 30s',
      to: 'for: 30',
      line: 9,
      message: /listen\.for: "30" is not a duration \(use 500ms, 30s, 5m, 1h\)/,
    },
    {
      name: 'quoted number duration',
      from: 'for: 30s',
      to: 'for: "30"',
      line: 9,
      message: /listen\.for: "30" is not a duration/,
    },
    {
      name: 'bad severity',
      from: 'severity: major',
      to: 'severity: high',
      line: 4,
      message: /severity: "high" is not a severity \(use critical, major, minor, warning\)/,
    },
    {
      name: 'unknown top key',
      from: 'name: Door held open',
      to: 'name: Door held open\nnmae: typo',
      line: 4,
      message: /nmae: unknown key/,
    },
    {
      name: 'unknown listen key',
      from: '  for: 30s',
      to: '  for: 30s\n  fro: 1s',
      line: 10,
      message: /listen\.fro: unknown key/,
    },
    {
      name: 'bad rule id',
      from: 'rule: door-held-open',
      to: 'rule: Door Held',
      line: 2,
      message: /rule: "Door Held" is not a rule id/,
    },
    {
      name: 'missing when',
      from: '  when:\n    state: { open: true }\n',
      to: '',
      line: 5,
      message: /listen\.when: missing/,
    },
    {
      name: 'unknown condition',
      from: '    state: { open: true }',
      to: '    stat: { open: true }',
      line: 8,
      message: /listen\.when\.stat: unknown key/,
    },
    {
      name: 'two conditions in one map',
      from: '    state: { open: true }',
      to: '    state: { open: true }\n    status: offline',
      line: 8,
      message: /exactly one of/,
    },
    {
      name: 'threshold without limits',
      from: '    state: { open: true }',
      to: '    threshold: { field: celsius }',
      line: 8,
      message: /give above, below or both/,
    },
    {
      name: 'threshold text limit',
      from: '    state: { open: true }',
      to: '    threshold:\n      field: celsius\n      above: hot',
      line: 10,
      message: /threshold\.above: expected a number, got "hot"/,
    },
    {
      name: 'bad status',
      from: '    state: { open: true }',
      to: '    status: dead',
      line: 8,
      message: /"dead" is not a status/,
    },
    {
      name: 'bad day',
      from: '    state: { open: true }',
      to: "    schedule:\n      windows:\n        - { days: [monday], from: '07:00', to: '19:00' }",
      line: 10,
      message: /"monday" is not a day/,
    },
    {
      name: 'bad time',
      from: '    state: { open: true }',
      to: "    schedule:\n      windows:\n        - { days: [mon], from: '7h', to: '19:00' }",
      line: 10,
      message: /"7h" is not a time of day/,
    },
    {
      name: 'count with hysteresis',
      from: '    state: { open: true }',
      to: '    count:\n      where: { threshold: { field: celsius, above: 2, hysteresis: 1 } }\n      atLeast: 2\n      within: 1m',
      line: 9,
      message: /not allowed inside count/,
    },
    {
      name: 'count atLeast zero',
      from: '    state: { open: true }',
      to: '    count:\n      where: { state: { open: true } }\n      atLeast: 0\n      within: 1m',
      line: 10,
      message: /atLeast: must be at least 1/,
    },
    {
      name: 'first step with after',
      from: '    - notify: [team:security]',
      to: '    - after: 5s\n      notify: [team:security]',
      line: 15,
      message: /first step runs at once/,
    },
    {
      name: 'later step without after',
      from: '    - after: 20s\n      notify: [sec-claire]',
      to: '    - notify: [sec-claire]',
      line: 16,
      message: /steps\[2\]\.after: missing/,
    },
    {
      name: 'bad clear',
      from: '  for: 30s',
      to: '  for: 30s\n  clear: sometimes',
      line: 10,
      message: /listen\.clear: "sometimes" is not auto or manual/,
    },
    {
      name: 'empty selector',
      from: '  devices: { kind: door }',
      to: '  devices: {}',
      line: 6,
      message: /at least one of kind/,
    },
    {
      name: 'yaml syntax error',
      from: '    state: { open: true }',
      to: '\tstate: { open: true }',
      line: 8,
      message: /YAML syntax: Tabs are not allowed as indentation$/,
    },
    {
      name: 'unclosed flow map (reported where YAML notices)',
      from: '  devices: { kind: door }',
      to: '  devices: { kind: door',
      line: 7,
      message: /YAML syntax: Flow map/,
    },
    { name: 'rule is a list', from: GOOD, to: '- a\n- b\n', line: 1, message: /a rule must be a map/ },
  ];
  for (const c of BAD) {
    it(`reports ${c.name} at line ${c.line}`, () => {
      assert.ok(GOOD.includes(c.from), c.from);
      const { specs, problems } = parseRuleFile('bad.yaml', GOOD.replace(c.from, c.to));
      assert.equal(specs.length, 0);
      const hit = problems.find((p) => c.message.test(p.message));
      assert.ok(hit, `no problem matching ${c.message}: ${JSON.stringify(problems)}`);
      assert.equal(hit.file, 'bad.yaml');
      assert.equal(hit.line, c.line, JSON.stringify(problems));
    });
  }

  it('reports a broken document without losing the others', () => {
    const text = `${GOOD}---\nrule: x\nname: [unclosed\n---\n${GOOD.replace('door-held-open', 'third')}`;
    const { specs, problems } = parseRuleFile('m.yaml', text);
    assert.deepEqual(
      specs.map((s) => s.id),
      ['door-held-open', 'third'],
    );
    assert.ok(problems.length > 0);
    assert.ok(
      problems.every((p) => p.line >= 21 && p.line <= 23),
      JSON.stringify(problems),
    );
  });
});
