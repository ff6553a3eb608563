import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FlowRuleDoc } from '../../../gateway/src/red/link.js';
import { compileFlowRules } from '../../../gateway/src/ruleset/flow-rules.js';
import { ruleEnvFor } from '../../../gateway/src/ruleset/manager.js';
import { loadSite } from '../../../gateway/src/site/load.js';
import { loadRuleSet, type CompiledRule } from '../../src/compile.js';
import { Engine } from '../../src/engine.js';
import type { SensorEvent, Transition } from '../../src/model.js';
import { TestClock } from '../../src/test-support.js';

// Issue 5: the example flows declare the very rules of rules/examples/*.yaml. Both are compiled
// against the example airport site and one recorded hour of that site is replayed through each:
// the incidents must be the same, at the same times, for the same reasons.

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/rules/node-red/test: the repository is 4 levels up.
const ROOT = join(here, '../../../..');
const EXAMPLES = join(ROOT, 'rules/examples');
const FLOWS = join(ROOT, 'rules/node-red/examples');
const STREAM = join(ROOT, 'rules/node-red/test/fixtures/airport-hour.jsonl');
const GATEWAY = 'vigie-gw-embedded';

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  [field: string]: unknown;
}
type Assemble = (nodes: readonly FlowNode[]) => {
  rules: { gateway: string; rule: FlowRuleDoc }[];
  problems: { nodeId: string; message: string }[];
};
const { assemble } = createRequire(import.meta.url)(join(ROOT, 'rules/node-red/lib/assemble.js')) as {
  assemble: Assemble;
};

const site = loadSite(join(EXAMPLES, 'site.yaml'));
const env = ruleEnvFor(site, new Set(['console', 'ops-webhook']));

const flowFiles = readdirSync(FLOWS)
  .filter((f) => f.endsWith('.json'))
  .sort();
const flows = flowFiles.map((f) => JSON.parse(readFileSync(join(FLOWS, f), 'utf8')) as FlowNode[]);

/** Importing several example flows adds their shared config node once, as Node-RED does. */
function imported(all: readonly FlowNode[][]): FlowNode[] {
  const byId = new Map<string, FlowNode>();
  for (const n of all.flat()) {
    const seen = byId.get(n.id);
    if (seen) assert.deepEqual(n, seen, `node id ${n.id} is used by two different nodes`);
    else byId.set(n.id, n);
  }
  return [...byId.values()];
}

function yamlRules(): CompiledRule[] {
  const files = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml') && f !== 'site.yaml' && !f.endsWith('.test.yaml'))
    .sort()
    .map((f) => ({ file: `rules/examples/${f}`, text: readFileSync(join(EXAMPLES, f), 'utf8') }));
  const { rules, problems } = loadRuleSet(files, env);
  assert.deepEqual(problems, []);
  return rules;
}

function flowRules(nodes: readonly FlowNode[]): CompiledRule[] {
  const assembled = assemble(nodes);
  assert.deepEqual(assembled.problems, []);
  const { rules, problems } = compileFlowRules(
    'node-red',
    assembled.rules.map((r) => r.rule),
    env,
  );
  assert.deepEqual(problems, []);
  return rules;
}

/** Where a rule was written: the only fields allowed to differ between the two authorings. */
const POSITIONAL = ['file', 'line'] as const;

/** A compiled rule as plain data: closures are compared by what they do and say. */
function meaning(r: CompiledRule): Record<string, unknown> {
  const out: Record<string, unknown> = { ...r };
  for (const k of POSITIONAL) delete out[k];
  delete out.matches;
  out.devices = site.devices.filter((d) => r.matches(d)).map((d) => d.id);
  out.condition = {
    text: r.condition.root.text,
    timeDriven: r.condition.timeDriven,
    whenHash: r.condition.whenHash,
    sub: r.condition.initSub(),
  };
  return out;
}

const stream: SensorEvent[] = readFileSync(STREAM, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as SensorEvent);
const START = stream[0].receivedAt;

type Seen = Pick<Transition, 'type' | 'ruleId' | 'deviceId' | 'at' | 'triggerTs' | 'reason' | 'severity'>;

/** The gateway's loop with a manual clock: each timer fires at its due time, between the events. */
function replay(rules: CompiledRule[]): Seen[] {
  const clock = new TestClock(START);
  const engine = new Engine({ clock });
  engine.setRules(rules);
  engine.setDevices(site.devices);
  const seen: Seen[] = [];
  const keep = (ts: readonly Transition[]) => {
    for (const { type, ruleId, deviceId, at, triggerTs, reason, severity } of ts)
      seen.push({ type, ruleId, deviceId, at, triggerTs, reason, severity });
  };
  const runUntil = (t: number) => {
    for (let due = engine.nextDue(); due !== undefined && due <= t; due = engine.nextDue()) {
      clock.t = Math.max(clock.t, due);
      keep(engine.advance());
    }
    clock.t = Math.max(clock.t, t);
  };
  for (const ev of stream) {
    runUntil(ev.receivedAt);
    keep(engine.ingest(ev));
  }
  runUntil(stream.at(-1)!.receivedAt);
  return seen;
}

