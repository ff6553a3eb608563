import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Delivery, Incident, TimelineEntry } from '../src/route/model.js';
import type { FlowRuleDoc } from '../src/red/link.js';
import type { ReplayResult } from '../src/workbench/model.js';
import { lineCollector } from './support/child.js';
import {
  ADMIN_TOKEN,
  CLI,
  EXAMPLE_SITE,
  GatewayProcess,
  ROOT,
  eventually,
  runCli,
  tempDir,
} from './support/gateway-process.js';

// Issue 8, "same engine everywhere": a live gateway runs YAML rules and a Node-RED-authored rule
// set while `vigie record` records it; `vigie replay` of that recording, with the same rules and
// the same flows file, must find the same incidents, at the same times, with the same escalations,
// acknowledgements and notifications.

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
    - notify: [team:emergency]
    - after: 1500ms
      notify: [team:security-supervisors]
---
rule: door-held-open
name: Door held open
severity: major
listen:
  devices: { kind: door }
  when:
    state: { open: true }
  for: 2s
engage:
  message: "{device.name} held open"
  steps:
    - notify: [team:security]
    - after: 2s
      notify: [team:security-supervisors]
`;

type Assemble = (nodes: readonly unknown[]) => { rules: { rule: FlowRuleDoc }[]; problems: unknown[] };
const { assemble } = createRequire(import.meta.url)(join(ROOT, 'rules/node-red/lib/assemble.js')) as {
  assemble: Assemble;
};

let gw: GatewayProcess | undefined;
const clients: MqttClient[] = [];
after(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await gw?.stop();
});

async function device(id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(gw!.mqttUrl, { username: id, password: `demo-${id}` });
  clients.push(c);
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('workbench - a replay of a live run’s own recording gives the same incidents, escalations and notifications', async () => {
  const dir = tempDir();
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'safety.yaml'), RULES);
  // The example temperature flow, with 1 s windows so the test is short.
  const flows = JSON.parse(
    readFileSync(join(ROOT, 'rules/node-red/examples/02-temperature.json'), 'utf8'),
  ) as Record<string, unknown>[];
  for (const n of flows) if (n.type === 'vigie-condition') n.for = '1s';
  const flowsFile = join(dir, 'flows.json');
  writeFileSync(flowsFile, JSON.stringify(flows));
  const assembled = assemble(flows);
  assert.deepEqual(assembled.problems, []);

  gw = new GatewayProcess(dir, { rules });
  await gw.start();
  // What Node-RED sends the gateway at deploy: the assembled rule documents of the flow.
  const put = await gw.request('PUT', '/rule-sources/node-red-1', {
    label: 'Node-RED',
    rules: assembled.rules.map((r) => r.rule),
  });
  assert.equal(put.status, 200, JSON.stringify(put.json));

  const recording = join(dir, 'live.jsonl');
  const rec = spawn(
    process.execPath,
    [CLI, 'record', '--url', `http://127.0.0.1:${gw.httpPort}`, '--token', ADMIN_TOKEN, '--out', recording],
    { env: { ...process.env, VIGIE_CONFIG: '' } },
  );
  const recLog: string[] = [];
  rec.stderr.on('data', lineCollector(recLog));
  const recExit = new Promise<number | null>((r) => rec.on('exit', (code) => r(code)));
  await eventually('the recording to start', () => recLog.some((l) => /recording rec_/.test(l)));

  const door = await device('door-g12');
  const aed = await device('aed-hall-b');
  const temp = await device('temp-hall-b');
  const send = (c: MqttClient, topic: string, body: object) =>
    c.publishAsync(topic, JSON.stringify({ ...body, ts: Date.now() }), { qos: 1 });

  // A door held open 5 s: opens at +2 s, escalates to the supervisors at +4 s, clears at +5 s.
  await send(door, 'vigie/airport/door/door-g12', { open: true });
  // The AED taken out: critical at once; acknowledged by an operator before its second step.
  await send(aed, 'vigie/airport/aed/aed-hall-b', { present: false });
  await send(temp, 'vigie/airport/temperature/temp-hall-b', { celsius: 29.5 });
  const aedIncident = await eventually('the AED incident', async () => {
    const { incidents } = (await gw!.get('/incidents?device=aed-hall-b')) as { incidents: Incident[] };
    return incidents[0];
  });
  const ack = await gw.request('POST', `/incidents/${aedIncident.id}/acknowledge`, {
    by: 'sec-amina',
    note: 'on my way',
  });
  assert.equal(ack.status, 200, JSON.stringify(ack.json));
  await sleep(1800);
  await send(temp, 'vigie/airport/temperature/temp-hall-b', { celsius: 21 });
  await sleep(3300);
  await send(door, 'vigie/airport/door/door-g12', { open: false });
  await send(aed, 'vigie/airport/aed/aed-hall-b', { present: true });
  await sleep(500);

  rec.kill('SIGINT');
  assert.equal(await recExit, 0, recLog.join('\n'));
  assert.ok(existsSync(recording));

  // The live side: every incident with its timeline and deliveries.
  const { incidents } = (await gw.get('/incidents')) as { incidents: Incident[] };
  const live = await Promise.all(
    incidents.map(
      async (i) =>
        (await gw!.get(`/incidents/${i.id}`)) as {
          incident: Incident;
          timeline: TimelineEntry[];
          deliveries: Delivery[];
        },
    ),
  );
  assert.deepEqual(
    live.map((l) => `${l.incident.ruleId}/${l.incident.deviceId}`).sort(),
    ['aed-removed/aed-hall-b', 'door-held-open/door-g12', 'temperature-out-of-range/temp-hall-b'],
    'the live run opened the three incidents the test is about',
  );

  const replay = await runCli([
    'replay',
    '--rules',
    rules,
    '--site',
    EXAMPLE_SITE,
    '--flows',
    flowsFile,
    '--json',
    recording,
  ]);
  assert.equal(replay.code, 0, replay.err);
  const r = JSON.parse(replay.out) as ReplayResult;
  assert.equal(r.skipped, 0, r.problems.join('\n'));
  assert.equal(r.actions, 1, 'the acknowledgement was recorded');

  // Live times come from real timers and commits: a few ms after the virtual clock's exact ones.
  const near = (a: number | undefined, b: number | undefined, what: string) => {
    assert.ok(a !== undefined && b !== undefined, `${what}: live ${a}, replay ${b}`);
    assert.ok(
      Math.abs(a - b) < 300,
      `${what}: live ${new Date(a).toISOString()} vs replay ${new Date(b).toISOString()}`,
    );
  };
  assert.equal(r.incidents.length, live.length, JSON.stringify(r.incidents, null, 2));
  for (const l of live) {
    const i = l.incident;
    const twin = r.incidents.find((x) => x.ruleId === i.ruleId && x.deviceId === i.deviceId);
    assert.ok(twin, `replay has ${i.ruleId} on ${i.deviceId}`);
    const what = `${i.ruleId} on ${i.deviceId}`;
    assert.equal(twin.severity, i.severity, what);
    assert.equal(twin.state, i.state, what);
    assert.equal(twin.reason, i.reason, what);
    near(i.openedAt, twin.openedAt, `${what} opened`);
    if (i.clearedAt !== undefined || twin.clearedAt !== undefined)
      near(i.clearedAt, twin.clearedAt, `${what} cleared`);
    if (i.acknowledgedAt !== undefined || twin.acknowledgedAt !== undefined)
      near(i.acknowledgedAt, twin.acknowledgedAt, `${what} acknowledged`);
    const escalations = l.timeline.filter((e) => e.kind === 'escalated');
    assert.deepEqual(
      twin.escalations.map((e) => e.step),
      escalations.map((e) => e.detail.step),
      `${what} escalations`,
    );
    escalations.forEach((e, n) => near(e.at, twin.escalations[n].at, `${what} escalation ${n + 1}`));
    const sent = (list: { to: string; channel: string; step: number }[]) =>
      list.map((d) => `${d.step} ${d.channel} ${d.to}`).sort();
    assert.deepEqual(
      sent(r.notifications.filter((n) => n.incidentId === twin.id && n.outcome === 'sent')),
      sent(
        l.deliveries
          .filter((d) => d.state === 'delivered')
          .map((d) => ({ to: d.recipient, channel: d.channel, step: d.step })),
      ),
      `${what} notifications`,
    );
  }
  // The door was escalated once (the AED was acknowledged before its second step).
  assert.equal(r.incidents.find((x) => x.ruleId === 'door-held-open')!.escalations.length, 1);
  assert.equal(r.incidents.find((x) => x.ruleId === 'aed-removed')!.escalations.length, 0);
});
