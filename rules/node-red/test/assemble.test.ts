import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { parseRuleFile } from '../../src/parse.js';
import { PKG, ROOT } from './support.js';

const require = createRequire(import.meta.url);
const { assemble } = require(`${PKG}/lib/assemble.js`) as {
  assemble: (nodes: unknown[]) => {
    rules: { gateway: string; rule: { doc: any; nodes: any; flow?: any } }[];
    problems: { nodeId: string; message: string }[];
    incidentRules: Record<string, string[]>;
    listenOutputs: Record<string, boolean>;
  };
};

type N = Record<string, unknown> & { id: string; type: string };

const tab: N = { id: 't1', type: 'tab', label: 'Doors' };
const listen = (over: Partial<N> = {}): N => ({
  id: 'l1',
  type: 'vigie-listen',
  z: 't1',
  gateway: '',
  all: false,
  kind: 'door',
  ids: '',
  zones: '',
  tags: '',
  wires: [['c1']],
  ...over,
});
const condition = (over: Partial<N> = {}): N => ({
  id: 'c1',
  type: 'vigie-condition',
  z: 't1',
  name: 'Door held open',
  rule: 'door-held-open',
  severity: 'major',
  description: '',
  condition: 'state',
  field: 'open',
  values: 'true',
  for: '30s',
  clear: 'auto',
  scheduleMode: '',
  unlessBadge: false,
  wires: [[]],
  ...over,
});
const route = (over: Partial<N> = {}): N => ({
  id: 'r1',
  type: 'vigie-route',
  z: 't1',
  team: 'security',
  policy: '',
  context: 'location, camera',
  crm: false,
  dispatch: '',
  contactCenter: true,
  wires: [[]],
  ...over,
});
const engage = (over: Partial<N> = {}): N => ({
  id: 'e1',
  type: 'vigie-engage',
  z: 't1',
  message: 'held open',
  template: '',
  steps:
    '- notify: [team:security]\n  via: [console, ops-webhook?]\n- after: 1m\n  notify: [team:security-supervisors]',
  repeatEvery: '',
  repeatTimes: '',
  wires: [[]],
  ...over,
});

function only(nodes: N[]) {
  const r = assemble(nodes);
  assert.deepEqual(r.problems, []);
  assert.equal(r.rules.length, 1);
  return r.rules[0].rule;
}

function problemsOn(nodes: N[], id: string): string[] {
  return assemble(nodes)
    .problems.filter((p) => p.nodeId === id)
    .map((p) => p.message);
}

/** The spec the rule parser makes of a document, without where it came from. */
function spec(yamlText: string) {
  const { specs, problems } = parseRuleFile('x.yaml', yamlText);
  assert.deepEqual(problems, []);
  return JSON.parse(JSON.stringify(specs, (k, v) => (k === 'line' || k === 'file' ? undefined : v)));
}

