import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { lineCollector, stopChild } from './support/child.js';
import {
  ADMIN_TOKEN,
  EXAMPLE_RULES,
  eventually,
  GatewayProcess,
  ROOT,
  tempDir,
} from './support/gateway-process.js';
import { exampleFlow, fileNode, jsonLines } from './support/flows.js';
import { freePort } from './support/ports.js';

// "Or work with an existing Node-RED": a standalone Node-RED v4 process (its own red.js, its own
// port, the Vigie package in its nodesDir) authors the door rules of a separate gateway process
// over the gateway's HTTP API with a bearer token. The rules run in the gateway: they go on when
// that Node-RED is gone.

describe('Node-RED: a separate Node-RED process authors rules on a remote gateway', () => {
  const dir = tempDir('vigie-nr-remote-');
  const rules = join(dir, 'rules');
  const redDir = join(dir, 'node-red');
  const out = join(dir, 'remote-transitions.jsonl');
  const clients: MqttClient[] = [];
  const redLogs: string[] = [];
  let gw: GatewayProcess;
  let red: ChildProcess | undefined;
  let redPort = 0;

  const redApi = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${redPort}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const incidentsOf = async (rule: string, deviceId: string) =>
    (await gw.get(`/incidents?rule=${rule}&device=${deviceId}`)).incidents as any[];
  const door = async (id: string) => {
    const c = await mqtt.connectAsync(gw.mqttUrl, {
      username: id,
      password: `demo-${id}`,
      reconnectPeriod: 0,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    cpSync(EXAMPLE_RULES, rules, { recursive: true });
    rmSync(join(rules, 'door.yaml'));
    gw = new GatewayProcess(dir, { rules, site: join(rules, 'site.yaml') });
    await gw.start();
    redPort = await freePort();
    const settings = join(dir, 'red-settings.cjs');
    writeFileSync(
      settings,
      `module.exports = ${JSON.stringify({
        uiHost: '127.0.0.1',
        uiPort: redPort,
        userDir: redDir,
        flowFile: 'flows.json',
        credentialSecret: 'remote-test-secret',
        nodesDir: [join(ROOT, 'rules/node-red')],
        logging: { console: { level: 'warn' } },
        diagnostics: { enabled: false },
        telemetry: { enabled: false, updateNotification: false },
        editorTheme: { tours: false, projects: { enabled: false } },
      })};\n`,
    );
    red = spawn(process.execPath, [join(ROOT, 'node_modules/node-red/red.js'), '-s', settings], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    red.stdout!.on('data', lineCollector(redLogs));
    red.stderr!.on('data', lineCollector(redLogs));
    await eventually(
      'the standalone Node-RED',
      async () => (await redApi('GET', '/flows')).status === 200,
      60_000,
      250,
    );
  });

  after(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    await stopChild(red, 5000);
    await gw.stop();
  });

  test('the door flow, pointed at the gateway with a token, runs there as source "lab-red"', async () => {
    const nodes = exampleFlow('01-doors.json').map((n) =>
      n.type === 'vigie-gateway'
        ? {
            ...n,
            name: 'Lab gateway',
            mode: 'remote',
            url: `http://127.0.0.1:${gw.httpPort}`,
            source: 'lab-red',
            credentials: { token: ADMIN_TOKEN },
          }
        : n,
    );
    const tab = nodes.find((n) => n.type === 'tab')!.id;
    const incident = nodes.find((n) => n.type === 'vigie-incident')!;
    incident.wires = [['remote-file'], []];
    nodes.push(fileNode('remote-file', tab, out));
    const r = await redApi('POST', '/flows', nodes);
    assert.ok(r.status === 200 || r.status === 204, `deploy: ${r.status} ${r.text}`);
    const source = await eventually(
      'the rules of lab-red in the gateway',
      async () => ((await gw.get('/rule-sources')).sources as any[]).find((s) => s.id === 'lab-red'),
      20_000,
    );
    assert.deepEqual([...source.rules].sort(), ['door-forced', 'door-held-open', 'door-outside-hours']);
    assert.equal(source.label, 'Lab gateway');
  });

  test('a forced door opens an incident in the gateway, and the remote incident node hears of it', async () => {
    const staff = await door('door-staff-b');
    await staff.publishAsync('vigie/airport/door/door-staff-b', JSON.stringify({ open: true }), { qos: 1 });
    const [inc] = await eventually('door-forced', async () => {
      const l = await incidentsOf('door-forced', 'door-staff-b');
      return l.length > 0 ? l : undefined;
    });
    const heard = await eventually(
      'the transition in the remote flow',
      () => {
        const l = jsonLines(out).filter((x) => x.incident?.id === inc.id);
        return l.length > 0 ? l : undefined;
      },
      15_000,
    );
    assert.equal(heard[0].transition, 'opened');
  });

  test('with that Node-RED stopped, its rules keep running in the gateway', async () => {
    await stopChild(red, 5000);
    red = undefined;
    const staff = await door('door-staff-b');
    // Close (clears the first incident), then a second forced opening.
    await staff.publishAsync('vigie/airport/door/door-staff-b', JSON.stringify({ open: false }), { qos: 1 });
    await eventually('the first incident cleared', async () =>
      (await incidentsOf('door-forced', 'door-staff-b')).every((i) => i.state !== 'open'),
    );
    await staff.publishAsync('vigie/airport/door/door-staff-b', JSON.stringify({ open: true }), { qos: 1 });
    await eventually('a second door-forced incident', async () => {
      const l = await incidentsOf('door-forced', 'door-staff-b');
      return l.some((i) => i.state === 'open') && l.length === 2;
    });
  });
});
