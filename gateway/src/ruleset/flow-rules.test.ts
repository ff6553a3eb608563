import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadRuleSet } from '../../../rules/src/index.js';
import type { FlowRuleDoc } from '../red/link.js';
import { loadSite } from '../site/load.js';
import { compileFlowRules } from './flow-rules.js';
import { ruleEnvFor } from './manager.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const site = loadSite(join(ROOT, 'rules/examples/site.yaml'));
const env = ruleEnvFor(site, new Set(['console', 'ops-webhook']));

const NODES = { condition: 'c1', listen: 'l1', route: 'r1', engage: 'e1' };

/** The temperature rule of rules/examples/temperature.yaml, as the Node-RED nodes assemble it. */
function temperatureDoc(over: { doc?: Record<string, unknown>; nodes?: FlowRuleDoc['nodes'] } = {}) {
  const doc: Record<string, unknown> = {
    rule: 'temperature-out-of-range',
    name: 'Temperature out of range',
    severity: 'minor',
    description: 'Public areas above 27 °C or below 16 °C for 30 seconds.',
    listen: {
      devices: { kind: 'temperature', zones: ['hall-b', 'gates-g'] },
      when: { threshold: { field: 'celsius', above: 27, below: 16, hysteresis: 1 } },
      for: '30s',
    },
    route: { team: 'maintenance', context: ['location'] },
    engage: {
      message: '{device.name} ({device.location}): {values.celsius} °C ({reason})',
      steps: [
        { notify: ['team:maintenance'], via: ['console', 'ops-webhook?'] },
        { after: '60s', notify: ['team:maintenance-supervisors'], via: ['console', 'ops-webhook?'] },
      ],
    },
    ...over.doc,
  };
  return { doc, nodes: over.nodes ?? NODES, flow: { id: 'tab1', label: 'Temperatures' } };
}

/** Replaces one key below `listen`, `route` or `engage` of the temperature doc. */
function edit(section: string, key: string, value: unknown, nodes?: FlowRuleDoc['nodes']): FlowRuleDoc {
  const base = temperatureDoc().doc;
  const part = { ...(base[section] as Record<string, unknown>), [key]: value };
  return temperatureDoc({ doc: { [section]: part }, nodes });
}

