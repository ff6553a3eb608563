import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { memoryLogger } from '../src/core/log.js';
import { Registry } from '../src/core/metrics.js';
import { EmbeddedBroker } from '../src/listen/embedded-broker.js';
import { hashPassword } from '../src/listen/credentials.js';
import type { Site } from '../src/site/model.js';
import { exampleSite, ListenHarness } from './support/listen-harness.js';

let broker: EmbeddedBroker;
let h: ListenHarness;
let url: string;
const metrics = new Registry();
const clients: MqttClient[] = [];

before(async () => {
  const base = exampleSite();
  // A display that may read incidents: to see the gateway's own publishes from outside.
  const display = {
    username: 'display',
    passwordHash: await hashPassword('display-pass'),
    publish: [],
    subscribe: ['vigie/airport/incidents/#'],
  };
  const site: Site = { ...base, clients: [...base.clients, display] };
  broker = new EmbeddedBroker({
    site,
    host: '127.0.0.1',
    port: 0,
    maxPayloadBytes: 4096,
    logger: memoryLogger(),
    metrics,
  });
  h = new ListenHarness(site, broker);
  await broker.start();
  assert.ok(broker.port && broker.port > 0);
  url = `mqtt://127.0.0.1:${broker.port}`;
});

after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.stop();
});

async function connect(
  username: string | undefined,
  password: string | undefined,
  extra: IClientOptions = {},
): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...extra,
  });
  clients.push(c);
  return c;
}

const closed = (c: MqttClient) => new Promise<void>((resolve) => c.once('close', () => resolve()));
const nextMessage = (c: MqttClient) =>
  new Promise<{ topic: string; payload: Buffer; retain: boolean }>((resolve) =>
    c.once('message', (topic, payload, packet) => resolve({ topic, payload, retain: packet.retain })),
  );

const denied = (action: string) => metrics.counter('vigie_mqtt_denied_total', '').get({ action });

test('listen embedded - a device with the right password publishes and the event arrives', async () => {
  const c = await connect('door-g12', 'demo-door-g12');
  await c.publishAsync('vigie/airport/door/door-g12', '{"open":true,"badge":"A1234"}', { qos: 1 });
  const ev = await h.next((e) => e.deviceId === 'door-g12' && e.values.badge === 'A1234', 'door-g12 event');
  assert.equal(ev.values.open, true);
  assert.equal(ev.kind, 'door');
});

test('listen embedded - wrong password and anonymous connections are refused', async () => {
  await assert.rejects(connect('door-g12', 'demo-door-g14'), /Bad username or password/i);
  await assert.rejects(connect('door-g12', ''), /Bad username or password|Not authorized/i);
  await assert.rejects(connect(undefined, undefined), /Not authorized/i);
  await assert.rejects(connect('nobody', 'whatever'), /Bad username or password/i);
  // A foreign device has no credentials: it cannot log in as itself.
  await assert.rejects(connect('door-lobby', 'demo-door-lobby'), /Bad username or password/i);
});

test('listen embedded - an unknown username is refused no faster than a wrong password (no username probing)', async () => {
  const time = async (user: string, pass: string) => {
    const t0 = performance.now();
    await assert.rejects(connect(user, pass));
    return performance.now() - t0;
  };
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 3; i++) {
    wrong.push(await time('door-g12', `wrong-${i}`));
    unknown.push(await time(`nobody-${i}`, `wrong-${i}`));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[1];
  assert.ok(
    median(unknown) >= median(wrong) * 0.5,
    `unknown ${median(unknown).toFixed(1)} ms vs wrong password ${median(wrong).toFixed(1)} ms`,
  );
});

test("listen embedded - a device publishing another device's topic or an incident is cut off and nothing arrives", async () => {
  const before = h.topics.length;
  const deniedBefore = denied('publish');
  for (const topic of [
    'vigie/airport/door/door-g14',
    'vigie/airport/incidents/x',
    'vigie/airport/temperature/temp-hall-b',
  ]) {
    const c = await connect('door-g12', 'demo-door-g12');
    const gone = closed(c);
    c.publish(topic, '{"open":true}', { qos: 0 });
    await gone; // [MQTT-3.3.5-2] 3.1.1 has no negative PUBACK: the broker closes the connection.
  }
  assert.equal(denied('publish') - deniedBefore, 3);
  // The same device's own topic still works, and only that message arrived.
  const ok = await connect('door-g12', 'demo-door-g12');
  await ok.publishAsync('vigie/airport/door/door-g12', '{"open":false,"badge":"B3100"}', { qos: 1 });
  await h.next((e) => e.values.badge === 'B3100', 'the allowed publish');
  assert.deepEqual(h.topics.slice(before), ['vigie/airport/door/door-g12']);
});

