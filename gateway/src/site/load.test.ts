import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { parse as parseYaml } from 'yaml';
import { channelNamesUsed, loadSite, parseSite } from './load.js';

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

/** People, on-call and policies; `edit` replaces marked lines like `site()`. */
function escalation(edit: Record<string, string> = {}): string {
  const lines = [
    'site: mall', // 1
    'timezone: Europe/Paris', // 2
    'language: fr', // 3
    'people:', // 4
    '  - id: amina', // 5
    '    name: Amina', // 6
    '    channels: { critical: [voice, sms], default: [email] }', // 7
    "    quietHours: { from: '22:00', to: '07:00' }", // 8
    '  - { id: bob, name: Bob, channels: { default: [sms] } }', // 9
    '  - { id: luc, name: Luc, language: en }', // 10
    'teams:', // 11
    '  - { id: security, name: Security, members: [amina, bob] }', // 12
    'oncall:', // 13
    '  night:', // 14
    '    timezone: Europe/Paris', // 15
    '    rotation:', // 16
    '      members: [amina, bob]', // 17
    '      every: 1w', // 18
    "      start: '2026-11-02T08:00'", // 19
    '    overrides:', // 20
    "      - { person: luc, from: '2026-11-24T20:00', to: '2026-11-25T08:00' }", // 21
    'policies:', // 22
    '  door:', // 23
    '    tiers:', // 24
    '      - notify: [night, team:security]', // 25
    '        via: [voice, sms]', // 26
    '        mode: parallel', // 27
    '        wait: 5m', // 28
    '      - notify: [person:bob, security]', // 29
    '        mode: sequential', // 30
    '        every: 2m', // 31
    '        wait: 10m', // 32
    '    repeat: 2', // 33
  ];
  for (const [n, text] of Object.entries(edit)) lines[Number(n) - 1] = text;
  return lines.join('\n') + '\n';
}

test('site - people preferences, on-call schedules and policies load, bare ids typed', () => {
  const { site: s, problems } = parseSite('site.yaml', escalation());
  assert.deepEqual(problems, []);
  assert.ok(s);
  assert.equal(s.language, 'fr');
  assert.deepEqual(s.people[0].channels, { critical: ['voice', 'sms'], default: ['email'] });
  assert.deepEqual(s.people[0].quietHours, { from: '22:00', to: '07:00' });
  assert.deepEqual(s.oncall.night, {
    id: 'night',
    timezone: 'Europe/Paris',
    rotation: { members: ['amina', 'bob'], everyMs: 7 * 86_400_000, start: '2026-11-02T08:00' },
    overrides: [{ person: 'luc', from: '2026-11-24T20:00', to: '2026-11-25T08:00' }],
  });
  assert.deepEqual(s.policies.door, {
    id: 'door',
    tiers: [
      { notify: ['oncall:night', 'team:security'], via: ['voice', 'sms'], mode: 'parallel', waitMs: 300_000 },
      {
        notify: ['person:bob', 'team:security'],
        via: [],
        mode: 'sequential',
        everyMs: 120_000,
        waitMs: 600_000,
      },
    ],
    repeat: { times: 2, afterMs: 600_000 },
  });
  const plain = parseSite('site.yaml', site()).site!;
  assert.equal(plain.language, 'en', 'default language');
  assert.deepEqual(plain.oncall, {});
  assert.deepEqual(plain.policies, {});
});