describe('flow rules - compileFlowRules', () => {
  it('compiles a flow rule to the same rule as its YAML file, marked with its source', () => {
    const { rules, problems } = compileFlowRules('node-red', [temperatureDoc()], env);
    assert.deepEqual(problems, []);
    assert.equal(rules.length, 1);
    const text = readFileSync(join(ROOT, 'rules/examples/temperature.yaml'), 'utf8');
    const yaml = loadRuleSet([{ file: 'temperature.yaml', text }], env).rules[0];
    const flow = rules[0];
    assert.equal(flow.id, 'temperature-out-of-range');
    assert.equal(flow.file, 'node-red:node-red');
    assert.equal(flow.line, 1);
    // Same hash: the engine treats both as the same rule (state kept when one replaces the other).
    assert.equal(flow.hash, yaml.hash);
    assert.deepEqual(flow.engage, yaml.engage);
    assert.deepEqual(flow.selector, yaml.selector);
    assert.equal(flow.forMs, 30_000);
  });

  it('reports a bad threshold on the condition node, readable without the generated text', () => {
    const doc = edit('listen', 'when', { threshold: { field: 'celsius', above: 'hot' } });
    const { rules, problems } = compileFlowRules('node-red', [doc], env);
    assert.deepEqual(rules, []);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].nodeId, 'c1');
    assert.equal(problems[0].rule, 'temperature-out-of-range');
    assert.match(problems[0].message, /^listen\.when\.threshold\.above: .*"hot"/);
    assert.doesNotMatch(problems[0].message, /line \d|:\d+:/);
  });

  it('reports an unknown team on the route node', () => {
    const { problems } = compileFlowRules('node-red', [edit('route', 'team', 'plumbers')], env);
    assert.deepEqual(problems, [
      {
        nodeId: 'r1',
        rule: 'temperature-out-of-range',
        message: 'route.team: "plumbers" is not a team of the site',
      },
    ]);
  });

  it('reports an unknown device kind on the listen node', () => {
    const doc = edit('listen', 'devices', { kind: 'toaster' });
    const { problems } = compileFlowRules('node-red', [doc], env);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].nodeId, 'l1');
    assert.match(problems[0].message, /^listen\.devices\.kind: "toaster" is not a device kind/);
  });

  it('reports a bad duration on the condition node (for) and on the engage node (steps)', () => {
    const forDoc = edit('listen', 'for', 'soon');
    const steps = [{ notify: ['team:maintenance'] }, { after: '5 minutes', notify: ['team:maintenance'] }];
    const stepDoc = edit('engage', 'steps', steps);
    stepDoc.doc.rule = 'other-rule';
    const { problems } = compileFlowRules('node-red', [forDoc, stepDoc], env);
    assert.deepEqual(
      problems.map((p) => [p.nodeId, p.rule, p.message]),
      [
        ['c1', 'temperature-out-of-range', 'listen.for: "soon" is not a duration (use 500ms, 30s, 5m, 1h)'],
        ['e1', 'other-rule', 'engage.steps[2].after: "5 minutes" is not a duration (use 500ms, 30s, 5m, 1h)'],
      ],
    );
  });

  it('reports a policy with steps on the engage node, and an unknown policy on the route node', () => {
    const both = edit('engage', 'policy', 'door-security');
    const { problems } = compileFlowRules('node-red', [both], env);
    assert.deepEqual(
      problems.map((p) => [p.nodeId, p.message]),
      [['e1', 'engage: give steps or a policy, not both']],
    );
    const unknown = temperatureDoc({ doc: { engage: { policy: 'nobody-cares' } } });
    const second = compileFlowRules('node-red', [unknown], env).problems;
    assert.equal(second.length, 1);
    assert.equal(second[0].nodeId, 'r1');
    assert.match(second[0].message, /^engage\.policy: "nobody-cares" is not a policy of the site/);
  });

  it('falls back to the condition node when the chain has no route or listen node', () => {
    const doc = edit('route', 'team', 'plumbers', { condition: 'c9' });
    assert.equal(compileFlowRules('node-red', [doc], env).problems[0].nodeId, 'c9');
    const missing = temperatureDoc({ doc: { listen: { when: { status: 'offline' } } } });
    const p = compileFlowRules('node-red', [missing], env).problems;
    assert.deepEqual(
      p.map((x) => [x.nodeId, x.message]),
      [['l1', 'listen.devices: missing (which devices: kind, ids, zones, tags, or all)']],
    );
  });

  it('reports a rule id used by two condition nodes on both', () => {
    const a = temperatureDoc();
    const b = temperatureDoc({ nodes: { condition: 'c2', listen: 'l2' } });
    const { rules, problems } = compileFlowRules('node-red', [a, b], env);
    assert.deepEqual(rules, []);
    assert.deepEqual(
      problems.map((p) => p.nodeId),
      ['c1', 'c2'],
    );
    assert.match(
      problems[0].message,
      /^rule: "temperature-out-of-range" is also the rule id of condition node c2/,
    );
    assert.match(problems[0].message, /flow "Temperatures"/);
  });

  it('accepts several valid rules and a rule without route and engage (incident only)', () => {
    const bare = {
      doc: {
        rule: 'aed-open',
        name: 'AED cabinet open',
        severity: 'major',
        listen: { devices: 'all', when: { state: { open: true } } },
      },
      nodes: { condition: 'c3', listen: 'l3' },
    };
    const { rules, problems } = compileFlowRules('lab', [temperatureDoc(), bare], env);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      rules.map((r) => [r.id, r.file]),
      [
        ['temperature-out-of-range', 'node-red:lab'],
        ['aed-open', 'node-red:lab'],
      ],
    );
    assert.deepEqual(rules[1].engage.steps, []);
  });
});
