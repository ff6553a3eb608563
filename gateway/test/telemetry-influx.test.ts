import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { InfluxConfig } from '../src/config/schema.js';
import { VigieError } from '../src/core/errors.js';
import { memoryLogger } from '../src/core/log.js';
import { Registry } from '../src/core/metrics.js';
import { InfluxReader } from '../src/telemetry/influx-reader.js';
import { InfluxWriter } from '../src/telemetry/influx-writer.js';
import type { TelemetryPoint, TimelineRow } from '../src/telemetry/model.js';
import { SensorPoints, timelinePoint } from '../src/telemetry/points.js';
import { lineCollector, stopChild } from './support/child.js';
import { eventually } from './support/gateway-process.js';
import { Influxd } from './support/influxd.js';
import { freePort } from './support/ports.js';

// The InfluxDB side of telemetry against a real influxd (1.x): setup on first start, batching by
// size and time, an outage buffered on disk and drained, the disk bound, a crashed process's
// buffer drained by the next one, a refused point, and what the console's charts and KPIs read.

const DAY = 86_400_000;
let influxd: Influxd;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

before(async () => {
  influxd = await Influxd.start();
});
after(async () => {
  await influxd?.dispose();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigie-tel-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function config(database: string, o: Partial<InfluxConfig> = {}): InfluxConfig & { bufferDir: string } {
  return {
    url: influxd.url,
    database,
    retentionPolicy: 'vigie',
    retention: 30 * DAY,
    batchSize: 1000,
    flushInterval: 100,
    timeout: 2000,
    maxBufferBytes: 64 * 1024 * 1024,
    bufferDir: tempDir(),
    ...o,
  };
}

function writer(cfg: InfluxConfig & { bufferDir: string }) {
  const logger = memoryLogger();
  const metrics = new Registry();
  const w = new InfluxWriter(cfg, { logger, metrics });
  cleanups.push(() => w.stop());
  const points = metrics.counter('vigie_telemetry_points_total', '');
  const count = (result: string) => points.get({ result });
  return { w, logger, metrics, count };
}

/** Temperatures `from`..`from+n-1` of one device, one second apart, ending a minute ago. */
function temps(from: number, n: number, device = 'temp-1'): TelemetryPoint[] {
  const end = Date.now() - 60_000;
  return Array.from({ length: n }, (_, i) => ({
    measurement: 'sensor' as const,
    tags: { site: 'cdg', zone: 'kitchen', kind: 'temperature', device },
    fields: { celsius: from + i },
    time: end - (10_000 - from - i) * 1000,
  }));
}

async function celsius(db: string, device = 'temp-1'): Promise<number[]> {
  const rows = await influxd.rows(db, `SELECT "celsius" FROM "vigie"."sensor" WHERE "device" = '${device}'`);
  return rows.map((r) => r.celsius as number);
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('telemetry - database and retention policy created on first start, corrected on the next', async () => {
  const a = writer(config('vigie_setup', { retention: 7 * DAY }));
  await a.w.start();
  assert.equal(a.w.status().connected, true);
  assert.match(a.metrics.render(), /vigie_telemetry_up 1/);
  const rps = await influxd.rows('vigie_setup', 'SHOW RETENTION POLICIES ON "vigie_setup"');
  const rp = rps.find((r) => r.name === 'vigie');
  assert.equal(rp?.duration, '168h0m0s');
  assert.equal(rp?.default, true);
  await a.w.stop();

  const b = writer(config('vigie_setup', { retention: 14 * DAY }));
  await b.w.start();
  const again = await influxd.rows('vigie_setup', 'SHOW RETENTION POLICIES ON "vigie_setup"');
  assert.equal(again.find((r) => r.name === 'vigie')?.duration, '336h0m0s');
  assert.equal(again.filter((r) => r.default === true).length, 1);
});

test('telemetry - a batch goes when it is full, or when the flush interval has passed', async () => {
  const db = 'vigie_batch';
  const bySize = writer(config(db, { batchSize: 5, flushInterval: 60_000 }));
  await bySize.w.start();
  bySize.w.write(temps(0, 3));
  await sleep(400);
  assert.deepEqual(await celsius(db), [], '3 of 5: not sent yet');
  const t0 = Date.now();
  bySize.w.write(temps(3, 2));
  const seen = await eventually('the full batch', async () => {
    const v = await celsius(db);
    return v.length > 0 && v;
  });
  assert.deepEqual(seen, range(0, 5), 'the 5 points arrive together');
  console.log(`batch by size visible after ${Date.now() - t0} ms`);
  assert.equal(bySize.count('written'), 5);

  const byTime = writer(config(db, { batchSize: 1000, flushInterval: 300 }));
  await byTime.w.start();
  const t1 = Date.now();
  byTime.w.write(temps(0, 3, 'temp-2'));
  await eventually('the timed batch', async () => (await celsius(db, 'temp-2')).length === 3);
  const ms = Date.now() - t1;
  assert.ok(ms >= 250, `sent after the interval, not at once (${ms} ms)`);
  console.log(`batch by time visible after ${ms} ms (flushInterval 300)`);
});

test('telemetry - while InfluxDB is down points wait on disk, then are drained', async () => {
  const db = 'vigie_outage';
  const cfg = config(db, { batchSize: 10, flushInterval: 50 });
  const { w, logger, count } = writer(cfg);
  await w.start();
  w.write(temps(0, 20));
  await w.flush();
  assert.equal((await celsius(db)).length, 20);

  await influxd.stop();
  const down = Date.now();
  for (let i = 20; i < 70; i += 10) {
    w.write(temps(i, 10));
    await sleep(20);
  }
  await w.flush();
  await eventually('points on disk', () => w.status().buffered === 50 && !w.status().connected);
  assert.ok(
    readdirSync(cfg.bufferDir).some((f) => f.endsWith('.jsonl')),
    'segment files on disk',
  );
  assert.equal(count('buffered'), 50);
  assert.ok(w.status().lastError, 'the status says why');

  await influxd.restart();
  await eventually('drained', () => w.status().buffered === 0 && w.status().connected, 40_000);
  console.log(`outage: ${Date.now() - down} ms from stop to drained (influxd restart included)`);
  assert.deepEqual(await celsius(db), range(0, 70), 'every point, once, in InfluxDB');
  assert.equal(w.status().written, 70);
  assert.equal(count('written'), 70);
  assert.equal(w.status().dropped, 0);
  assert.deepEqual(
    readdirSync(cfg.bufferDir).filter((f) => f.endsWith('.jsonl')),
    [],
    'buffer files removed',
  );
  assert.ok(logger.lines.some((l) => l.includes('InfluxDB unreachable')));
  assert.ok(logger.lines.some((l) => l.includes('InfluxDB is back')));

  // Direct again: a new point arrives without going through the disk.
  w.write(temps(70, 1));
  await w.flush();
  assert.equal(count('buffered'), 50);
  assert.equal((await celsius(db)).length, 71);
});

test('telemetry - past maxBufferBytes the oldest points are dropped and counted, the newest kept', async () => {
  const db = 'vigie_bound';
  const dead = `http://127.0.0.1:${await freePort()}`;
  const cfg = config(db, { url: dead, batchSize: 20, maxBufferBytes: 16 * 1024 });
  const first = writer(cfg);
  await first.w.start();
  assert.equal(first.w.status().connected, false);
  for (let i = 0; i < 500; i += 20) first.w.write(temps(i, 20));
  await first.w.flush();
  const s = first.w.status();
  assert.ok(s.dropped > 0, 'dropped counted');
  assert.equal(s.buffered + s.dropped, 500, 'every point buffered or counted');
  assert.equal(first.count('dropped'), s.dropped);
  assert.match(first.metrics.render(), new RegExp(`vigie_telemetry_buffered_points ${s.buffered}`));
  await first.w.stop();

  // InfluxDB reachable now: what the bound kept reaches it.
  const second = writer({ ...cfg, url: influxd.url });
  await second.w.start();
  await eventually('drained', () => second.w.status().buffered === 0);
  const kept = await celsius(db);
  assert.equal(kept.length, s.buffered);
  assert.equal(kept.at(-1), 499, 'the newest is kept');
  assert.ok(kept[0] > 0, 'the oldest is gone');
  assert.deepEqual(kept, range(500 - kept.length, kept.length));
});

test('telemetry - a new writer on the buffer of a crashed one drains what it left', async () => {
  const db = 'vigie_crash';
  const dead = `http://127.0.0.1:${await freePort()}`;
  const cfg = config(db, { url: dead, batchSize: 25 });
  // The first writer runs in its own process, killed with SIGKILL once its points are on disk.
  const module = new URL('../src/telemetry/influx-writer.js', import.meta.url).href;
  const code = `
    const { InfluxWriter } = await import(${JSON.stringify(module)});
    const { Registry } = await import(${JSON.stringify(new URL('../src/core/metrics.js', import.meta.url).href)});
    const { silentLogger } = await import(${JSON.stringify(new URL('../src/core/log.js', import.meta.url).href)});
    const w = new InfluxWriter(${JSON.stringify(cfg)}, { logger: silentLogger, metrics: new Registry() });
    await w.start();
    w.write(${JSON.stringify(temps(0, 100))});
    await w.flush();
    console.log('buffered ' + w.status().buffered);
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => stopChild(child, 1000));
  const out: string[] = [];
  child.stdout.on('data', lineCollector(out));
  child.stderr.on('data', lineCollector(out));
  await eventually('the child buffered its points', () => out.some((l) => l === 'buffered 100'), 10_000);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  // As if it died in the middle of an append.
  const last = readdirSync(cfg.bufferDir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .at(-1);
  assert.ok(last, 'segments left on disk');
  appendFileSync(join(cfg.bufferDir, last), '{"measurement":"sensor","tags":{"si');

  const next = writer({ ...cfg, url: influxd.url });
  await next.w.start();
  await eventually('drained', () => next.w.status().buffered === 0);
  assert.deepEqual(await celsius(db), range(0, 100));
  assert.equal(next.w.status().written, 100);
  assert.equal(next.w.status().dropped, 0);
});

test('telemetry - a point InfluxDB refuses (field type conflict) is dropped and counted, the rest flows', async () => {
  const db = 'vigie_conflict';
  const { w, logger, count } = writer(config(db, { batchSize: 100 }));
  await w.start();
  w.write(temps(0, 1, 'a'));
  await w.flush();
  const bad = (n: number): TelemetryPoint => ({ ...temps(n, 1, 'b')[0], fields: { celsius: 'hot' } });
  w.write([bad(1), ...temps(2, 1, 'c')]);
  await w.flush();
  w.write([bad(3)]);
  w.write(temps(4, 1, 'd'));
  await w.flush();
  assert.equal(count('rejected'), 2);
  assert.equal(count('written'), 3);
  assert.deepEqual(await celsius(db, 'c'), [2]);
  assert.deepEqual(await celsius(db, 'd'), [4]);
  assert.equal(w.status().buffered, 0, 'never retried');
  assert.equal(w.status().connected, true);
  const refusals = logger.lines.filter((l) => l.includes('refused'));
  assert.equal(refusals.length, 1, 'one log line for one kind of error');
  assert.match(refusals[0], /field type conflict/);
});

test('telemetry - sensor and timeline points land with the schema, and the reader charts and counts them', async () => {
  const db = 'vigie_read';
  const cfg = config(db, { batchSize: 5000 });
  const { w } = writer(cfg);
  await w.start();
  const now = Date.now();
  const t0 = now - 3_600_000;
  const device = "o'brien\\door-1";
  const sp = new SensorPoints();
  const out: TelemetryPoint[] = [];
  const push = (p: TelemetryPoint | undefined) => p && out.push(p);
  // One temperature a second for an hour; a door opened for 42 s.
  for (let i = 0; i < 3600; i++) {
    push(
      sp.point(
        {
          site: 'cdg',
          deviceId: device,
          kind: 'temperature',
          ts: t0 + i * 1000,
          receivedAt: 0,
          values: { celsius: i % 2 ? 20 : 22 },
        },
        { zone: 'kitchen', kind: 'temperature' },
      ),
    );
  }
  push(
    sp.point(
      {
        site: 'cdg',
        deviceId: 'door-1',
        kind: 'door',
        ts: now - 100_000,
        receivedAt: 0,
        values: { open: true },
      },
      { zone: 'T2', kind: 'door' },
    ),
  );
  push(
    sp.point(
      {
        site: 'cdg',
        deviceId: 'door-1',
        kind: 'door',
        ts: now - 58_000,
        receivedAt: 0,
        values: { open: false },
      },
      { zone: 'T2', kind: 'door' },
    ),
  );
  push(
    sp.point(
      {
        site: 'cdg',
        deviceId: 'door-1',
        kind: 'door',
        ts: now - 50_000,
        receivedAt: 0,
        values: {},
        status: 'offline',
      },
      undefined,
    ),
  );

  let seq = 0;
  const row = (
    incident: string,
    zone: string,
    kind: string,
    atAgo: number,
    openedAgo: number,
    detail = {},
  ): TimelineRow => ({
    seq: ++seq,
    incidentId: incident,
    at: now - atAgo,
    kind,
    actor: 'x',
    detail,
    site: 'cdg',
    zone,
    rule: 'door-forced',
    severity: 'critical',
    device: 'door-1',
    openedAt: now - openedAgo,
  });
  const rows = [
    row('inc_1', 'T2', 'opened', 600_000, 600_000),
    row('inc_1', 'T2', 'notification', 599_000, 600_000, {
      deliveryId: 'dlv_1',
      channel: 'sms',
      attempt: 1,
      outcome: 'delivered',
      latencyMs: 350,
    }),
    row('inc_1', 'T2', 'acknowledged', 540_000, 600_000),
    row('inc_1', 'T2', 'resolved', 300_000, 600_000),
    row('inc_2', 'T2', 'opened', 500_000, 500_000),
    row('inc_2', 'T2', 'acknowledged', 380_000, 500_000),
    row('inc_3', 'kitchen', 'opened', 400_000, 400_000),
    row('inc_3', 'kitchen', 'escalated', 340_000, 400_000, { step: 1 }),
    row('inc_3', 'kitchen', 'notification', 339_000, 400_000, {
      deliveryId: 'dlv_2',
      channel: 'voice',
      attempt: 1,
      outcome: 'failed',
    }),
    row('inc_3', 'kitchen', 'cleared', 200_000, 400_000),
    row('inc_3', 'kitchen', 'note', 100_000, 400_000),
  ];
  for (const r of rows) push(timelinePoint(r));
  w.write(out);
  await w.flush();
  assert.equal(w.status().written, out.length);

  const [door] = await influxd.rows(
    db,
    `SELECT * FROM "vigie"."sensor" WHERE "device" = 'door-1' AND "openMs" > 0`,
  );
  assert.equal(door.openMs, 42_000);
  assert.equal(door.zone, 'T2');
  assert.equal(door.kind, 'door');
  assert.equal(door.site, 'cdg');
  const [offline] = await influxd.rows(
    db,
    `SELECT "online", "zone" FROM "vigie"."sensor" WHERE "online" = false`,
  );
  assert.equal(offline.zone, 'unknown');
  const inc = await influxd.rows(db, `SELECT * FROM "vigie"."incident" GROUP BY *`);
  assert.equal(inc.length, 8);
  const ack = inc.find((r) => r.transition === 'acknowledged' && r.id === 'inc_1');
  assert.deepEqual(
    [ack?.site, ack?.zone, ack?.rule, ack?.severity, ack?.device, ack?.ttaMs, ack?.count],
    ['cdg', 'T2', 'door-forced', 'critical', 'door-1', 60_000, 1],
  );
  assert.equal(inc.find((r) => r.transition === 'escalated')?.step, 1);
  assert.equal(inc.find((r) => r.transition === 'cleared')?.openMs, 200_000);
  const notes = await influxd.rows(db, `SELECT * FROM "vigie"."notification" GROUP BY *`);
  assert.deepEqual(
    notes.map((n) => [
      n.channel,
      n.outcome,
      n.severity,
      n.incident,
      n.delivery,
      n.success,
      n.latencyMs ?? null,
    ]),
    [
      ['sms', 'delivered', 'critical', 'inc_1', 'dlv_1', 1, 350],
      ['voice', 'failed', 'critical', 'inc_3', 'dlv_2', 0, null],
    ],
  );

  const reader = new InfluxReader(cfg, { logger: memoryLogger(), timeoutMs: 2000 });
  const t = Date.now();
  const series = await reader.series(device, 'celsius', t0, now);
  console.log(`series of 3600 points read in ${Date.now() - t} ms: ${series.points.length} buckets`);
  assert.equal(series.source, 'influx');
  assert.ok(series.points.length > 100 && series.points.length <= 301, `${series.points.length} buckets`);
  // Full 12 s buckets hold six of each: the edges may be partial.
  for (const [, v] of series.points.slice(1, -1))
    assert.ok(Math.abs(v - 21) < 0.01, `mean of 20 and 22: ${v}`);
  const times = series.points.map(([ts]) => ts);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'ascending',
  );

  const open = await reader.series('door-1', 'open', now - 3_600_000, now);
  assert.deepEqual(open.points, [
    [now - 100_000, 1],
    [now - 58_000, 0],
  ]);
  const injected = await reader.series(`x' OR "device" = 'door-1`, 'open', now - 3_600_000, now);
  assert.deepEqual(injected.points, [], 'the device id is a string, not InfluxQL');
  assert.deepEqual((await reader.series('door-1', 'nosuchfield', t0, now)).points, []);
  await assert.rejects(
    reader.series('door-1', 'open" FROM x; DROP DATABASE vigie_read; --', t0, now),
    (e: unknown) => e instanceof VigieError && e.code === 'VIGIE_ERR_BAD_REQUEST',
  );

  const d = await reader.durations(now - 3_600_000, now);
  assert.deepEqual(d, {
    opened: 3,
    mttaMs: 90_000,
    mttrMs: 300_000,
    zones: [
      { zone: 'T2', opened: 2, mttaMs: 90_000, mttrMs: 300_000 },
      { zone: 'kitchen', opened: 1 },
    ],
  });
  const empty = await reader.durations(now - 3 * DAY, now - 2 * DAY);
  assert.deepEqual(empty, { opened: 0, zones: [] });

  const away = new InfluxReader(
    { ...cfg, url: `http://127.0.0.1:${await freePort()}` },
    { logger: memoryLogger() },
  );
  await assert.rejects(away.durations(t0, now), 'the caller falls back to the store');
  await assert.rejects(away.series('door-1', 'open', t0, now));
});
