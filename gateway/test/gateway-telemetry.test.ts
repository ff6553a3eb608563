import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { eventually, GatewayProcess, tempDir } from './support/gateway-process.js';
import { checkAllPanels } from './support/grafana.js';
import { Influxd } from './support/influxd.js';

// Telemetry as a site runs it: the real gateway process writing to a real InfluxDB 1.x, the
// console's chart and KPI endpoints reading it back, and what happens when InfluxDB goes away
// (disk buffer, fallback to the gateway's store) and when the gateway dies meanwhile (SIGKILL).

const DB = 'vigie';

describe('gateway - telemetry to a real InfluxDB', () => {
  const dir = tempDir('vigie-telemetry-');
  let influx: Influxd;
  let gw: GatewayProcess;
  const clients: MqttClient[] = [];

  const device = async (id: string) => {
    const c = await mqtt.connectAsync(gw.mqttUrl, {
      username: id,
      password: `demo-${id}`,
      reconnectPeriod: 0,
    });
    clients.push(c);
    return c;
  };
  const publish = (c: MqttClient, kind: string, id: string, payload: object) =>
    c.publishAsync(`vigie/airport/${kind}/${id}`, JSON.stringify(payload), { qos: 1 });
  const count = async (q: string): Promise<number> => {
    const rows = await influx.rows(DB, q);
    return rows.length === 0 ? 0 : Number(rows[0].count);
  };
  const bufferBytes = () => {
    const d = join(dir, 'data', 'telemetry');
    if (!existsSync(d)) return 0;
    return readdirSync(d).reduce((n, f) => n + statSync(join(d, f)).size, 0);
  };
  const closeClients = async () => {
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
  };

  before(async () => {
    influx = await Influxd.start();
    gw = new GatewayProcess(dir, {
      telemetry: { influx: { url: influx.url, flushInterval: '200ms', batchSize: 100, timeout: '2s' } },
    });
    await gw.start();
  });

  after(async () => {
    await closeClients();
    await gw?.stop();
    await influx?.dispose();
  });

  test('creates its database and retention policy, then writes sensor values, incidents and notification outcomes', async () => {
    const rps = await eventually('the retention policy', async () => {
      const rows = await influx.rows(DB, `SHOW RETENTION POLICIES ON "${DB}"`).catch(() => []);
      return rows.find((r) => r.name === 'vigie');
    });
    assert.equal(rps.duration, '720h0m0s');
    assert.equal(rps.default, true);

    const temp = await device('temp-hall-b');
    const now = Date.now();
    for (let i = 0; i < 20; i++)
      await publish(temp, 'temperature', 'temp-hall-b', { celsius: 21 + i / 10, ts: now - (20 - i) * 1000 });
    const aed = await device('aed-hall-b');
    await publish(aed, 'aed', 'aed-hall-b', { present: false, cabinetOpen: true });
    const inc = await eventually(
      'the AED incident',
      async () => (await gw.get('/incidents?device=aed-hall-b&state=open')).incidents[0],
    );
    assert.equal((await gw.request('POST', `/incidents/${inc.id}/acknowledge`, { by: 'Amina' })).status, 200);

    await eventually(
      '20 temperatures in InfluxDB',
      async () =>
        (await count(`SELECT count("celsius") FROM "sensor" WHERE "device" = 'temp-hall-b'`)) === 20,
    );
    const [row] = await influx.rows(
      DB,
      `SELECT * FROM "sensor" WHERE "device" = 'temp-hall-b' ORDER BY time DESC LIMIT 1`,
    );
    assert.equal(row.zone, 'hall-b');
    assert.equal(row.kind, 'temperature');
    assert.equal(row.site, 'airport');
    assert.equal(row.time, now - 1000, 'the event time, to the millisecond');

    const transitions = await eventually('the AED incident opened and acknowledged in InfluxDB', async () => {
      const rows = await influx.rows(DB, `SELECT * FROM "incident" WHERE "id" = '${inc.id}'`);
      return rows.length >= 2 ? rows : undefined;
    });
    const opened = transitions.find((r) => r.transition === 'opened');
    const acked = transitions.find((r) => r.transition === 'acknowledged');
    assert.equal(opened?.severity, 'critical');
    assert.equal(opened?.rule, 'aed-removed');
    assert.ok(typeof acked?.ttaMs === 'number' && acked.ttaMs >= 0, 'time to acknowledge recorded');

    const notes = await eventually('console notifications in InfluxDB', async () => {
      const rows = await influx.rows(DB, `SELECT * FROM "notification" WHERE "incident" = '${inc.id}'`);
      return rows.length > 0 ? rows : undefined;
    });
    assert.ok(notes.every((n) => n.channel === 'console' && n.outcome === 'delivered' && n.success === 1));

    const status = (await gw.get('/telemetry')) as { enabled: boolean; connected: boolean; written: number };
    assert.equal(status.enabled, true);
    assert.equal(status.connected, true);
    assert.ok(status.written >= 20);

    const chart = await gw.get(`/devices/temp-hall-b/history?field=celsius&since=${now - 60_000}`);
    assert.equal(chart.source, 'influx');
    assert.ok(chart.points.length > 0);
    const kpis = await gw.get('/kpis');
    assert.equal(kpis.source, 'influx');
    assert.ok(kpis.opened >= 1);
    assert.ok(
      kpis.zones.some(
        (z: { zone: string; mttaMs?: number }) => z.zone === 'hall-b' && typeof z.mttaMs === 'number',
      ),
    );
    await publish(aed, 'aed', 'aed-hall-b', { present: true });
  });

  test('buffers on disk while InfluxDB is down, answers from its own store, and drains everything after a SIGKILL', async () => {
    await influx.stop();
    const temp = await device('temp-gate-g');
    const t0 = Date.now() - 60_000;
    const N = 50;
    for (let i = 0; i < N; i++)
      await publish(temp, 'temperature', 'temp-gate-g', { celsius: 18 + (i % 7), ts: t0 + i * 1000 });
    const aed = await device('aed-gate-g');
    await publish(aed, 'aed', 'aed-gate-g', { present: false });
    const inc = await eventually(
      'the second AED incident',
      async () => (await gw.get('/incidents?device=aed-gate-g&state=open')).incidents[0],
    );
    assert.equal((await gw.request('POST', `/incidents/${inc.id}/acknowledge`, {})).status, 200);

    const status = await eventually('points buffered on disk', async () => {
      const s = await gw.get('/telemetry');
      return s.buffered >= N && !s.connected && bufferBytes() > 0 ? s : undefined;
    });
    assert.equal(status.dropped, 0);
    // The console still draws and counts, from the gateway's own store.
    // (Its own record is written once a second, and keeps one value per 10 s of a moving one.)
    const chart = await eventually('the chart from the gateway store', async () => {
      const c = await gw.get(`/devices/temp-gate-g/history?field=celsius&since=${t0 - 1000}`);
      return c.points.length >= 5 ? c : undefined;
    });
    assert.equal(chart.source, 'store');
    assert.equal((await gw.get('/kpis')).source, 'store');

    // A power cut with InfluxDB still away; a flush interval first, so the last batch is on disk.
    await new Promise((r) => setTimeout(r, 500));
    await closeClients();
    await gw.kill9();
    await gw.start();
    await influx.restart();

    await eventually(
      'every buffered temperature in InfluxDB',
      async () => (await count(`SELECT count("celsius") FROM "sensor" WHERE "device" = 'temp-gate-g'`)) === N,
      30_000,
    );
    const rows = await eventually(
      'the incident opened and acknowledged, once each',
      async () => {
        const r = await influx.rows(DB, `SELECT * FROM "incident" WHERE "id" = '${inc.id}'`);
        return r.length >= 2 ? r : undefined;
      },
      30_000,
    );
    assert.deepEqual(rows.map((r) => r.transition).sort(), ['acknowledged', 'opened']);
    const after = await eventually(
      'the buffer drained',
      async () => {
        const s = await gw.get('/telemetry');
        return s.connected && s.buffered === 0 ? s : undefined;
      },
      30_000,
    );
    assert.equal(after.dropped, 0);
    const metrics = await gw.metrics();
    assert.match(metrics, /vigie_telemetry_up 1/);
    await publish(await device('aed-gate-g'), 'aed', 'aed-gate-g', { present: true });
  });

  test('every Grafana panel query runs on what the gateway wrote, and the panels the issue names show it', async () => {
    // A door held open 3 s, then closed: the close carries how long it was open (openMs).
    const door = await device('door-g14');
    const t = Date.now();
    await publish(door, 'door', 'door-g14', { open: true, ts: t - 3000 });
    await publish(door, 'door', 'door-g14', { open: false, ts: t });
    await eventually(
      'the door opening in InfluxDB',
      async () => (await count(`SELECT count("openMs") FROM "sensor" WHERE "device" = 'door-g14'`)) === 1,
    );
    const [opening] = await influx.rows(DB, `SELECT "openMs" FROM "sensor" WHERE "device" = 'door-g14'`);
    assert.equal(opening.openMs, 3000);

    const checks = await checkAllPanels(influx, DB, {
      from: t - 3_600_000,
      to: t + 60_000,
      intervalMs: 10_000,
    });
    const failed = checks.filter((c) => c.error !== undefined);
    assert.deepEqual(
      failed.map((c) => `${c.dashboard} / ${c.panel}: ${c.error}`),
      [],
    );
    const shows = (dashboard: string, panel: string) => {
      const c = checks.filter((x) => x.dashboard.includes(dashboard) && x.panel === panel);
      assert.ok(c.length > 0, `panel ${panel} exists`);
      assert.ok(
        c.some((x) => x.nonZero > 0),
        `${panel} shows the gateway's data: ${c.map((x) => x.expanded).join(' | ')}`,
      );
    };
    shows('overview', 'Temperature per zone');
    shows('overview', 'Door open durations');
    shows('overview', 'Longest door opening');
    shows('ncidents', 'Incidents per day by severity');
    shows('ncidents', 'Time to acknowledge per zone');
    shows('otifications', 'Delivery success per channel');
  });
});
