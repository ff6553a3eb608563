import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { memoryLogger } from '../src/core/log.js';
import { Registry } from '../src/core/metrics.js';
import { hashPassword } from '../src/listen/credentials.js';
import { EmbeddedBroker } from '../src/listen/embedded-broker.js';
import type { Site } from '../src/site/model.js';
import { exampleSite, ListenHarness } from './support/listen-harness.js';

// Thousands of hostile messages through a real client and the real broker; then the gateway must
// still serve a good event, and every message must be accounted for: accepted or rejected, once.

const MAX_PAYLOAD = 4096;
let broker: EmbeddedBroker;
let h: ListenHarness;
let url: string;
const metrics = new Registry();
const clients: MqttClient[] = [];

before(async () => {
  const base = exampleSite();
  const fuzzer = {
    username: 'fuzzer',
    passwordHash: await hashPassword('fuzzer-pass'),
    publish: ['#'],
    subscribe: [],
  };
  const site: Site = { ...base, clients: [...base.clients, fuzzer] };
  broker = new EmbeddedBroker({
    site,
    host: '127.0.0.1',
    port: 0,
    maxPayloadBytes: MAX_PAYLOAD,
    logger: memoryLogger(),
    metrics,
  });
  h = new ListenHarness(site, broker, MAX_PAYLOAD);
  await broker.start();
  url = `mqtt://127.0.0.1:${broker.port}`;
});

after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.stop();
});

async function connect(username: string, password: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { username, password, reconnectPeriod: 0, connectTimeout: 5000 });
  clients.push(c);
  return c;
}

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEVICE_TOPICS = [
  'vigie/airport/door/door-g12',
  'vigie/airport/temperature/temp-hall-b',
  'vigie/airport/aed/aed-hall-b',
  'vigie/airport/appliance/coffee-lounge-1',
  'zigbee2mqtt/lobby_side_door',
];
const INJECTION_TOPICS = [
  'vigie/airport/door/door-g12/../door-g14',
  'vigie/airport/door/door-g12/status/x',
  'vigie/airport/door/__proto__',
  'vigie/airport/door/constructor',
  'vigie/airport/door/door-g12 ',
  'vigie//door/door-g12',
  'vigie/airport/door/door-g12%2F..%2Fincidents',
  'vigie/air port/door/door-g12',
  "vigie/airport/door/door-g12';DROP TABLE incidents;--",
  'vigie/airport/door/d\u00f6or-g12',
  'vigie/airport/door/' + 'x'.repeat(3000),
  '/vigie/airport/door/door-g12',
  'vigie/AIRPORT/door/door-g12',
  'vigie/airport/incidents2/x',
  'zigbee2mqtt/lobby_side_door/set',
  'Vigie/airport/door/door-g12',
];

function hostile(rand: () => number, i: number): { topic: string; payload: Buffer; good: boolean } {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  const topic = pick(DEVICE_TOPICS);
  const json = (v: string) => ({ topic, payload: Buffer.from(v), good: false });
  switch (i % 10) {
    case 0: {
      const b = Buffer.alloc(Math.floor(rand() * 300));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rand() * 256);
      return { topic, payload: b, good: false };
    }
    case 1: {
      const depth = 1 + Math.floor(rand() * 2000);
      return json(
        rand() < 0.5
          ? '['.repeat(depth) + ']'.repeat(depth)
          : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
      );
    }
    case 2:
      return json(
        `{"open":true,"celsius":1,"pad":"${'A'.repeat(MAX_PAYLOAD + Math.floor(rand() * 20_000))}"}`,
      );
    case 3:
      return json(
        pick([
          '{"open":"true"}',
          '{"open":1}',
          '{"celsius":"hot"}',
          '{"celsius":[21]}',
          '{"present":{}}',
          '{"serial":5,"status":"fault"}',
          '{"contact":"no"}',
        ]),
      );
    case 4:
      return {
        topic: pick(INJECTION_TOPICS),
        payload: Buffer.from('{"open":true,"celsius":20}'),
        good: false,
      };
    case 5:
      return json(
        pick([
          '{"__proto__":{"open":true,"isAdmin":true}}',
          '{"constructor":{"prototype":{"polluted":1}}}',
          '{"open":true,"__proto__":null,"badge":{"toString":1}}',
        ]),
      );
    case 6:
      return json(
        pick([
          '{"celsius":1e999}',
          '{"celsius":NaN}',
          '{"celsius":-1e400}',
          '{"open":true,"battery":1e308}',
          '{"open":true,"ts":99999999999999999}',
          '{"open":true,"ts":"2026-99-99"}',
        ]),
      );
    case 7:
      return json(
        pick([
          '',
          ' ',
          'null',
          'true',
          '42',
          '"open"',
          '[]',
          '{"open":true',
          '\u0000{}',
          '{"open":true}\u0000',
        ]),
      );
    case 8:
      return {
        topic,
        payload: Buffer.concat([
          Buffer.from('{"open":true,"badge":"'),
          Buffer.from([0xc3, 0x28, 0xff]),
          Buffer.from('"}'),
        ]),
        good: false,
      };
    default: {
      // Well-formed events for the topic's kind: the fuzz must not drown real traffic.
      const good: Record<string, string> = {
        'vigie/airport/door/door-g12': '{"open":false}',
        'vigie/airport/temperature/temp-hall-b': '{"celsius":21}',
        'vigie/airport/aed/aed-hall-b': '{"present":true}',
        'vigie/airport/appliance/coffee-lounge-1': '{"serial":"WM-0042","status":"ok"}',
        'zigbee2mqtt/lobby_side_door': '{"contact":true}',
      };
      return { topic, payload: Buffer.from(good[topic]), good: true };
    }
  }
}

