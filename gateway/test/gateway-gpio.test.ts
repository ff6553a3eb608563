import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { systemClock } from '../src/core/clock.js';
import { createLogger } from '../src/core/log.js';
import { FakePins } from '../src/io/fake-pins.js';
import { hashPassword } from '../src/listen/credentials.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { ADMIN_TOKEN, eventually, tempDir } from './support/gateway-process.js';

// The whole gateway in this process, its GPIO lines replaced by fakes (there is no GPIO on the CI
// machines): a door contact on a pin and a siren relay on another, through the real listen stage,
// rules engine, incident store, delivery worker and API. What is NOT exercised here is the onoff
// library driving real sysfs lines (io/onoff-pins.ts), which needs a Raspberry Pi.

const DISPLAY_PASSWORD = 'display-password-1';
const DOOR_PIN = 17;
const SIREN_PIN = 22;

const SITE = {
  site: 'plant',
  people: [{ id: 'guard', name: 'Guard' }],
  teams: [{ id: 'security', name: 'Security', members: ['guard'] }],
  devices: [
    {
      id: 'fire-exit',
      kind: 'door',
      name: 'Fire exit',
      zone: 'hall',
      gpio: { pin: DOOR_PIN, activeLow: true, pull: 'up', debounce: '20ms' },
    },
  ],
};

const RULES = `
rule: exit-held-open
name: Fire exit held open
severity: major
listen:
  devices: { ids: [fire-exit] }
  when:
    state: { open: true }
  for: 1s
engage:
  message: '{device.name} held open'
  steps:
    - notify: [team:security]
      via: [console, siren]
---
rule: exit-offline
name: Door contact offline
severity: major
listen:
  devices: { ids: [fire-exit] }
  when:
    status: offline
engage:
  message: '{device.name} cannot be read'
  steps:
    - notify: [team:security]
`;

let gw: RunningGateway;
const pins = new FakePins();
let api = '';

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(api + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path} -> ${res.status}`);
  return res.json();
}

const incidents = async (rule: string) =>
  ((await call('GET', '/incidents')).incidents as any[]).filter((i) => i.ruleId === rule);

before(async () => {
  const dir = tempDir('vigie-gpio-');
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'door.yaml'), RULES);
  writeFileSync(
    join(dir, 'vigie.yaml'),
    stringify({
      site: 'site.yaml',
      rules: 'rules',
      dataDir: 'data',
      log: { level: 'warn' },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      auth: { adminToken: ADMIN_TOKEN },
      channels: { siren: { type: 'relay', pin: SIREN_PIN, maxOn: '1m' } },
      gpio: { resync: '200ms' },
    }),
  );
  // The door is shut at boot: the contact closes the line to ground (active low, pull-up).
  pins.set(DOOR_PIN, 1);
  const site = {
    ...SITE,
    clients: [
      {
        username: 'display',
        passwordHash: await hashPassword(DISPLAY_PASSWORD),
        subscribe: ['vigie/plant/#'],
      },
    ],
  };
  writeFileSync(join(dir, 'site.yaml'), stringify(site));
  const config = loadConfig({ file: join(dir, 'vigie.yaml'), env: {} });
  gw = await startGateway({
    config,
    clock: systemClock,
    logger: createLogger('warn'),
    adminToken: ADMIN_TOKEN,
    pins,
  });
  api = `http://127.0.0.1:${gw.httpPort}/api/v1`;
});

after(async () => {
  await gw?.stop();
});

test('gpio - a door contact on a pin is a door like any other: its state, on MQTT, and its rule', async () => {
  const seen: { topic: string; body: string }[] = [];
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
    username: 'display',
    password: DISPLAY_PASSWORD,
  });
  try {
    await client.subscribeAsync('vigie/plant/#');
    client.on('message', (topic, body) => seen.push({ topic, body: body.toString() }));
    const device = async () =>
      ((await call('GET', '/devices')).devices as any[]).find((d) => d.id === 'fire-exit');
    assert.equal((await device()).values.open, false, 'read at start: shut');

    // Contact bounce shorter than the debounce: nothing happens.
    await pins.bounce(DOOR_PIN, [0, 1, 0, 1], 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await device()).values.open, false);

    pins.set(DOOR_PIN, 0);
    await eventually('the door open on the API', async () => (await device()).values.open === true);
    await eventually('the reading on MQTT', () =>
      seen.some((m) => m.topic === 'vigie/plant/door/fire-exit' && JSON.parse(m.body).open === true),
    );
    const [opened] = await eventually('the held-open incident', async () => {
      const list = await incidents('exit-held-open');
      return list.length > 0 && list;
    });
    assert.equal(opened.state, 'open');
    await eventually('the incident on MQTT', () =>
      seen.some(
        (m) => m.topic.startsWith('vigie/plant/incidents/') && JSON.parse(m.body).rule === 'exit-held-open',
      ),
    );
    // The siren sounds from the step that names it...
    await eventually('the siren on', () => pins.level(SIREN_PIN) === 1);
    // ...until someone acknowledges.
    await call('POST', `/incidents/${opened.id}/acknowledge`, { by: 'guard' });
    await eventually('the siren off after the acknowledgement', () => pins.level(SIREN_PIN) === 0);
    pins.set(DOOR_PIN, 1);
    await eventually('the door shut again', async () => (await device()).values.open === false);
  } finally {
    await client.endAsync();
  }
});

test('gpio - a line that fails makes the contact offline, and it comes back on its own', async () => {
  pins.fail(DOOR_PIN, new Error('EIO: i/o error'));
  const [offline] = await eventually('the offline incident', async () => {
    const list = (await incidents('exit-offline')).filter((i) => i.state === 'open');
    return list.length > 0 && list;
  });
  assert.equal(offline.deviceId, 'fire-exit');
  pins.heal(DOOR_PIN);
  await eventually(
    'the offline incident cleared once the line reads again',
    async () => (await incidents('exit-offline')).every((i) => i.state !== 'open'),
    15_000,
  );
});
