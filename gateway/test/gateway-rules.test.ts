import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { eventually, GatewayProcess, tempDir } from './support/gateway-process.js';

// Rule files are edited by people: a typo must never leave the site unwatched, neither while the
// gateway runs nor when it (re)starts on the broken file.

const RULES = `
rule: aed-removed
name: AED removed
severity: critical
listen:
  devices: { kind: aed }
  when:
    state: { present: false }
engage:
  message: "{device.name}: AED removed"
  steps:
    - notify: [team:security]
---
rule: door-held-open
name: Door held open
severity: major
listen:
  devices: { kind: door }
  when:
    state: { open: true }
  for: 3s
engage:
  message: "{device.name} held open"
  steps:
    - notify: [team:security]
`;

let gw: GatewayProcess | undefined;
const clients: MqttClient[] = [];
after(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await gw?.stop();
});

test('rules - a pending for window survives a reload of an unchanged rule in the running gateway', async () => {
  const dir = tempDir();
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'safety.yaml'), RULES);
  gw = new GatewayProcess(dir, { rules });
  await gw.start();
  const door = await mqtt.connectAsync(gw.mqttUrl, { username: 'door-g12', password: 'demo-door-g12' });
  clients.push(door);
  await door.publishAsync('vigie/airport/door/door-g12', JSON.stringify({ open: true, ts: Date.now() }), {
    qos: 1,
  });
  const t0 = Date.now();
  // An unrelated edit of the file in the middle of the 3 s window, then a SIGHUP.
  const from = gw.logs.length;
  writeFileSync(join(rules, 'safety.yaml'), RULES.replace('AED removed"', 'AED taken"'));
  await gw.waitForLog(/rules loaded/, 5000, from);
  gw.signalOnly('SIGHUP');
  const [inc] = await eventually('the door incident', async () => {
    const l = (await gw!.get('/incidents?rule=door-held-open')).incidents;
    return l.length > 0 ? l : undefined;
  });
  assert.ok(inc.openedAt >= t0 + 2900, 'opened when its window ended, not restarted by the reload');
  assert.ok(inc.openedAt <= t0 + 4500);
  await gw.stop();
});

test('rules - restarted on an invalid rule file, the gateway runs the last valid rule set', async () => {
  const dir = tempDir();
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  const file = join(rules, 'safety.yaml');
  writeFileSync(file, RULES);
  gw = new GatewayProcess(dir, { rules });
  await gw.start();
  await gw.stop();

  // The integrator saves a broken file; then the power goes.
  writeFileSync(file, readFileSync(file, 'utf8').replace('severity: critical', 'severity: urgent'));
  gw = new GatewayProcess(dir, { rules });
  await gw.start();
  await gw.waitForLog(/rule rejected: .*safety\.yaml:\d+: .*severity/);
  await gw.waitForLog(/running the last valid rule set instead \(2 rule\(s\)/);
  const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
  assert.equal(ready.status, 200, 'rules are running, so the gateway is ready');

  const aed = await mqtt.connectAsync(gw.mqttUrl, { username: 'aed-hall-b', password: 'demo-aed-hall-b' });
  clients.push(aed);
  await aed.publishAsync('vigie/airport/aed/aed-hall-b', JSON.stringify({ present: false }), { qos: 1 });
  const [inc] = await eventually('the AED incident from the last valid rules', async () => {
    const l = (await gw!.get('/incidents?rule=aed-removed')).incidents;
    return l.length > 0 ? l : undefined;
  });
  assert.equal(inc.severity, 'critical');
});