test('listen hostile - 6000 hostile messages are all accounted for and the gateway keeps serving', async () => {
  const rand = prng(20261123);
  const fuzzer = await connect('fuzzer', 'fuzzer-pass');
  const N = 6000;
  let good = 0;
  for (let i = 0; i < N; i++) {
    const m = hostile(rand, i);
    if (m.good) good++;
    fuzzer.publish(m.topic, m.payload, { qos: 0 });
  }
  // Same connection, so the broker handles this one after all the others.
  fuzzer.publish('vigie/airport/door/door-g12', '{"open":true,"badge":"END"}', { qos: 1 });
  await h.next((e) => e.values.badge === 'END', 'the end marker', 30_000);
  assert.equal(h.topics.length, N + 1, 'every message reached the listen stage');
  assert.equal(h.events.length, good + 1, 'only well-formed events were accepted');
  assert.equal(h.rejectedTotal(), N - good, 'every other message was counted as rejected');
  assert.ok(h.ingest.rejected.get({ reason: 'too_large' }) >= 500);
  assert.ok(h.ingest.rejected.get({ reason: 'malformed_json' }) > 0);
  assert.ok(h.logger.lines.length < 60, `log stayed quiet (${h.logger.lines.length} lines)`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined);

  // A real device is still served.
  const door = await connect('door-g14', 'demo-door-g14');
  await door.publishAsync('vigie/airport/door/door-g14', '{"open":true,"badge":"AFTER"}', { qos: 1 });
  await h.next(
    (e) => e.deviceId === 'door-g14' && e.values.badge === 'AFTER',
    'a good event after the storm',
  );
});

test('listen hostile - connection-level abuse is cut off without taking the broker down', async () => {
  const oversize = () => metrics.counter('vigie_mqtt_denied_total', '').get({ action: 'oversize' });
  const before = oversize();
  // A packet announcing 5 MB: cut as soon as the header is read, never buffered.
  const big = await connect('fuzzer', 'fuzzer-pass');
  const gone = new Promise<void>((resolve) => big.once('close', () => resolve()));
  big.publish('vigie/airport/door/door-g12', Buffer.alloc(5 * 1024 * 1024, 0x41));
  await gone;
  assert.equal(oversize() - before, 1);

  // Raw garbage and a bare header claiming 256 MB, before any CONNECT.
  for (const bytes of [
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]),
    Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
  ]) {
    const s = createConnection({ port: broker.port!, host: '127.0.0.1' });
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.on('error', () => undefined);
    s.write(bytes);
    await closed;
  }

  // Too many topic levels, a publish to incidents, a subscription to everything.
  const deep = await connect('fuzzer', 'fuzzer-pass');
  const deepGone = new Promise<void>((resolve) => deep.once('close', () => resolve()));
  deep.publish('a/'.repeat(300) + 'x', '{}');
  await deepGone;
  const inc = await connect('fuzzer', 'fuzzer-pass');
  const incGone = new Promise<void>((resolve) => inc.once('close', () => resolve()));
  inc.publish('vigie/airport/incidents/INC-666', '{"state":"resolved"}');
  await incGone;

  const door = await connect('aed-hall-b', 'demo-aed-hall-b');
  await door.publishAsync('vigie/airport/aed/aed-hall-b', '{"present":false,"cabinetOpen":true}', { qos: 1 });
  const ev = await h.next(
    (e) => e.deviceId === 'aed-hall-b' && e.values.present === false,
    'AED event after the abuse',
  );
  assert.equal(ev.values.cabinetOpen, true);
  assert.ok(!h.topics.includes('vigie/airport/incidents/INC-666'));
});
