import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRules, loadRuleSet } from './compile.js';
import { parseRuleFile } from './parse.js';
import { testEnv } from './test-support.js';

const RULE = `rule: r1
name: R1
severity: minor
listen:
  devices: { kind: door, tags: [badge-reader] }
  when:
    all:
      - state: { open: true }
      - not: { badge: { before: open, within: 10s, allow: staff } }
      - schedule: office
route:
  team: security
  context: [location, camera]
engage:
  message: hi
  steps:
    - notify: [amina, ops, team:security]
    - after: 1m
      notify: [person:amina]
      via: [ops-webhook]
`;

describe('compileRules', () => {
  it('normalises targets (bare id: person first, then team) and defaults via to console', () => {
    const { rules, problems } = loadRuleSet([{ file: 'a.yaml', text: RULE }], testEnv);
    assert.deepEqual(problems, []);
    const r = rules[0];
    assert.deepEqual(r.engage.steps, [
      { afterMs: 0, notify: ['person:amina', 'person:ops', 'team:security'], via: ['console'] },
      { afterMs: 60_000, notify: ['person:amina'], via: ['ops-webhook'] },
    ]);
    assert.deepEqual(r.route, { team: 'security', context: ['location', 'camera'] });
    assert.deepEqual(r.selector, { kind: 'door', tags: ['badge-reader'] });
    assert.equal(r.file, 'a.yaml');
    assert.equal(r.line, 1);
  });

  it('keeps an optional channel (name?) where it is configured and drops it where it is not', () => {
    const text = RULE.replace('via: [ops-webhook]', 'via: [console, ops-webhook?, pager?]');
    const { rules, problems } = loadRuleSet([{ file: 'a.yaml', text }], testEnv);
    assert.deepEqual(problems, []);
    assert.deepEqual(rules[0].engage.steps[1].via, ['console', 'ops-webhook']);
    const strict = loadRuleSet([{ file: 'a.yaml', text: text.replace('pager?', 'pager') }], testEnv);
    assert.match(strict.problems[0].message, /"pager" is not a configured channel/);
  });

  it('matches devices by every selector key given', () => {
    const { rules } = loadRuleSet([{ file: 'a.yaml', text: RULE }], testEnv);
    const m = rules[0].matches;
    assert.equal(m({ id: 'x', kind: 'door', site: 's', tags: ['badge-reader', 'airside'] }), true);
    assert.equal(m({ id: 'x', kind: 'door', site: 's', tags: ['airside'] }), false);
    assert.equal(m({ id: 'x', kind: 'aed', site: 's', tags: ['badge-reader'] }), false);
    assert.equal(m({ id: 'x', kind: 'door', site: 's' }), false);
  });

  const REFS: { name: string; from: string; to: string; line: number; message: RegExp }[] = [
    {
      name: 'unknown kind',
      from: 'kind: door',
      to: 'kind: dor',
      line: 5,
      message: /kind: "dor" is not a device kind/,
    },
    {
      name: 'unknown team',
      from: 'team: security',
      to: 'team: securty',
      line: 12,
      message: /route\.team: "securty" is not a team/,
    },
    {
      name: 'unknown bare target',
      from: '[amina, ops,',
      to: '[amina, nobody,',
      line: 17,
      message: /steps\[1\]\.notify: "nobody" is not a person or a team/,
    },
    {
      name: 'unknown prefixed person',
      from: '[person:amina]',
      to: '[person:bob]',
      line: 19,
      message: /"person:bob" is not a person/,
    },
    {
      name: 'unknown channel',
      from: '[ops-webhook]',
      to: '[sms]',
      line: 20,
      message: /via: "sms" is not a configured channel/,
    },
    {
      name: 'unknown badge list',
      from: 'allow: staff',
      to: 'allow: staf',
      line: 9,
      message: /badge\.allow: "staf" is not a badge list/,
    },
    {
      name: 'unknown schedule',
      from: 'schedule: office',
      to: 'schedule: ofice',
      line: 10,
      message: /schedule: "ofice" is not a schedule/,
    },
    {
      name: 'unknown context',
      from: '[location, camera]',
      to: '[location, cam]',
      line: 13,
      message: /route\.context: "cam" is not a context/,
    },
    {
      name: 'unknown time zone',
      from: 'schedule: office',
      to: "schedule: { timezone: Mars/Olympus, windows: [{ days: [mon], from: '08:00', to: '09:00' }] }",
      line: 10,
      message: /"Mars\/Olympus" is not a time zone/,
    },
  ];
  for (const c of REFS) {
    it(`reports ${c.name} with its line`, () => {
      assert.ok(RULE.includes(c.from));
      const { rules, problems } = loadRuleSet(
        [{ file: 'a.yaml', text: RULE.replace(c.from, c.to) }],
        testEnv,
      );
      assert.deepEqual(rules, [], 'a file with a problem loads nothing');
      const hit = problems.find((p) => c.message.test(p.message));
      assert.ok(hit, JSON.stringify(problems));
      assert.equal(hit.line, c.line);
      assert.equal(hit.file, 'a.yaml');
    });
  }

  it('rejects a rule id used twice across files, pointing at both', () => {
    const { rules, problems } = loadRuleSet(
      [
        { file: 'a.yaml', text: RULE },
        { file: 'b.yaml', text: `# second\n${RULE}` },
      ],
      testEnv,
    );
    assert.deepEqual(rules, []);
    assert.deepEqual(problems, [
      {
        file: 'b.yaml',
        line: 2,
        message: 'rule "r1" is already defined at a.yaml:1 (rule ids must be unique)',
      },
    ]);
  });

  it('keeps the hash when only comments or position change, and changes it with the meaning', () => {
    const hash = (text: string) => compileRules(parseRuleFile('f.yaml', text).specs, testEnv).rules[0].hash;
    const h = hash(RULE);
    assert.equal(hash(`# moved down\n\n${RULE}`), h);
    assert.notEqual(hash(RULE.replace('within: 10s', 'within: 11s')), h);
    assert.notEqual(hash(RULE.replace('message: hi', 'message: hello')), h);
  });
});

describe('route: crm, dispatch, contactCenter', () => {
  const rule = (route: string) => `rule: fault
name: Fault
severity: minor
listen:
  devices: { kind: appliance }
  when: { state: { status: fault } }
route:
${route}
engage:
  message: hi
  steps: [{ notify: [team:ops] }]
`;
  const env = { ...testEnv, dispatch: new Set(['appliance-repair']) };

  it('a dispatch profile implies the CRM lookup; contactCenter: false opts out of the work item', () => {
    const { rules, problems } = loadRuleSet(
      [{ file: 'f.yaml', text: rule('  dispatch: appliance-repair\n  contactCenter: false') }],
      env,
    );
    assert.deepEqual(problems, []);
    assert.equal(rules[0].route.crm, true);
    assert.equal(rules[0].route.dispatch, 'appliance-repair');
    assert.equal(rules[0].route.contactCenter, false);
  });

  it('rejects an unknown profile and a crm that is not true/false, with their lines', () => {
    const { rules, problems } = loadRuleSet([{ file: 'f.yaml', text: rule('  dispatch: plumbers') }], env);
    assert.equal(rules.length, 0);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].line, 8);
    assert.match(
      problems[0].message,
      /route.dispatch: "plumbers" is not a dispatch profile .*appliance-repair/,
    );
    const bad = loadRuleSet([{ file: 'f.yaml', text: rule('  crm: yes please') }], env);
    assert.equal(bad.problems[0].line, 8);
    assert.match(bad.problems[0].message, /route.crm: expected true or false/);
  });
});