test("listen embedded - a device cannot take over another device's session by reusing its client id", async () => {
  const g12 = await connect('door-g12', 'demo-door-g12', { clientId: 'shared-id' });
  await assert.rejects(
    connect('door-g14', 'demo-door-g14', { clientId: 'shared-id' }),
    /Identifier rejected/i,
  );
  assert.equal(g12.connected, true);
  await g12.publishAsync('vigie/airport/door/door-g12', '{"open":true,"badge":"STILL"}', { qos: 1 });
  await h.next((e) => e.values.badge === 'STILL', 'door-g12 still connected');
  // The same device reconnecting with its own id takes its session back, as MQTT says [MQTT-3.1.4-2].
  const again = await connect('door-g12', 'demo-door-g12', { clientId: 'shared-id' });
  assert.equal(again.connected, true);
});

test('listen embedded - a device may subscribe only inside its own topics', async () => {
  const c = await connect('door-g14', 'demo-door-g14');
  const refusedBefore = denied('subscribe');
  // SUBACK 0x80 for the filter [MQTT-3.9.3]: mqtt.js turns it into an error.
  await assert.rejects(c.subscribeAsync('vigie/airport/#'), /Unspecified error/);
  await assert.rejects(c.subscribeAsync('vigie/airport/door/+'), /Unspecified error/);
  assert.equal(denied('subscribe') - refusedBefore, 2);
  const own = await c.subscribeAsync('vigie/airport/door/door-g14/#', { qos: 1 });
  assert.equal(own[0].qos, 1);
});

test('listen embedded - the retained last will arrives as an offline status event when the socket dies', async () => {
  const status = 'vigie/airport/temperature/temp-gate-g/status';
  const c = await connect('temp-gate-g', 'demo-temp-gate-g', {
    will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  await c.publishAsync(status, 'online', { qos: 1, retain: true });
  await h.next((e) => e.deviceId === 'temp-gate-g' && e.status === 'online', 'online status');
  c.stream.destroy();
  const ev = await h.next((e) => e.deviceId === 'temp-gate-g' && e.status === 'offline', 'offline will');
  assert.deepEqual(ev.values, {});
  // Retained: whoever looks later sees the device offline.
  const again = await connect('temp-gate-g', 'demo-temp-gate-g');
  const got = nextMessage(again);
  await again.subscribeAsync(status);
  const m = await got;
  assert.deepEqual([m.topic, m.payload.toString(), m.retain], [status, 'offline', true]);
});

test("listen embedded - a will on another device's topic is refused at connect", async () => {
  await assert.rejects(
    connect('temp-gate-g', 'demo-temp-gate-g', {
      will: {
        topic: 'vigie/airport/door/door-g12/status',
        payload: Buffer.from('offline'),
        qos: 0,
        retain: true,
      },
    }),
    /Not authorized/i,
  );
});

test('listen embedded - the Zigbee2MQTT bridge feeds foreign devices through their adapter', async () => {
  const c = await connect('z2m-bridge', 'demo-z2m-bridge');
  await c.publishAsync('zigbee2mqtt/lobby_side_door', '{"contact":false,"battery":88}', { qos: 1 });
  const ev = await h.next((e) => e.deviceId === 'door-lobby', 'door-lobby event');
  assert.deepEqual([ev.values.open, ev.battery], [true, 88]);
  // The bridge may not speak for native topics.
  const gone = closed(c);
  c.publish('vigie/airport/door/door-lobby', '{"open":false}');
  await gone;
});

test("listen embedded - the gateway's own publishes reach subscribers but not onMessage", async () => {
  const display = await connect('display', 'display-pass');
  const got = nextMessage(display);
  await display.subscribeAsync('vigie/airport/incidents/#', { qos: 1 });
  const before = h.topics.length;
  broker.publish('vigie/airport/incidents/INC-1', JSON.stringify({ id: 'INC-1', state: 'open' }), { qos: 1 });
  const { topic, payload } = await got;
  assert.equal(topic, 'vigie/airport/incidents/INC-1');
  assert.equal(JSON.parse(payload.toString()).state, 'open');
  assert.equal(h.topics.length, before);
});
