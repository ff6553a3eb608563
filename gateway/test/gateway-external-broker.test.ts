import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { eventually, GatewayProcess, tempDir } from './support/gateway-process.js';
import { Mosquitto } from './support/mosquitto.js';

// The same gateway, configured to use the site's existing broker instead of its embedded one:
// a real Mosquitto, real mosquitto_pub as the device, the same ingest path and rules.

let broker: Mosquitto;
const clients: MqttClient[] = [];

/** Publishes with the real mosquitto_pub client (QoS 1), as a device on the site's broker would. */
function pub(topic: string, payload: string): void {
  execFileSync('mosquitto_pub', ['-p', String(broker.port), '-t', topic, '-m', payload, '-q', '1']);
}
let gw: GatewayProcess;

before(async () => {
  broker = await Mosquitto.start();
  gw = new GatewayProcess(tempDir(), { mqtt: { mode: 'external', url: broker.url, clientId: 'vigie-test' } });
  await gw.start();
});

after(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await gw?.stop();
  await broker?.stop();
});

test('external broker - events published on Mosquitto open incidents and the incident is published back', async () => {
  const watcher = await mqtt.connectAsync(broker.url);
  clients.push(watcher);
  const seen: any[] = [];
  await watcher.subscribeAsync('vigie/airport/incidents/#');
  watcher.on('message', (_t, p) => seen.push(JSON.parse(p.toString())));
  await eventually('the gateway to be ready on the external broker', async () => {
    const r = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
    return r.status === 200;
  });

  pub('vigie/airport/aed/aed-gate-g', JSON.stringify({ present: false, ts: Date.now() }));
  const [inc] = await eventually('the AED incident', async () => {
    const l = (await gw.get('/incidents?device=aed-gate-g')).incidents;
    return l.length > 0 ? l : undefined;
  });
  assert.equal(inc.severity, 'critical');
  const published = await eventually('the incident on MQTT', () => seen.find((m) => m.id === inc.id));
  assert.equal(published.transition, 'opened');
  assert.equal(published.device, 'aed-gate-g');

  // An operator's acknowledgement is published once, like every transition.
  const ack = await gw.request('POST', `/incidents/${inc.id}/acknowledge`, { by: 'claire' });
  assert.equal(ack.status, 200);
  await gw.request('POST', `/incidents/${inc.id}/acknowledge`, { by: 'claire' }); // a double click
  await eventually('the acknowledgement on MQTT', () =>
    seen.some((m) => m.id === inc.id && m.transition === 'acknowledged'),
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(seen.filter((m) => m.id === inc.id && m.transition === 'acknowledged').length, 1);

  // A malformed payload through the external broker is rejected and counted, like on the embedded one.
  pub('vigie/airport/aed/aed-gate-g', '{nope');
  await eventually('the rejection to be counted', async () =>
    /vigie_events_rejected_total\{reason="malformed_json"\} [1-9]/.test(await gw.metrics()),
  );

  // The broker goes away and comes back: the gateway reconnects and keeps listening.
  await broker.restart();
  await eventually(
    'the gateway to reconnect',
    async () => (await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`)).status === 200,
    20_000,
  );
  await eventually(
    'an event after the restart to be applied',
    async () => {
      pub('vigie/airport/aed/aed-gate-g', JSON.stringify({ present: true, ts: Date.now() }));
      return (await gw.get(`/incidents/${inc.id}`)).incident.state === 'cleared';
    },
    20_000,
    500,
  );
});

test('external broker - an alarm published while the gateway restarts is not lost (persistent session)', async () => {
  await gw.stop();
  pub('vigie/airport/aed/aed-hall-b', JSON.stringify({ present: false, ts: Date.now() }));
  gw = new GatewayProcess(gw.dir, { mqtt: { mode: 'external', url: broker.url, clientId: 'vigie-test' } });
  await gw.start();
  const [inc] = await eventually('the AED incident published during the restart', async () => {
    const l = (await gw.get('/incidents?device=aed-hall-b')).incidents;
    return l.length > 0 ? l : undefined;
  });
  assert.equal(inc.severity, 'critical');
});
