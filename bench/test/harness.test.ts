// bench harness - smoke test of the pieces `npm run bench` relies on, against a plain aedes broker:
// the load generator's pacing (its CLI, as the bench runs it) and the measuring subscriber.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { startChild } from '../src/proc.js';
import type { SubscriberReport } from '../src/subscriber.js';

const dist = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

let broker: Aedes;
let server: Server;
let url: string;
let counter: MqttClient;
const arrivals: Array<{ at: number; device: string; celsius: number }> = [];

before(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `mqtt://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  counter = await mqtt.connectAsync(url, { clientId: 'counter' });
  counter.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as { celsius: number };
    arrivals.push({ at: performance.now(), device: topic.split('/')[3], celsius: body.celsius });
  });
  await counter.subscribeAsync('vigie/smoke/temperature/+');
});

after(async () => {
  await counter?.endAsync();
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
});

test('bench harness - the load generator holds 1k events/s for 2 s and the subscriber measures it', async () => {
  const sub = startChild(process.execPath, [
    dist('bench/src/subscriber.js'),
    ...['--url', url, '--topic', 'vigie/smoke/temperature/+', '--mode', 'raw', '--warmup', '500'],
  ]);
  await sub.waitLine((l) => l.includes('"ready"'), 10_000, 'the subscriber');
  const load = startChild(process.execPath, [
    dist('firmware-sim/src/cli.js'),
    ...['--url', url, '--devices', '50', '--rate', '1000', '--duration', '2s', '--site', 'smoke', '--json'],
  ]);
  const line = await load.waitLine((l) => l.startsWith('{"sent"'), 15_000, 'the load report');
  const report = JSON.parse(line) as { sent: number; achievedRate: number; elapsedMs: number };
  assert.ok(Math.abs(report.sent - 2000) <= 20, `sent ${report.sent}`);
  assert.ok(Math.abs(report.achievedRate - 1000) <= 30, `achieved ${report.achievedRate}/s`);

  const end = Date.now() + 5000;
  while (arrivals.length < report.sent && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal(arrivals.length, report.sent, 'QoS 0 on loopback lost nothing');

  // Paced, not bursty: every 100 ms window in the middle of the run carries about 100 events.
  const t0 = arrivals[0].at;
  const windows = new Map<number, number>();
  for (const a of arrivals)
    windows.set(Math.floor((a.at - t0) / 100), (windows.get(Math.floor((a.at - t0) / 100)) ?? 0) + 1);
  const middle = [...windows.entries()].filter(([w]) => w >= 2 && w <= 16).map(([, n]) => n);
  assert.ok(
    middle.every((n) => n >= 30 && n <= 170),
    `per-100 ms counts: ${middle.join(' ')}`,
  );

  // Each device alternates hot and cold, so every event crosses the bench rule's threshold.
  const d0 = arrivals.filter((a) => a.device === 't00000').map((a) => a.celsius);
  assert.deepEqual(d0.slice(0, 4), [35, 15, 35, 15]);

  sub.send('stop');
  const out = await sub.waitLine((l) => l.startsWith('{"report"'), 10_000, 'the subscriber report');
  const sr = (JSON.parse(out) as { report: SubscriberReport }).report;
  assert.equal(sr.received, report.sent);
  assert.ok(
    sr.measured.count >= 1400 && sr.measured.count <= 1520,
    `measured ${sr.measured.count} after the warm-up`,
  );
  assert.ok(sr.measured.p50 > 0 && sr.measured.p50 < 50, `p50 ${sr.measured.p50} ms`);
  assert.ok(sr.measured.p50 <= sr.measured.p99 && sr.measured.p99 <= sr.measured.max);
  assert.ok(Math.abs(sr.rate - 1000) < 100, `delivered ${sr.rate}/s`);
  await Promise.all([sub.exited, load.exited]);
});
