import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { parse as parseYaml } from 'yaml';
import { loadSite, parseSite } from './load.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const HASH = 'scrypt$16384$8$1$HMEyoLNuKj2LMdeLtVanSw==$u3yGVraVR/DmMd1Ju1HxynK+ZLO9eGTYFN7wvJxawtU=';

/** A small valid site; `edit` replaces one marked line to introduce one problem at a known line. */
function site(edit: Record<string, string> = {}): string {
  const lines = [
    'site: mall', // 1
    'name: Mall', // 2
    'timezone: Europe/Paris', // 3
    'kinds:', // 4
    '  smoke:', // 5
    '    fields:', // 6
    '      alarm: { type: boolean, required: true }', // 7
    'people:', // 8
    '  - { id: ann, name: Ann }', // 9
    'teams:', // 10
    '  - { id: sec, name: Security, members: [ann] }', // 11
    'devices:', // 12
    '  - id: door-1', // 13
    '    kind: door', // 14
    '    zone: hall', // 15
    '    heartbeat: 2m', // 16
    `    credentials: { passwordHash: '${HASH}' }`, // 17
    '  - id: smoke-1', // 18
    '    kind: smoke', // 19
    '    zone: hall', // 20
    '    tags: [ceiling]', // 21
    '  - id: z-door', // 22
    '    kind: door', // 23
    '    zone: hall', // 24
    '    source: { topic: zigbee2mqtt/front, adapter: zigbee2mqtt-door }', // 25
    'clients:', // 26
    `  - { username: bridge, passwordHash: '${HASH}', publish: ['zigbee2mqtt/#'] }`, // 27
  ];
  for (const [n, text] of Object.entries(edit)) lines[Number(n) - 1] = text;
  return lines.join('\n') + '\n';
}

test('site - a valid site loads with defaults filled in', () => {
  const { site: s, problems } = parseSite('site.yaml', site());
  assert.deepEqual(problems, []);
  assert.ok(s);
  assert.equal(s.id, 'mall');
  const door = s.devices.find((d) => d.id === 'door-1')!;
  assert.deepEqual(door.credentials, { username: 'door-1', passwordHash: HASH });
  assert.equal(door.site, 'mall');
  assert.equal(door.name, 'door-1');
  assert.equal(door.heartbeatMs, 120_000);
  assert.deepEqual(door.tags, []);
  assert.ok(s.kinds.door && s.kinds.smoke, 'built-in and site kinds');
  assert.ok(s.adapters['zigbee2mqtt-door']);
  assert.ok(Object.isFrozen(s.devices[0]));
});

test('site - the example airport site loads', () => {
  const s = loadSite(join(ROOT, 'rules/examples/site.yaml'));
  assert.equal(s.id, 'airport');
  assert.ok(s.devices.length >= 10);
});

test('site - each problem is reported with its line', () => {
  const cases: Array<[Record<string, string>, number, RegExp]> = [
    [{ 16: '    heartbeat: 2m\n    colour: red' }, 17, /devices\[0\]\.colour: unknown key/],
    [{ 18: '  - id: door-1' }, 18, /duplicate device id "door-1"/],
    [{ 19: '    kind: fridge' }, 19, /unknown kind "fridge"/],
    [{ 5: '  incidents:' }, 5, /"incidents" is reserved/],
    [{ 19: '    kind: incidents' }, 19, /reserved/],
    [{ 11: '  - { id: sec, name: Security, members: [ann, bob] }' }, 11, /"bob" is not one of the people/],
    [
      { 25: '    source: { topic: zigbee2mqtt/front, adapter: zigbee-door }' },
      25,
      /unknown adapter "zigbee-door"/,
    ],
    [
      { 25: '    source: { topic: zigbee2mqtt/front, adapter: zigbee2mqtt-temperature }' },
      25,
      /does not produce "open"/,
    ],
    [{ 16: '    heartbeat: 120' }, 16, /"120" is not a duration/],
    [{ 17: "    credentials: { passwordHash: 'hunter2' }" }, 17, /not a password hash/],
    [
      { 27: "  - { username: bridge, passwordHash: 'x', publish: ['zigbee2mqtt/#'] }" },
      27,
      /not a password hash/,
    ],
    [{ 13: '  - id: door/1' }, 13, /ids appear in MQTT topics/],
    [{ 13: "  - id: 'door+1'" }, 13, /ids appear in MQTT topics/],
    [{ 1: 'site: mall#1' }, 1, /ids appear in MQTT topics/],
    [{ 3: 'timezone: Mars/Olympus' }, 3, /unknown time zone/],
    [{ 27: `  - { username: door-1, passwordHash: '${HASH}' }` }, 27, /already used/],
    [
      { 27: `  - { username: bridge, passwordHash: '${HASH}', publish: ['a/#/b'] }` },
      27,
      /not a valid MQTT topic filter/,
    ],
    [
      { 25: '    source: { topic: vigie/mall/door/door-1, adapter: zigbee2mqtt-door }' },
      25,
      /cannot be a source topic/,
    ],
    [{ 2: 'name: Mall\nname: Again' }, 3, /unique|duplicate/i],
    [{ 20: '    zone: a: b' }, 20, /mapping/i],
  ];
  for (const [edit, line, message] of cases) {
    const { site: s, problems } = parseSite('site.yaml', site(edit));
    assert.equal(s, undefined, JSON.stringify(edit));
    assert.ok(problems.length >= 1, JSON.stringify(edit));
    const hit = problems.find((p) => message.test(p.message));
    assert.ok(hit, `${JSON.stringify(edit)}: got ${JSON.stringify(problems)}`);
    assert.equal(hit.line, line, `${JSON.stringify(edit)}: ${hit.message}`);
    assert.equal(hit.file, 'site.yaml');
  }
});

test('site - loadSite throws a coded error listing every problem', () => {
  assert.throws(
    () => loadSite(join(ROOT, 'no/such/site.yaml')),
    (e: unknown) => e instanceof ConfigError && e.code === 'VIGIE_ERR_SITE_INVALID',
  );
  const { problems } = parseSite('s.yaml', site({ 19: '    kind: fridge', 16: '    heartbeat: soon' }));
  assert.deepEqual(
    problems.map((p) => p.line),
    [16, 19],
  );
});

test('site - a site written as JSON loads the same, and its problems still carry lines', () => {
  const yaml = parseSite('mall.yaml', site());
  assert.deepEqual(yaml.problems, []);
  const json = JSON.stringify(parseYaml(site()), null, 1);
  const same = parseSite('mall.json', json);
  assert.deepEqual(same.problems, []);
  assert.deepEqual(same.site, yaml.site);
  const lines = json.split('\n');
  const zoneLine = lines.findIndex((l) => l.includes('"zone": "hall"')) + 1;
  const bad = lines.map((l, i) => (i + 1 === zoneLine ? l.replace('"hall"', '42') : l)).join('\n');
  const r = parseSite('mall.json', bad);
  assert.equal(r.site, undefined);
  assert.equal(r.problems.length, 1, JSON.stringify(r.problems));
  assert.equal(r.problems[0].line, zoneLine);
  assert.match(r.problems[0].message, /zone/);
});
