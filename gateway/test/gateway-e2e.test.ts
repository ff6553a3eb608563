import assert from 'node:assert/strict';
import { cpSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { EXAMPLE_RULES, eventually, GatewayProcess, tempDir } from './support/gateway-process.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

// The gateway as a user runs it: a child process on the shipped airport example (site + rules),
// devices publishing with their own credentials, incidents read through the API, notifications
// caught by a real webhook receiver.

const SECRET = 'e2e-webhook-secret-0123456789abcdef';

describe('gateway - airport example end to end', () => {
  const dir = tempDir();
  const rules = join(dir, 'rules');
  const hook = new WebhookReceiver(SECRET);
  let gw: GatewayProcess;
  const clients: MqttClient[] = [];

  const device = async (id: string, password = `demo-${id}`, opts: mqtt.IClientOptions = {}) => {
    const c = await mqtt.connectAsync(gw.mqttUrl, { username: id, password, reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  };
  const openIncidents = async (query: string) => (await gw.get(`/incidents?${query}`)).incidents as any[];

  before(async () => {
    cpSync(EXAMPLE_RULES, rules, { recursive: true });
    await hook.start();
    gw = new GatewayProcess(dir, {
      rules,
      site: join(rules, 'site.yaml'),
      channels: { 'ops-webhook': { type: 'webhook', url: hook.url, secret: SECRET, backoff: '200ms' } },
    });
    await gw.start();
  });

  after(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    await gw.stop();
    await hook.stop();
  });

  test('an AED taken out of its cabinet opens a critical incident at once, with camera and speaker, and notifies', async () => {
    const aed = await device('aed-hall-b');
    const t0 = Date.now();
    await aed.publishAsync(
      'vigie/airport/aed/aed-hall-b',
      JSON.stringify({ present: false, cabinetOpen: true, ts: t0 }),
      {
        qos: 1,
      },
    );
    const [inc] = await eventually('the AED incident', async () => {
      const l = await openIncidents('device=aed-hall-b&state=open');
      return l.length > 0 ? l : undefined;
    });
    assert.equal(inc.severity, 'critical');
    assert.ok(inc.openedAt - t0 < 1000, 'opened within a second');
    const detail = await gw.get(`/incidents/${inc.id}`);
    const context = JSON.stringify(detail.incident?.context ?? detail.context);
    assert.match(context, /sip:aed-hall-b@pbx\.airport\.example/, 'speaker SIP address attached');
    assert.match(context, /rtsp:\/\/127\.0\.0\.1:8554\/cam-hall-b/, 'camera stream attached');
    // The emergency desk and security are notified by webhook at once (step 1).
    const hooks = await eventually('AED webhooks', () => {
      const h = hook.forIncident(inc.id);
      return h.length >= 2 ? h : undefined;
    });
    assert.ok(hooks.every((h) => h.signatureValid));
    assert.ok(hooks.some((h) => h.body.recipient?.id === 'emergency-desk'));
    // Putting it back clears the incident.
    await aed.publishAsync(
      'vigie/airport/aed/aed-hall-b',
      JSON.stringify({ present: true, ts: Date.now() }),
      { qos: 1 },
    );
    await eventually(
      'the AED incident to clear',
      async () => (await gw.get(`/incidents/${inc.id}`)).incident?.state === 'cleared',
    );
  });

  test('a badge door opened without an allowed badge is a forced door; with a staff badge it is not', async () => {
    const door = await device('door-staff-b');
    await door.publishAsync(
      'vigie/airport/door/door-staff-b',
      JSON.stringify({ open: false, badge: 'A1234', ts: Date.now() }),
      {
        qos: 1,
      },
    );
    await door.publishAsync(
      'vigie/airport/door/door-staff-b',
      JSON.stringify({ open: true, ts: Date.now() + 1 }),
      { qos: 1 },
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(
      (await openIncidents('device=door-staff-b&rule=door-forced')).length,
      0,
      'authorised opening',
    );
    await door.publishAsync(
      'vigie/airport/door/door-staff-b',
      JSON.stringify({ open: false, ts: Date.now() }),
      { qos: 1 },
    );
    await new Promise((r) => setTimeout(r, 11_000)); // the 10 s badge window passes
    await door.publishAsync(
      'vigie/airport/door/door-staff-b',
      JSON.stringify({ open: true, ts: Date.now() }),
      { qos: 1 },
    );
    await eventually(
      'a forced-door incident',
      async () => (await openIncidents('device=door-staff-b&rule=door-forced')).length === 1,
    );
  });

  test('a Zigbee2MQTT contact sensor is read with the right polarity (contact false = open)', async () => {
    const bridge = await device('z2m-bridge');
    await bridge.publishAsync(
      'zigbee2mqtt/lobby_side_door',
      JSON.stringify({ contact: false, battery: 87 }),
      { qos: 1 },
    );
    const dev = await eventually('the lobby door to show open', async () => {
      const d = (await gw.get('/devices/door-lobby')).device;
      return d.values?.open === true ? d : undefined;
    });
    assert.equal(dev.battery, 87);
    await bridge.publishAsync('zigbee2mqtt/lobby_side_door', JSON.stringify({ contact: true }), { qos: 1 });
    await eventually(
      'the lobby door to show closed',
      async () => (await gw.get('/devices/door-lobby')).device.values?.open === false,
    );
  });

  test('a device that dies (last will) raises a sensor-offline incident; online clears it', async () => {
    const temp = await device('temp-gate-g', undefined, {
      will: {
        topic: 'vigie/airport/temperature/temp-gate-g/status',
        payload: Buffer.from('offline'),
        retain: true,
        qos: 1,
      },
    });
    await temp.publishAsync('vigie/airport/temperature/temp-gate-g/status', 'online', {
      retain: true,
      qos: 1,
    });
    await temp.publishAsync('vigie/airport/temperature/temp-gate-g', JSON.stringify({ celsius: 21.5 }), {
      qos: 1,
    });
    (temp as unknown as { stream: { destroy(): void } }).stream.destroy(); // no DISCONNECT: the broker sends the will
    const [inc] = await eventually('a sensor-offline incident', async () => {
      const l = await openIncidents('device=temp-gate-g&rule=sensor-offline&state=open');
      return l.length > 0 ? l : undefined;
    });
    const back = await device('temp-gate-g');
    await back.publishAsync('vigie/airport/temperature/temp-gate-g/status', 'online', {
      retain: true,
      qos: 1,
    });
    await eventually(
      'the offline incident to clear',
      async () => (await gw.get(`/incidents/${inc.id}`)).incident?.state === 'cleared',
    );
  });

  test('an invalid rule file is rejected with file, line and reason while the previous rules keep running', async () => {
    const file = join(rules, 'aed.yaml');
    const good = readFileSync(file, 'utf8');
    const from = gw.logs.length;
    writeFileSync(file, good.replace(/severity: critical/, 'severity: apocalyptic'));
    const line = await gw.waitForLog(/rule rejected: .*aed\.yaml:\d+: .*severity/, 5000, from);
    assert.match(line, /aed\.yaml:\d+:/);
    // The AED rule still runs.
    const aed = await device('aed-gate-g');
    await aed.publishAsync(
      'vigie/airport/aed/aed-gate-g',
      JSON.stringify({ present: false, ts: Date.now() }),
      { qos: 1 },
    );
    await eventually(
      'the AED rule to still fire',
      async () => (await openIncidents('device=aed-gate-g&state=open')).length === 1,
    );
    // Fixing the file reloads it; SIGHUP reloads too.
    const from2 = gw.logs.length;
    writeFileSync(file, good);
    await gw.waitForLog(/rules loaded/, 5000, from2);
    const from3 = gw.logs.length;
    gw.signalOnly('SIGHUP');
    await gw.waitForLog(/rules loaded/, 5000, from3);
  });

  test('thousands of hostile messages are rejected with reasons and counted; the gateway keeps working', async () => {
    const door = await device('door-g14');
    const bad: Array<[string, string | Buffer]> = [];
    const t = 'vigie/airport/door/door-g14';
    for (let i = 0; i < 600; i++) {
      bad.push([t, '{"open": tru']);
      bad.push([t, JSON.stringify({ open: 'yes' })]);
      bad.push([t, '['.repeat(5000) + ']'.repeat(5000)]);
      bad.push([t, Buffer.from(Array.from({ length: 64 }, (_, k) => (k * 37 + i) & 0xff))]);
      bad.push([t, JSON.stringify({ open: true, ts: 'yesterday' })]);
    }
    bad.push([t, JSON.stringify({ open: true, pad: 'x'.repeat(70 * 1024) })]);
    for (const [topic, payload] of bad) door.publish(topic, payload, { qos: 0 });
    await door.publishAsync(t, JSON.stringify({ open: false, ts: Date.now() }), { qos: 1 });
    const metrics = await eventually('rejections to be counted', async () => {
      const m = await gw.metrics();
      const total = [...m.matchAll(/^vigie_events_rejected_total\{[^}]*\} (\d+)/gm)].reduce(
        (s, x) => s + Number(x[1]),
        0,
      );
      return total >= 3000 ? m : undefined;
    });
    for (const reason of ['malformed_json', 'wrong_type', 'bad_ts']) {
      assert.match(metrics, new RegExp(`vigie_events_rejected_total\\{reason="${reason}"\\} \\d+`), reason);
    }
    const health = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(
      (await gw.get('/devices/door-g14')).device.values.open,
      false,
      'the good message after the storm was applied',
    );
  });
  test('metrics and rule validation as an operator and an integrator would use them', async () => {
    const m = await gw.metrics();
    for (const family of [
      /^vigie_events_in_total \d+/m,
      /^vigie_rule_evaluation_seconds_bucket\{le="0.001"\} \d+/m,
      /^vigie_incidents\{state="open"\} \d+/m,
      /^vigie_notifications_total\{channel="console",outcome="delivered"\} [1-9]/m,
      /^vigie_notifications_total\{channel="ops-webhook",outcome="delivered"\} [1-9]/m,
    ]) {
      assert.match(m, family);
    }
    const bad =
      'rule: x\nname: X\nseverity: major\nlisten:\n  devices: { kind: door }\n  when: { state: { open: true } }\n  for: 30\n';
    const r = await gw.request('POST', '/rules/validate', { file: 'x.yaml', text: bad });
    assert.equal(r.status, 200);
    assert.equal(r.json.ok, false);
    assert.deepEqual(
      r.json.problems.map((p: any) => [p.file, p.line]),
      [['x.yaml', 7]],
    );
    assert.match(r.json.problems[0].message, /not a duration/);
    const viewer = await gw.request('POST', '/incidents/nope/acknowledge', {}, 'not-a-token');
    assert.equal(viewer.status, 401);
  });
});
