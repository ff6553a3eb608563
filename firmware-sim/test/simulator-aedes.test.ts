// simulator - against a real (plain, no auth) aedes broker: statuses, last will, payload shapes.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { memoryLogger } from '../../gateway/src/core/log.js';
import { parseScenario } from '../src/scenario.js';
import { startSimulator, type Simulator } from '../src/simulator.js';

const scenario = parseScenario(`
site: lab
loop: 4s
bridges: [{ username: z2m-bridge }]
devices:
  - { id: door-1, kind: door, every: 1s, badges: [A1234] }
  - { id: temp-1, kind: temperature, every: 300ms, battery: 70 }
  - { id: aed-1, kind: aed, every: 5s }
  - { id: wm-1, kind: appliance, serial: WM-0042, every: 5s }
  - { id: lobby, kind: door, via: z2m-bridge, topic: zigbee2mqtt/lobby_side_door, format: zigbee2mqtt, traffic: 1s, openFor: 300ms, every: 5s, battery: 90 }
  - { id: lounge, kind: temperature, via: z2m-bridge, topic: zigbee2mqtt/lounge_climate, format: zigbee2mqtt, every: 500ms, battery: 80 }
  - { id: dying, kind: temperature, every: 200ms }
episodes:
  - { at: 300ms, device: door-1, type: held-open, for: 2s }
  - { at: 500ms, device: aed-1, type: aed-removed, for: 2s }
  - { at: 500ms, device: wm-1, type: fault, codes: [E21], spacing: 1s }
  - { at: 1500ms, device: dying, type: die }
`);

interface Msg {
  topic: string;
  text: string;
  retain: boolean;
  at: number;
}

let broker: Aedes;
let server: Server;
let url: string;
let watcher: MqttClient;
let sim: Simulator | undefined;
const seen: Msg[] = [];

before(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `mqtt://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  watcher = await mqtt.connectAsync(url, { clientId: 'watcher' });
  watcher.on('message', (topic, payload, packet) =>
    seen.push({ topic, text: payload.toString(), retain: packet.retain, at: Date.now() }),
  );
  await watcher.subscribeAsync(['vigie/#', 'zigbee2mqtt/#']);
});

after(async () => {
  await sim?.stop();
  await watcher?.endAsync();
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
});

async function waitFor(what: string, pred: (m: Msg) => boolean, timeoutMs = 8000): Promise<Msg> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = seen.find(pred);
    if (m) return m;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const json = (m: Msg) => JSON.parse(m.text) as Record<string, unknown>;

test('simulator - devices announce online, publish contract payloads, a dead one leaves its will', async () => {
  const logger = memoryLogger();
  const t0 = Date.now();
  sim = startSimulator({ url, scenario, logger });

  for (const dev of [
    'door/door-1',
    'temperature/temp-1',
    'aed/aed-1',
    'appliance/wm-1',
    'temperature/dying',
  ]) {
    await waitFor(`${dev} online`, (m) => m.topic === `vigie/lab/${dev}/status` && m.text === 'online');
  }
  await waitFor(
    'the bridge state',
    (m) => m.topic === 'zigbee2mqtt/bridge/state' && json(m).state === 'online',
  );

  const badge = json(
    await waitFor('a badge swipe', (m) => m.topic === 'vigie/lab/door/door-1' && m.text.includes('badge')),
  );
  assert.equal(badge.badge, 'A1234');
  const open = json(
    await waitFor('door-1 open', (m) => m.topic === 'vigie/lab/door/door-1' && json(m).open === true),
  );
  assert.equal(typeof open.ts, 'number');
  assert.ok(Math.abs((open.ts as number) - Date.now()) < 5000);

  const temp = json(await waitFor('a temperature', (m) => m.topic === 'vigie/lab/temperature/temp-1'));
  assert.equal(typeof temp.celsius, 'number');
  assert.equal(temp.battery, 70);
  assert.ok((temp.ts as number) >= t0);

  const aed = json(
    await waitFor('the AED removed', (m) => m.topic === 'vigie/lab/aed/aed-1' && json(m).present === false),
  );
  assert.equal(aed.cabinetOpen, true);
  const fault = json(
    await waitFor('a fault', (m) => m.topic === 'vigie/lab/appliance/wm-1' && json(m).status === 'fault'),
  );
  assert.deepEqual({ serial: fault.serial, code: fault.code }, { serial: 'WM-0042', code: 'E21' });

  const z2mOpen = json(
    await waitFor(
      'the Zigbee door open',
      (m) => m.topic === 'zigbee2mqtt/lobby_side_door' && json(m).contact === false,
    ),
  );
  assert.equal(z2mOpen.battery, 90);
  const climate = json(await waitFor('the Zigbee climate', (m) => m.topic === 'zigbee2mqtt/lounge_climate'));
  assert.equal(typeof climate.temperature, 'number');
  assert.deepEqual([climate.humidity, climate.battery], [40, 80]);

  // [MQTT-3.1.2-8] the will is published when the network connection closes without DISCONNECT.
  const will = await waitFor(
    'the last will of the dying device',
    (m) => m.topic === 'vigie/lab/temperature/dying/status' && m.text === 'offline',
  );
  await new Promise((r) => setTimeout(r, 600));
  const after = seen.filter((m) => m.topic === 'vigie/lab/temperature/dying' && m.at > will.at + 50);
  assert.equal(after.length, 0, 'the dead device kept publishing');

  // The will was retained: a client arriving later still learns the device is offline.
  const late = await mqtt.connectAsync(url, { clientId: 'late' });
  const retained = new Promise<string>((resolve) =>
    late.on('message', (_t, p, pk) => pk.retain && resolve(p.toString())),
  );
  await late.subscribeAsync('vigie/lab/temperature/dying/status');
  assert.equal(await retained, 'offline');
  await late.endAsync();

  // A new loop cycle brings the dead device back.
  await waitFor(
    'the dead device back online at the next cycle',
    (m) => m.topic === 'vigie/lab/temperature/dying/status' && m.text === 'online' && m.at > will.at,
  );
  await waitFor(
    'the revived device publishing',
    (m) => m.topic === 'vigie/lab/temperature/dying' && m.at > will.at,
  );

  await sim.stop();
  sim = undefined;
  await waitFor(
    'door-1 offline after a clean stop',
    (m) => m.topic === 'vigie/lab/door/door-1/status' && m.text === 'offline',
  );
});
