import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../gateway/src/core/errors.js';
import { loadScenario, parseScenario } from './scenario.js';

const minimal = `
site: lab
devices:
  - { id: d1, kind: door, traffic: 30s }
  - { id: t1, kind: temperature, every: 5s }
episodes:
  - { at: 3s, device: d1, type: held-open, for: 1m }
`;

function problemsOf(text: string): string[] {
  try {
    parseScenario(text, 'x.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'VIGIE_ERR_CONFIG_INVALID');
    return err.problems.map((p) => `${p.line}: ${p.message}`);
  }
  assert.fail('the scenario was accepted');
}

test('scenario - durations become milliseconds and defaults are filled', () => {
  const s = parseScenario(minimal);
  assert.equal(s.loop, 600_000);
  assert.equal(s.devices[0].traffic, 30_000);
  assert.equal(s.devices[0].openFor, 4000);
  assert.equal(s.devices[1].every, 5000);
  assert.deepEqual(s.episodes[0], { type: 'held-open', at: 3000, device: 'd1', for: 60_000 });
});

test('scenario - the airport scenario loads and covers the example site', () => {
  const s = loadScenario(
    fileURLToPath(new URL('../../../firmware-sim/scenarios/airport.yaml', import.meta.url)),
  );
  assert.equal(s.site, 'airport');
  const ids = s.devices.map((d) => d.id);
  for (const id of [
    'door-g12',
    'door-staff-b',
    'door-lobby',
    'temp-hall-b',
    'temp-lounge',
    'aed-hall-b',
    'coffee-lounge-1',
  ]) {
    assert.ok(ids.includes(id), id);
  }
});

test('scenario - a bare number where a duration is expected is rejected with its line', () => {
  const problems = problemsOf(minimal.replace('every: 5s', 'every: 5'));
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^5: devices\.1\.every/);
});

test('scenario - an unknown duration unit is rejected', () => {
  assert.match(problemsOf(minimal.replace('traffic: 30s', 'traffic: 30 seconds'))[0], /not a duration/);
});

test('scenario - an episode on an unknown device or the wrong kind is rejected', () => {
  const unknown = problemsOf(minimal.replace('device: d1', 'device: nope'));
  assert.match(unknown[0], /^7: episode held-open: unknown device nope/);
  const wrongKind = problemsOf(minimal.replace('device: d1', 'device: t1'));
  assert.match(wrongKind[0], /needs a door, t1 is a temperature/);
});

test('scenario - a Zigbee device needs its bridge and topic, and the bridge must be declared', () => {
  const base = `site: lab\ndevices:\n  - { id: z, kind: door, format: zigbee2mqtt, via: br, topic: zigbee2mqtt/z }\n`;
  assert.match(problemsOf(base)[0], /bridge br is not in bridges/);
  assert.match(problemsOf(base.replace(', topic: zigbee2mqtt/z', ''))[0], /needs `via`/);
  assert.doesNotThrow(() => parseScenario(base + 'bridges: [{ username: br }]\n'));
});

test('scenario - an episode after the end of the loop and duplicate devices are rejected', () => {
  const late = problemsOf(minimal.replace('at: 3s', 'at: 11m'));
  assert.match(late[0], /starts after the loop ends/);
  const dup = problemsOf(
    minimal.replace('id: t1', 'id: d1').replace('device: d1, type: held-open', 'device: d1, type: forced'),
  );
  assert.ok(dup.some((p) => /listed twice/.test(p)));
});

test('scenario - YAML syntax errors carry their line', () => {
  assert.match(problemsOf('site: lab\ndevices: [\n')[0], /^\d+: /);
});