test('site - escalation problems are reported with their line', () => {
  const cases: Array<[Record<string, string>, number, RegExp]> = [
    [{ 25: '      - notify: [nightshift, team:security]' }, 25, /unknown "nightshift"/],
    [{ 25: '      - notify: [night, team:sec]' }, 25, /unknown "team:sec"/],
    [{ 25: '      - notify: [night, group:security]' }, 25, /write person:ID, team:ID or oncall:ID/],
    [{ 29: '      - notify: [person:zoe]' }, 29, /unknown "person:zoe"/],
    [{ 17: '      members: [amina, zoe]' }, 17, /"zoe" is not one of the people/],
    [
      { 21: "      - { person: zoe, from: '2026-11-24T20:00', to: '2026-11-25T08:00' }" },
      21,
      /"zoe" is not one of the people/,
    ],
    [{ 21: "      - { person: luc, from: '2026-11-24T20:00', to: '2026-11-24T20:00' }" }, 21, /is not after/],
    [
      { 21: "      - { person: luc, from: '2026-11-24T20:00', to: '2026-02-30T08:00' }" },
      21,
      /YYYY-MM-DDTHH:MM/,
    ],
    [{ 19: "      start: '2026-11-02 8h'" }, 19, /YYYY-MM-DDTHH:MM/],
    [{ 19: "      start: '2026-11-02T08:00+01:00'" }, 19, /no offset/],
    [{ 15: '    timezone: Europe/Pariss' }, 15, /unknown time zone "Europe\/Pariss"/],
    [{ 8: "    quietHours: { from: '22:00', to: '07:00', timezone: Mars/Base }" }, 8, /unknown time zone/],
    [{ 18: '      every: 1 week' }, 18, /"1 week" is not a duration/],
    [{ 18: '      every: 0d' }, 18, /must be longer than 0/],
    [{ 28: '        wait: 300' }, 28, /"300" is not a duration/],
    [{ 27: '        mode: parallel\n        every: 2m' }, 28, /every is for sequential tiers/],
    [{ 31: '' }, 30, /sequential tier needs every/],
    [{ 28: '' }, 25, /needs wait/],
    [{ 32: '' }, 33, /give repeatAfter/],
    [
      Object.fromEntries([[24, '    tiers: []'], ...[25, 26, 27, 28, 29, 30, 31, 32].map((n) => [n, ''])]),
      24,
      /at least one tier/,
    ],
    [{ 29: '      - notify: []' }, 29, /at least one person/],
    [{ 8: "    quietHours: { from: '22:00', to: '22:00' }" }, 8, /from and to are the same/],
    [{ 7: '    channels: { critical: [voice], urgent: [sms] }' }, 7, /channels\.urgent: unknown key/],
    [{ 3: 'language: de' }, 3, /language/],
    [{ 10: '  - { id: luc, name: Luc, language: de }' }, 10, /language/],
    [{ 26: '        via: [voice, sms]\n        escalate: yes' }, 27, /unknown key/],
    [{ 9: '  - { id: luc, name: Bob, channels: { default: [sms] } }' }, 10, /duplicate person id "luc"/],
    [{ 26: '' }, 25, /"luc" has no channels/],
    [{ 33: '    repeat: 2\n  door:\n    tiers: [{ notify: [bob] }]' }, 34, /unique/i],
  ];
  for (const [edit, line, message] of cases) {
    const { site: s, problems } = parseSite('site.yaml', escalation(edit));
    assert.equal(s, undefined, JSON.stringify(edit));
    const hit = problems.find((p) => message.test(p.message));
    assert.ok(hit, `${JSON.stringify(edit)}: got ${JSON.stringify(problems)}`);
    assert.equal(hit.line, line, `${JSON.stringify(edit)}: ${hit.message}`);
  }
});

test('site - channel names are listed for the gateway, and checked with lines when it gives them', () => {
  const s = parseSite('site.yaml', escalation()).site!;
  assert.deepEqual(channelNamesUsed(s), [
    { name: 'voice', where: 'people[0].channels.critical[0]' },
    { name: 'sms', where: 'people[0].channels.critical[1]' },
    { name: 'email', where: 'people[0].channels.default[0]' },
    { name: 'sms', where: 'people[1].channels.default[0]' },
    { name: 'voice', where: 'policies.door.tiers[0].via[0]' },
    { name: 'sms', where: 'policies.door.tiers[0].via[1]' },
  ]);
  const { problems } = parseSite('site.yaml', escalation(), { channels: ['voice', 'sms'] });
  assert.deepEqual(
    problems.map((p) => [p.line, p.message]),
    [
      [
        7,
        'people[0].channels.default[0]: unknown channel "email" (configured: voice, sms; write "email?" if it is optional)',
      ],
    ],
  );
  // `email?` is optional: dropped where the gateway has no such channel, kept where it has.
  const optional = escalation().replace('default: [email]', 'default: [email?, sms]');
  const bare = parseSite('site.yaml', optional, { channels: ['voice', 'sms'] });
  assert.deepEqual(bare.problems, []);
  assert.deepEqual(bare.site!.people[0].channels?.default, ['sms']);
  const full = parseSite('site.yaml', optional, { channels: ['voice', 'sms', 'email'] });
  assert.deepEqual(full.site!.people[0].channels?.default, ['email', 'sms']);
  assert.deepEqual(
    parseSite('site.yaml', escalation(), { channels: ['voice', 'sms', 'email'] }).problems,
    [],
  );
});