describe('assemble: one chain -> one rule document', () => {
  it('maps a full chain to exactly the keys of the YAML rule', () => {
    const r = only([
      tab,
      listen(),
      condition({ wires: [['r1']] }),
      route({ wires: [['e1']], crm: true, dispatch: 'appliance-repair', contactCenter: false }),
      engage({ repeatEvery: '2m', repeatTimes: '3', wires: [['i1']] }),
      { id: 'i1', type: 'vigie-incident', z: 't1', scope: 'chain', wires: [[], []] },
    ]);
    assert.deepEqual(r.doc, {
      rule: 'door-held-open',
      name: 'Door held open',
      severity: 'major',
      listen: { devices: { kind: 'door' }, when: { state: { open: true } }, for: '30s' },
      route: {
        team: 'security',
        context: ['location', 'camera'],
        crm: true,
        dispatch: 'appliance-repair',
        contactCenter: false,
      },
      engage: {
        message: 'held open',
        steps: [
          { notify: ['team:security'], via: ['console', 'ops-webhook?'] },
          { after: '1m', notify: ['team:security-supervisors'] },
        ],
        repeat: { every: '2m', times: 3 },
      },
    });
    assert.deepEqual(r.nodes, { condition: 'c1', listen: 'l1', route: 'r1', engage: 'e1' });
    assert.deepEqual(r.flow, { id: 't1', label: 'Doors' });
  });

  it('gives the same rule as the YAML example (temperature), through the same parser', () => {
    const r = only([
      tab,
      listen({ kind: 'temperature', zones: 'hall-b, gates-g' }),
      condition({
        rule: 'temperature-out-of-range',
        name: 'Temperature out of range',
        severity: 'minor',
        description: 'Public areas above 27 °C or below 16 °C for 30 seconds.',
        condition: 'threshold',
        field: 'celsius',
        above: '27',
        below: '16',
        hysteresis: '1',
        wires: [['r1']],
      }),
      route({ team: 'maintenance', context: 'location', wires: [['e1']] }),
      engage({
        message: '{device.name} ({device.location}): {values.celsius} °C ({reason})',
        steps: JSON.stringify([
          { notify: ['team:maintenance'], via: ['console', 'ops-webhook?'] },
          { after: '60s', notify: ['team:maintenance-supervisors'], via: ['console', 'ops-webhook?'] },
        ]),
      }),
    ]);
    const file = readFileSync(`${ROOT}/rules/examples/temperature.yaml`, 'utf8');
    const first = String(parseAllDocuments(file)[0]);
    assert.deepEqual(spec(stringify(r.doc)), spec(first));
  });

  it('builds door-forced (unless badge) and door-outside-hours (outside a schedule) like the YAML files', () => {
    const forced = only([
      tab,
      listen({ tags: 'badge-reader' }),
      condition({
        rule: 'door-forced',
        name: 'Door forced',
        for: '',
        unlessBadge: true,
        unlessBadgeWithin: '10s',
        unlessBadgeAllow: 'staff',
      }),
    ]);
    assert.deepEqual(forced.doc.listen.when, {
      all: [{ state: { open: true } }, { not: { badge: { before: 'open', within: '10s', allow: 'staff' } } }],
    });
    const outside = only([
      tab,
      listen({ tags: 'scheduled' }),
      condition({ for: '', scheduleMode: 'outside', scheduleName: 'service-hours' }),
    ]);
    assert.deepEqual(outside.doc.listen.when, {
      all: [{ state: { open: true } }, { not: { schedule: 'service-hours' } }],
    });
  });

  const cases: [string, Partial<N>, unknown][] = [
    [
      'state, several typed values',
      { field: 'status', values: 'fault, error, 3, null, false' },
      {
        state: { status: ['fault', 'error', 3, null, false] },
      },
    ],
    [
      'threshold, above only, no hysteresis',
      { condition: 'threshold', field: 'celsius', above: '30' },
      {
        threshold: { field: 'celsius', above: 30 },
      },
    ],
    [
      'absence, default',
      { condition: 'absence', absence: '' },
      {
        any: [{ status: 'offline' }, { absent: 'heartbeat' }],
      },
    ],
    ['absence, offline', { condition: 'absence', absence: 'offline' }, { status: 'offline' }],
    ['absence, heartbeat', { condition: 'absence', absence: 'heartbeat' }, { absent: 'heartbeat' }],
    ['absence, silent', { condition: 'absence', absence: 'silent', silentFor: '5m' }, { absent: '5m' }],
    ['status', { condition: 'status', status: 'online' }, { status: 'online' }],
    ['schedule', { condition: 'schedule', schedule: 'terminal-hours' }, { schedule: 'terminal-hours' }],
    [
      'badge',
      { condition: 'badge', badgeWithin: '10s', badgeAllow: 'staff' },
      {
        badge: { before: 'open', within: '10s', allow: 'staff' },
      },
    ],
    [
      'count (YAML where)',
      { condition: 'count', countOf: '{ state: { status: fault } }', atLeast: '3', within: '10m' },
      {
        count: { where: { state: { status: 'fault' } }, atLeast: 3, within: '10m' },
      },
    ],
    [
      'expression (block YAML)',
      { condition: 'expression', expression: 'any:\n  - status: offline\n  - absent: heartbeat' },
      {
        any: [{ status: 'offline' }, { absent: 'heartbeat' }],
      },
    ],
    [
      'qualifiers in order',
      {
        unlessBadge: true,
        unlessBadgeBefore: 'open',
        unlessBadgeWithin: '5s',
        unlessBadgeAllow: 'staff',
        scheduleMode: 'inside',
        scheduleName: 'service-hours',
      },
      {
        all: [
          { state: { open: true } },
          { not: { badge: { before: 'open', within: '5s', allow: 'staff' } } },
          { schedule: 'service-hours' },
        ],
      },
    ],
  ];
  for (const [title, over, when] of cases) {
    it(`condition ${title}`, () => {
      const r = only([tab, listen(), condition(over)]);
      assert.deepEqual(r.doc.listen.when, when);
      // And the rule parser of the gateway accepts the document as it is.
      spec(stringify(r.doc));
    });
  }

  it('every device, clear manual, no route and no engage', () => {
    const r = only([tab, listen({ all: true }), condition({ clear: 'manual', for: '' })]);
    assert.deepEqual(r.doc.listen, { devices: 'all', when: { state: { open: true } }, clear: 'manual' });
    assert.equal(r.doc.route, undefined);
    assert.equal(r.doc.engage, undefined);
  });

  it("puts the route's policy in engage and takes message and template from engage", () => {
    const r = only([
      tab,
      listen(),
      condition({ wires: [['r1']] }),
      route({ policy: 'door-security', wires: [['e1']] }),
      engage({ steps: '', template: 'door-held' }),
    ]);
    assert.deepEqual(r.doc.engage, { message: 'held open', template: 'door-held', policy: 'door-security' });
  });

  it('lets several conditions share one listen, route and engage, each rule with their settings', () => {
    const r = assemble([
      tab,
      listen({ wires: [['c1', 'c2']] }),
      condition({ wires: [['r1']] }),
      condition({ id: 'c2', rule: 'door-open-long', name: 'Door open long', for: '5m', wires: [['r1']] }),
      route({ wires: [['e1']] }),
      engage(),
    ]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.rules.map((x) => [x.rule.doc.rule, x.rule.doc.route.team, x.rule.doc.engage.message]),
      [
        ['door-held-open', 'security', 'held open'],
        ['door-open-long', 'security', 'held open'],
      ],
    );
  });

  it('ignores disabled nodes and nodes on disabled tabs', () => {
    const r = assemble([
      tab,
      { id: 't2', type: 'tab', label: 'Off', disabled: true },
      listen(),
      condition(),
      listen({ id: 'l2', z: 't2', wires: [['c2']] }),
      condition({ id: 'c2', z: 't2', rule: 'other' }),
      condition({ id: 'c3', rule: 'disabled-one', d: true }),
    ]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.rules.map((x) => x.rule.doc.rule),
      ['door-held-open'],
    );
  });

  it("groups by the listen node's gateway and lists the rules of chain-scoped incident nodes", () => {
    const r = assemble([
      tab,
      { id: 'g1', type: 'vigie-gateway', mode: 'remote', url: 'http://x' },
      listen({ gateway: 'g1', wires: [['c1', 'dbg']] }),
      condition({ wires: [['i1']] }),
      { id: 'i1', type: 'vigie-incident', z: 't1', scope: 'chain', wires: [[], []] },
      { id: 'dbg', type: 'debug', z: 't1', wires: [] },
    ]);
    assert.deepEqual(r.problems, []);
    assert.equal(r.rules[0].gateway, 'g1');
    assert.deepEqual(r.incidentRules, { i1: ['door-held-open'] });
    assert.deepEqual(r.listenOutputs, { l1: true });
  });
});

