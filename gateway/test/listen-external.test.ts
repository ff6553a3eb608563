import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { memoryLogger } from '../src/core/log.js';
import { ExternalBroker } from '../src/listen/external-broker.js';
import { exampleSite, ListenHarness, waitFor } from './support/listen-harness.js';
import { Mosquitto } from './support/mosquitto.js';

const run = promisify(execFile);
let mosq: Mosquitto;
let transport: ExternalBroker;
let h: ListenHarness;

before(async () => {
  mosq = await Mosquitto.start();
  const site = exampleSite();
  transport = new ExternalBroker({
    site,
    url: mosq.url,
    logger: memoryLogger(),
    minBackoffMs: 100,
    maxBackoffMs: 400,
  });
  h = new ListenHarness(site, transport);
  await transport.start();
  assert.equal(transport.connected, true);
});

after(async () => {
  await transport.stop();
  await mosq.dispose();
});

const pub = (topic: string, message: string) =>
  run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mosq.port), '-q', '1', '-t', topic, '-m', message]);

test('listen external - events published with mosquitto_pub reach the listen stage', async () => {
  await pub('vigie/airport/temperature/temp-server-room', '{"celsius":31.5,"battery":64}');
  const ev = await h.next((e) => e.deviceId === 'temp-server-room', 'temperature event');
  assert.deepEqual([ev.values.celsius, ev.battery], [31.5, 64]);
  await pub('vigie/airport/door/door-g12/status', 'offline');
  assert.equal(
    (await h.next((e) => e.deviceId === 'door-g12' && e.status !== undefined, 'status event')).status,
    'offline',
  );
  await pub('zigbee2mqtt/lobby_side_door', '{"contact":true,"battery":70}');
  assert.equal((await h.next((e) => e.deviceId === 'door-lobby', 'Zigbee door')).values.open, false);
  await pub('zigbee2mqtt/lobby_side_door/availability', '{"state":"offline"}');
  const off = await h.next(
    (e) => e.deviceId === 'door-lobby' && e.status === 'offline',
    'Zigbee availability',
  );
  assert.deepEqual(off.values, {});
  await pub('vigie/airport/door/door-g12', '{"open":"sideways"}');
  await pub('vigie/airport/door/door-g12', '{"open":true,"badge":"MARK1"}');
  await h.next((e) => e.values.badge === 'MARK1', 'marker');
  assert.equal(h.ingest.rejected.get({ reason: 'wrong_type' }), 1);
});

test("listen external - the gateway's incident publishes go out but do not come back in", async () => {
  const display = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 });
  try {
    const got = new Promise<string>((resolve) => display.once('message', (_t, p) => resolve(p.toString())));
    await display.subscribeAsync('vigie/airport/incidents/#', { qos: 1 });
    transport.publish('vigie/airport/incidents/INC-7', '{"id":"INC-7"}', { qos: 1 });
    assert.equal(JSON.parse(await got).id, 'INC-7');
    await pub('vigie/airport/door/door-g12', '{"open":false,"badge":"MARK2"}');
    await h.next((e) => e.values.badge === 'MARK2', 'marker');
    assert.ok(!h.topics.some((t) => t.includes('/incidents/')));
  } finally {
    await display.endAsync(true);
  }
});

test('listen external - the transport reconnects after Mosquitto restarts', async () => {
  await mosq.stop();
  await waitFor(() => !transport.connected, 'the transport to notice the broker went away');
  await mosq.restart();
  await waitFor(() => transport.connected, 'the transport to reconnect', 15_000);
  let device: MqttClient | undefined;
  try {
    device = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 });
    await device.publishAsync('vigie/airport/aed/aed-gate-g', '{"present":false}', { qos: 1 });
    const ev = await h.next((e) => e.deviceId === 'aed-gate-g', 'event after reconnection');
    assert.equal(ev.values.present, false);
  } finally {
    await device?.endAsync(true);
  }
});