/** `mm:ss type rule device`, minutes after the start of the recording (Monday 18:30 in Paris). */
function timeline(seen: readonly Seen[]): string[] {
  return seen.map((s) => {
    const sec = Math.round((s.at - START) / 1000);
    const mmss = `${String(Math.floor(sec / 60)).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
    return `${mmss} ${s.type} ${s.ruleId} ${s.deviceId}`;
  });
}

describe('example flows and the YAML example rules', () => {
  it('the five flows assemble without problems into the rules of the YAML examples, on the embedded gateway', () => {
    assert.deepEqual(flowFiles, [
      '01-doors.json',
      '02-temperature.json',
      '03-aed.json',
      '04-appliance.json',
      '05-sensor-offline.json',
    ]);
    for (const [i, flow] of flows.entries()) {
      assert.equal(flow.filter((n) => n.type === 'tab').length, 1, `${flowFiles[i]}: one tab`);
      assert.equal(flow.find((n) => n.type === 'vigie-gateway')?.id, GATEWAY, `${flowFiles[i]}: config node`);
    }
    const assembled = assemble(imported(flows));
    assert.deepEqual(assembled.problems, []);
    assert.deepEqual(
      assembled.rules.map((r) => r.gateway),
      assembled.rules.map(() => GATEWAY),
    );
    assert.deepEqual(
      assembled.rules.map((r) => String(r.rule.doc.rule)).sort(),
      yamlRules()
        .map((r) => r.id)
        .sort(),
    );
  });

  it('every flow rule compiles to the YAML rule of the same id, but for where it was written', () => {
    const yaml = yamlRules();
    const flow = flowRules(imported(flows));
    assert.equal(flow.length, yaml.length);
    for (const y of yaml) {
      const f = flow.find((r) => r.id === y.id);
      assert.ok(f, `no flow rule ${y.id}`);
      assert.deepEqual(meaning(f), meaning(y), y.id);
      // The hash leaves positions out: the same meaning written elsewhere is the same rule.
      assert.equal(f.hash, y.hash, `${y.id}: hash`);
      assert.equal(f.file, 'node-red:node-red');
      assert.match(y.file, /^rules\/examples\/[a-z-]+\.yaml$/);
    }
  });

  it('one recorded hour of the airport gives the same incidents at the same times through both', () => {
    const yaml = replay(yamlRules());
    const flow = replay(flowRules(imported(flows)));
    assert.deepEqual(flow, yaml);
    // Every scenario of the recording is exercised: a stream that stops doing so fails here.
    assert.deepEqual(timeline(yaml), [
      '02:35 open door-held-open door-g12',
      '02:50 clear door-held-open door-g12',
      '06:30 open temperature-out-of-range temp-hall-b',
      '13:00 clear temperature-out-of-range temp-hall-b',
      '15:05 open door-forced door-staff-b',
      '15:15 clear door-forced door-staff-b',
      '20:08 open door-forced door-staff-b',
      '20:18 clear door-forced door-staff-b',
      '21:30 open server-room-overheat temp-server-room',
      '25:00 clear server-room-overheat temp-server-room',
      '30:05 open aed-removed aed-hall-b',
      '33:05 clear aed-removed aed-hall-b',
      '33:25 open appliance-fault coffee-lounge-1',
      '34:25 clear appliance-fault coffee-lounge-1',
      '36:45 open appliance-fault coffee-lounge-1',
      '37:45 clear appliance-fault coffee-lounge-1',
      '40:05 open appliance-fault coffee-lounge-1',
      '40:05 open appliance-repeated-faults coffee-lounge-1',
      '40:10 open door-outside-hours door-service-1',
      '40:30 clear door-outside-hours door-service-1',
      '41:00 open sensor-offline temp-gate-g',
      '41:05 clear appliance-fault coffee-lounge-1',
      '43:25 clear appliance-repeated-faults coffee-lounge-1',
      '46:00 clear sensor-offline temp-gate-g',
      '50:05 open sensor-offline door-g14',
      '52:05 clear sensor-offline door-g14',
    ]);
    const perRule = new Map<string, number>();
    for (const s of yaml) perRule.set(s.ruleId, (perRule.get(s.ruleId) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...perRule].sort()), {
      'aed-removed': 2,
      'appliance-fault': 6,
      'appliance-repeated-faults': 2,
      'door-forced': 4,
      'door-held-open': 2,
      'door-outside-hours': 2,
      'sensor-offline': 4,
      'server-room-overheat': 2,
      'temperature-out-of-range': 2,
    });
  });

  it('a flow that differs from its YAML rule (a longer duration) gives different incidents', () => {
    const changed = imported(flows).map((n) =>
      n.id === 'temperature-out-of-range-condition' ? { ...n, for: '45s' } : n,
    );
    const yaml = replay(yamlRules());
    const flow = replay(flowRules(changed));
    assert.notDeepEqual(flow, yaml);
    const opened = (seen: Seen[]) =>
      seen.find((s) => s.type === 'open' && s.ruleId === 'temperature-out-of-range')!;
    assert.equal(opened(flow).at - opened(yaml).at, 15_000);
  });
});