describe('assemble: problems on the node that causes them', () => {
  const table: [string, N[], string, RegExp][] = [
    ['bad duration', [tab, listen(), condition({ for: '30' })], 'c1', /for: "30" is not a duration/],
    [
      'bad threshold',
      [tab, listen(), condition({ condition: 'threshold', field: 'c', above: 'hot' })],
      'c1',
      /above: "hot" is not a number/,
    ],
    [
      'threshold without limits',
      [tab, listen(), condition({ condition: 'threshold', field: 'c' })],
      'c1',
      /give above, below or both/,
    ],
    [
      'threshold below >= above',
      [tab, listen(), condition({ condition: 'threshold', field: 'c', above: '10', below: '20' })],
      'c1',
      /below \(20\) must be less than above \(10\)/,
    ],
    ['missing rule id', [tab, listen(), condition({ rule: '' })], 'c1', /rule id missing/],
    ['bad rule id', [tab, listen(), condition({ rule: 'Door_1' })], 'c1', /not a rule id/],
    ['bad severity', [tab, listen(), condition({ severity: 'urgent' })], 'c1', /not a severity/],
    ['condition without listen', [tab, condition()], 'c1', /no vigie listen/],
    ['two listens', [tab, listen(), listen({ id: 'l2' }), condition()], 'c1', /2 vigie listen nodes/],
    ['listen without devices', [tab, listen({ kind: '' }), condition()], 'l1', /no devices selected/],
    [
      'silent without a duration',
      [tab, listen(), condition({ condition: 'absence', absence: 'silent' })],
      'c1',
      /silent for: missing/,
    ],
    [
      'count with bad YAML',
      [tab, listen(), condition({ condition: 'count', countOf: '{ state: [', atLeast: '3', within: '1m' })],
      'c1',
      /count of:/,
    ],
    [
      'count atLeast 0',
      [
        tab,
        listen(),
        condition({ condition: 'count', countOf: '{state: {a: 1}}', atLeast: '0', within: '1m' }),
      ],
      'c1',
      /at least: "0"/,
    ],
    [
      'expression with two keys',
      [tab, listen(), condition({ condition: 'expression', expression: '{status: offline, absent: 5m}' })],
      'c1',
      /exactly one key/,
    ],
    [
      'engage with steps while route has a policy',
      [
        tab,
        listen(),
        condition({ wires: [['r1']] }),
        route({ policy: 'door-security', wires: [['e1']] }),
        engage(),
      ],
      'e1',
      /remove the steps: route .* names the escalation policy "door-security"/,
    ],
    [
      'engage steps not a list',
      [tab, listen(), condition({ wires: [['e1']] }), engage({ steps: '{notify: x}' })],
      'e1',
      /non-empty list of steps/,
    ],
    [
      'second step without after',
      [tab, listen(), condition({ wires: [['e1']] }), engage({ steps: '[{notify: [a]}, {notify: [b]}]' })],
      'e1',
      /steps\[2\]\.after: missing/,
    ],
    [
      'engage without steps nor policy',
      [tab, listen(), condition({ wires: [['e1']] }), engage({ steps: '' })],
      'e1',
      /steps missing/,
    ],
    [
      'repeat without times',
      [tab, listen(), condition({ wires: [['e1']] }), engage({ repeatEvery: '2m' })],
      'e1',
      /give both every and times/,
    ],
    ['route after nothing', [tab, listen(), condition(), route()], 'r1', /not wired after a vigie condition/],
    [
      'two routes',
      [tab, listen(), condition({ wires: [['r1', 'r2']] }), route(), route({ id: 'r2' })],
      'c1',
      /reaches 2 vigie route nodes/,
    ],
    [
      'a non-Vigie node between condition and route',
      [
        tab,
        listen(),
        condition({ wires: [['fn']] }),
        { id: 'fn', type: 'function', z: 't1', wires: [['r1']] },
        route(),
      ],
      'c1',
      /wired to a function node fn/,
    ],
    [
      'engage before route',
      [tab, listen(), condition({ wires: [['e1']] }), engage({ wires: [['r1']] }), route()],
      'e1',
      /may only be followed by vigie incident/,
    ],
    [
      'incident chain scope alone',
      [tab, { id: 'i1', type: 'vigie-incident', z: 't1', scope: 'chain', wires: [[], []] }],
      'i1',
      /scope "chain"/,
    ],
    [
      'same rule id twice',
      [tab, listen({ wires: [['c1', 'c2']] }), condition(), condition({ id: 'c2' })],
      'c2',
      /also declared by condition c1/,
    ],
  ];
  for (const [title, nodes, nodeId, pattern] of table) {
    it(title, () => {
      const messages = problemsOn(nodes, nodeId);
      assert.ok(
        messages.some((m) => pattern.test(m)),
        `expected ${pattern} on ${nodeId}, got ${JSON.stringify(assemble(nodes).problems)}`,
      );
    });
  }

  it('never throws on junk', () => {
    for (const junk of [
      [],
      [null],
      [{}],
      [{ id: 'x', type: 'vigie-condition', wires: 'no' }],
      [{ id: 'l', type: 'vigie-listen', wires: [[5]] }],
    ]) {
      const r = assemble(junk as unknown[]);
      assert.ok(Array.isArray(r.rules) && Array.isArray(r.problems));
    }
  });
});