/** Technicians and a dispatch profile; `edit` replaces marked lines like `site()`. */
function dispatch(edit: Record<string, string> = {}): string {
  const lines = [
    'site: cdg', // 1
    'timezone: Europe/Paris', // 2
    'people:', // 3
    "  - { id: nora, name: Nora, phone: '+33600000009' }", // 4
    '  - { id: sam, name: Sam, email: sam@example.test }', // 5
    'teams:', // 6
    '  - { id: service-desk, name: Service desk, members: [nora, sam] }', // 7
    'technicians:', // 8
    '  - id: tech-hugo', // 9
    '    name: Hugo Martin', // 10
    "    phone: '+33612345611'", // 11
    '    language: fr', // 12
    '    skills: [coffee-machines, plumbing]', // 13
    '    base: { lat: 48.99, lon: 2.55 }', // 14
    "    shift: { days: [mon, tue, wed, thu, fri], from: '07:00', to: '19:00' }", // 15
    "  - { id: tech-lea, name: Léa Bernard, phone: '+33612345612', skills: [electrical], base: { lat: 48.9, lon: 2.5 } }", // 16
    'dispatch:', // 17
    '  appliance-repair:', // 18
    '    skills: { E21: [plumbing], E30: [electrical], default: [coffee-machines] }', // 19
    '    offerTimeout: 10m', // 20
    '    dispatchers: service-desk', // 21
    '    sms: sms', // 22
    '    email: email?', // 23
    '    travelMinutes: { roissy-north: { tech-hugo: 25 } }', // 24
    '    notifyCustomer: [sms, email]', // 25
  ];
  for (const [n, text] of Object.entries(edit)) lines[Number(n) - 1] = text;
  return lines.join('\n') + '\n';
}

test('site - technicians and dispatch profiles load, with their defaults', () => {
  const { site: s, problems } = parseSite('site.yaml', dispatch(), { channels: ['sms', 'email'] });
  assert.deepEqual(problems, []);
  assert.ok(s);
  assert.deepEqual(s.technicians[0], {
    id: 'tech-hugo',
    name: 'Hugo Martin',
    phone: '+33612345611',
    language: 'fr',
    skills: ['coffee-machines', 'plumbing'],
    base: { lat: 48.99, lon: 2.55 },
    shift: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' },
  });
  assert.equal(s.technicians[1].shift, undefined, 'no shift: always on duty');
  assert.deepEqual(s.dispatch['appliance-repair'], {
    id: 'appliance-repair',
    skills: { E21: ['plumbing'], E30: ['electrical'], default: ['coffee-machines'] },
    offerTimeoutMs: 600_000,
    dispatchers: 'team:service-desk',
    sms: 'sms',
    email: 'email',
    speedKmh: 40,
    roadFactor: 1.3,
    travelMinutes: { 'roissy-north': { 'tech-hugo': 25 } },
    notifyCustomer: ['sms', 'email'],
  });
  assert.ok(Object.isFrozen(s.dispatch['appliance-repair'].skills));
  assert.deepEqual(
    channelNamesUsed(s).filter((u) => u.where.startsWith('dispatch')),
    [
      { name: 'sms', where: 'dispatch.appliance-repair.sms' },
      { name: 'email', where: 'dispatch.appliance-repair.email' },
    ],
  );

  // `email?` where the gateway has no e-mail channel: customers are told by SMS only.
  const bare = parseSite('site.yaml', dispatch(), { channels: ['sms'] });
  assert.deepEqual(bare.problems, []);
  assert.equal(bare.site!.dispatch['appliance-repair'].email, undefined);
  assert.deepEqual(bare.site!.dispatch['appliance-repair'].notifyCustomer, ['sms']);

  // notifyCustomer defaults to every channel the profile has; a map without `default`, speeds given.
  const other = parseSite(
    'site.yaml',
    dispatch({
      19: '    skills: { E21: [plumbing] }',
      23: '    speedKmh: 60\n    roadFactor: 1.1',
      25: '    dispatchers: team:service-desk',
      21: '',
      5: "  - { id: sam, name: Sam, phone: '+33600000008' }",
    }),
  );
  assert.deepEqual(other.problems, []);
  const p = other.site!.dispatch['appliance-repair'];
  assert.deepEqual([p.notifyCustomer, p.email, p.speedKmh, p.roadFactor], [['sms'], undefined, 60, 1.1]);
  assert.deepEqual(p.skills, { E21: ['plumbing'] });

  const plain = parseSite('site.yaml', site()).site!;
  assert.deepEqual([plain.technicians, plain.dispatch], [[], {}]);

  // `sms?` on a gateway without an SMS channel (the demo): offers go to the console.
  const demo = parseSite('site.yaml', dispatch({ 22: '    sms: sms?' }), { channels: ['console'] });
  assert.deepEqual(demo.problems, []);
  assert.equal(demo.site!.dispatch['appliance-repair'].sms, 'console');
  const real = parseSite('site.yaml', dispatch({ 22: '    sms: sms?' }), { channels: ['sms', 'email'] });
  assert.equal(real.site!.dispatch['appliance-repair'].sms, 'sms');
});

