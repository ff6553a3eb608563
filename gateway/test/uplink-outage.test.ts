import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { hashPassword } from '../src/listen/credentials.js';
import { eventually, GatewayProcess, tempDir } from './support/gateway-process.js';
import { NatsServer } from './support/nats-server.js';
import { readStream, type StreamMessage } from './support/stream-reader.js';

// "Every work item reaches the contact center once": the uplink's outbox against a real
// nats-server that goes away for a minute while incidents keep flowing, and against a gateway
// killed with SIGKILL while its outbox is full.

const PASSWORD = 'sensor-password';
const DOORS = 8;
// Doors opening again and again would be damped or grouped by storm control (which then sends no
// work item); this test is about the outbox, so every incident here is an ordinary one.
const NO_STORM = { group: { after: 100_000 }, flap: { threshold: 100_000 } };

async function writeSite(dir: string): Promise<Record<string, unknown>> {
  const hash = await hashPassword(PASSWORD);
  const devices = Array.from(
    { length: DOORS },
    (_, i) => `  - { id: door-${i}, kind: door, name: Door ${i}, zone: z${i % 2} }`,
  );
  writeFileSync(
    join(dir, 'site.yaml'),
    `site: t9
timezone: Europe/Paris
teams: [{ id: security, name: Security, members: [amina] }]
people: [{ id: amina, name: Amina }]
clients: [{ username: sensors, passwordHash: '${hash}', publish: ['vigie/t9/#'] }]
devices:
${devices.join('\n')}
`,
  );
  mkdirSync(join(dir, 'rules'), { recursive: true });
  writeFileSync(
    join(dir, 'rules', 'door.yaml'),
    `rule: door-open
name: Door open
severity: minor
listen:
  devices: { kind: door }
  when: { state: { open: true } }
engage:
  message: '{device.name} open'
  steps: [{ notify: [team:security], via: [console] }]
`,
  );
  return { site: join(dir, 'site.yaml'), rules: join(dir, 'rules') };
}

/** Opens and closes doors in turn: each cycle is one incident opened then cleared. */
async function flapDoors(
  url: string,
  cycles: number,
  everyMs: number,
  stop?: () => boolean,
): Promise<number> {
  const c = await mqtt.connectAsync(url, { username: 'sensors', password: PASSWORD, reconnectPeriod: 200 });
  let done = 0;
  try {
    for (; done < cycles && !stop?.(); done++) {
      const door = `vigie/t9/door/door-${done % DOORS}`;
      await c.publishAsync(door, JSON.stringify({ open: true, ts: Date.now() }), { qos: 1 });
      await new Promise((r) => setTimeout(r, everyMs / 2));
      await c.publishAsync(door, JSON.stringify({ open: false, ts: Date.now() }), { qos: 1 });
      await new Promise((r) => setTimeout(r, everyMs / 2));
    }
  } finally {
    await c.endAsync();
  }
  return done;
}

/** Every transition and work item of every incident the gateway has, exactly once, in order per incident. */
async function assertDeliveredOnce(gw: GatewayProcess, nats: NatsServer): Promise<StreamMessage[]> {
  const incidents: any[] = (await gw.get('/incidents?limit=1000')).incidents;
  const events = await readStream(nats.url, 'VIGIE');
  const items = await readStream(nats.url, 'CC');
  const ids = [...events, ...items].map((m) => m.event.id);
  assert.equal(new Set(ids).size, ids.length, 'no event twice in the streams');
  for (const m of [...events, ...items]) assert.equal(m.msgId, m.event.id, 'Nats-Msg-Id is the event id');
  const bySubject = new Map<string, string[]>();
  for (const m of events) {
    const list = bySubject.get(m.event.subject) ?? [];
    list.push(m.event.type);
    bySubject.set(m.event.subject, list);
  }
  for (const i of incidents) {
    const expected = ['com.vigie.incident.opened'];
    if (i.state === 'cleared') expected.push('com.vigie.incident.cleared');
    assert.deepEqual(bySubject.get(i.id), expected, `events of ${i.id}, in order`);
    assert.equal(items.filter((m) => m.event.subject === i.id).length, 1, `one work item for ${i.id}`);
  }
  assert.equal(bySubject.size, incidents.length, 'no event for an incident the gateway does not have');
  return events;
}

describe('uplink - NATS away, gateway killed: every event reaches JetStream once, in order', () => {
  let nats: NatsServer;
  const gateways: GatewayProcess[] = [];

  before(async () => {
    nats = await NatsServer.start();
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await nats?.dispose();
  });

  test('nats-server stopped for 60 s while incidents flow: all delivered after it returns', async () => {
    const dir = tempDir('vigie-uplink-');
    const gw = new GatewayProcess(dir, {
      ...(await writeSite(dir)),
      uplink: { servers: [nats.url] },
      storm: NO_STORM,
    });
    gateways.push(gw);
    await gw.start();
    await eventually('the uplink connected', async () => /vigie_uplink_connected 1/.test(await gw.metrics()));

    await flapDoors(gw.mqttUrl, 4, 200);
    await nats.stop();
    const t0 = Date.now();
    // Incidents keep opening and clearing for the whole minute the uplink is away.
    const cycles = await flapDoors(gw.mqttUrl, 10_000, 1000, () => Date.now() - t0 > 58_000);
    assert.ok(cycles >= 50, `${cycles} incidents during the outage`);
    const depth = Number(/vigie_uplink_outbox_depth (\d+)/.exec(await gw.metrics())?.[1]);
    assert.ok(depth >= cycles * 2, `the outbox holds what could not go (${depth})`);
    const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
    assert.equal(ready.status, 200, 'still ready: the outbox holds');
    await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - t0))));
    await nats.restart();
    await eventually(
      'the outbox drained',
      async () => /vigie_uplink_outbox_depth 0\b/.test(await gw.metrics()),
      30_000,
    );
    const events = await assertDeliveredOnce(gw, nats);
    assert.ok(events.length >= (cycles + 4) * 2);
    await gw.stop();
  });

  test('gateway SIGKILLed with a full outbox: nothing lost, nothing doubled after the restart', async () => {
    await nats.restart();
    const dir = tempDir('vigie-uplink-kill-');
    const config = { ...(await writeSite(dir)), uplink: { servers: [nats.url] }, storm: NO_STORM };
    let gw = new GatewayProcess(dir, config);
    gateways.push(gw);
    await gw.start();
    // Start from empty streams for this gateway's site: the first test used the same site id.
    const before = (await readStream(nats.url, 'VIGIE')).length;
    await nats.stop();
    await flapDoors(gw.mqttUrl, 40, 40);
    const depth = Number(/vigie_uplink_outbox_depth (\d+)/.exec(await gw.metrics())?.[1]);
    assert.ok(depth >= 120, `outbox full (${depth})`);
    await gw.kill9();
    await nats.restart();
    gw = new GatewayProcess(dir, { ...config, mqtt: { port: gw.mqttPort } });
    gateways.push(gw);
    await gw.start();
    await eventually(
      'the outbox drained after the restart',
      async () => /vigie_uplink_outbox_depth 0\b/.test(await gw.metrics()),
      30_000,
    );
    const events = await readStream(nats.url, 'VIGIE');
    const mine = events.slice(before);
    const ids = mine.map((m) => m.event.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicate');
    assert.equal(mine.length, 80, '40 incidents opened and cleared: 80 events');
  });
});
