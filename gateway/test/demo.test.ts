import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { ADMIN_TOKEN, CLI, eventually, tempDir } from './support/gateway-process.js';
import { freePort } from './support/ports.js';

// The README's start command runs `vigie demo`: the gateway on embedded defaults with the airport
// example and the simulator. Within a minute a new user must see a door held open, a temperature
// excursion and an AED removal, with notifications and an escalation step.

const children: Array<ReturnType<typeof spawn>> = [];
after(() => {
  for (const c of children) c.kill('SIGTERM');
});

test('demo - within a minute the airport shows a door held open, a temperature excursion and an AED removal, escalated', async () => {
  const [http, mqtt] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [CLI, 'demo'], {
    cwd: tempDir(),
    env: {
      ...process.env,
      VIGIE_CONFIG: '',
      VIGIE_DATA_DIR: tempDir(),
      VIGIE_HTTP_PORT: String(http),
      VIGIE_MQTT_PORT: String(mqtt),
      VIGIE_ADMIN_TOKEN: ADMIN_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const api = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${http}/api/v1${path}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return res.json() as Promise<any>;
  };
  const started = Date.now();
  const wanted = ['door-held-open', 'temperature-out-of-range', 'aed-removed'];
  const incidents = await eventually(
    `the three demo incidents; log tail:\n${log.slice(-2000)}`,
    async () => {
      const list = (await api('/incidents?limit=100')).incidents as any[];
      return wanted.every((r) => list.some((i) => i.ruleId === r)) ? list : undefined;
    },
    60_000,
    500,
  );
  assert.ok(Date.now() - started < 60_000);
  const aed = incidents.find((i) => i.ruleId === 'aed-removed');
  assert.equal(aed.severity, 'critical');
  const detail = await eventually(
    'the AED escalation step',
    async () => {
      const d = await api(`/incidents/${aed.id}`);
      return d.timeline.some((e: any) => e.kind === 'escalated') ? d : undefined;
    },
    40_000,
    500,
  );
  assert.ok(detail.deliveries.length >= 3, 'step 1 and the escalation step were delivered');
  assert.ok(detail.deliveries.every((d: any) => d.state === 'delivered'));
  assert.match(log, /notify team:emergency/, 'console notifications are in the log');
  child.kill('SIGTERM');
});