test('site - technician and dispatch problems are reported with their line', () => {
  const noTechnicians = Object.fromEntries([
    [8, 'technicians: []'],
    ...[9, 10, 11, 12, 13, 14, 15, 16].map((n) => [n, '']),
  ]);
  const cases: Array<[Record<string, string>, number, RegExp, (readonly string[])?]> = [
    [{ 21: '    dispatchers: support' }, 21, /unknown team "support"/],
    [{ 21: '    dispatchers: person:nora' }, 21, /dispatchers is a team of the site/],
    [{ 4: '  - { id: nora, name: Nora }' }, 21, /"nora" of team "service-desk" has no phone or e-mail/],
    [{ 22: '    sms: text' }, 22, /unknown channel "text"/, ['sms', 'email']],
    [{ 19: '    skills: { E21: [plumbin] }' }, 19, /no technician has the skill "plumbin"/],
    [{ 24: '    travelMinutes: { roissy-north: { tech-hugh: 25 } }' }, 24, /unknown technician "tech-hugh"/],
    [{ 24: '    travelMinutes: { roissy-north: { tech-hugo: -5 } }' }, 24, /travelMinutes/],
    [{ 20: '    offerTimeout: 600' }, 20, /"600" is not a duration/],
    [{ 20: '    offerTimeout: 10m\n    colour: red' }, 21, /dispatch\.appliance-repair\.colour: unknown key/],
    [{ 25: '    notifyCustomer: [sms, fax]' }, 25, /notifyCustomer/],
    [{ 23: '' }, 25, /names no email channel/],
    [{ 14: '    base: { lat: 98.99, lon: 2.55 }' }, 14, /a latitude is between -90 and 90/],
    [{ 14: '    base: { lat: 48.99, lon: 200 }' }, 14, /a longitude is between -180 and 180/],
    [
      { 15: "    shift: { days: [mon, funday], from: '07:00', to: '19:00' }" },
      15,
      /technicians\[0\]\.shift\.days\[1\]/,
    ],
    [{ 15: "    shift: { days: [], from: '07:00', to: '19:00' }" }, 15, /at least one day/],
    [{ 15: "    shift: { days: [mon], from: '7:00', to: '19:00' }" }, 15, /HH:MM/],
    [
      { 15: "    shift: { days: [mon], from: '07:00', to: '19:00', timezone: Mars/Base }" },
      15,
      /unknown time zone/,
    ],
    [{ 13: '    skills: []' }, 13, /at least one skill/],
    [{ 11: "    phone: 'call me'" }, 11, /phone number/],
    [{ 11: '' }, 9, /technicians\[0\]\.phone/],
    [
      {
        16: "  - { id: tech-hugo, name: Léa, phone: '+33612345612', skills: [electrical], base: { lat: 48.9, lon: 2.5 } }",
      },
      16,
      /duplicate technician id "tech-hugo"/,
    ],
    [{ 9: '  - id: tech/hugo' }, 9, /ids appear in MQTT topics/],
    [noTechnicians, 18, /the site has no technicians/],
  ];
  for (const [edit, line, message, channels] of cases) {
    const { site: s, problems } = parseSite('site.yaml', dispatch(edit), channels ? { channels } : {});
    assert.equal(s, undefined, JSON.stringify(edit));
    const hit = problems.find((p) => message.test(p.message));
    assert.ok(hit, `${JSON.stringify(edit)}: got ${JSON.stringify(problems)}`);
    assert.equal(hit.line, line, `${JSON.stringify(edit)}: ${hit.message}`);
  }
});
