import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  allPanels,
  assertPanelData,
  checkAllPanels,
  DATASOURCE_UID,
  expandMacros,
  GRAFANA_DIR,
  loadDashboards,
  panelQueries,
  seedAirportDay,
  type CheckRange,
  type Dashboard,
  type Panel,
  type PanelCheck,
  type SeedSummary,
} from './support/grafana.js';
import { Influxd } from './support/influxd.js';

// Issue 6 item 4: Grafana dashboards over the gateway's InfluxDB telemetry. Grafana is not
// installable here, so the JSON is checked for what Grafana and a user would trip on, and every
// panel's InfluxQL runs, macros expanded as Grafana does, against a real influxd holding a day of
// the example airport written in the telemetry schema.

const DB = 'vigie';
// Grafana 10/11 core panel types (public/app/plugins/panel).
const CORE_PANELS = new Set([
  'alertlist',
  'annolist',
  'barchart',
  'bargauge',
  'candlestick',
  'canvas',
  'dashlist',
  'datagrid',
  'flamegraph',
  'gauge',
  'geomap',
  'heatmap',
  'histogram',
  'logs',
  'news',
  'nodeGraph',
  'piechart',
  'row',
  'stat',
  'state-timeline',
  'status-history',
  'table',
  'text',
  'timeseries',
  'traces',
  'trend',
  'xychart',
]);

const dashboards = loadDashboards();
const panels = (d: Dashboard): Panel[] => allPanels(d).filter((p) => p.type !== 'row');
const find = (checks: PanelCheck[], dashboard: string, panel: string): PanelCheck => {
  const c = checks.find((x) => x.dashboard === dashboard && x.panel === panel);
  assert.ok(c, `no panel "${panel}" on ${dashboard}`);
  return c;
};

describe('grafana - dashboard files', () => {
  test('each dashboard has its own uid, the Grafana 10/11 model, the last 24 h refreshed every 30 s', () => {
    const uids = dashboards.map((d) => d.uid);
    assert.equal(new Set(uids).size, uids.length, uids.join(','));
    for (const uid of ['vigie-site-overview', 'vigie-incidents', 'vigie-notifications']) {
      assert.ok(uids.includes(uid), uid);
    }
    for (const d of dashboards) {
      assert.equal(d.schemaVersion, 39, d.uid);
      assert.equal(d.editable, true, d.uid);
      assert.deepEqual(d.time, { from: 'now-24h', to: 'now' }, d.uid);
      assert.equal(d.refresh, '30s', d.uid);
      assert.ok(d.title.length > 0 && d.tags?.includes('vigie'), d.uid);
    }
  });

  test('panel ids are unique on each dashboard, collapsed rows included', () => {
    for (const d of dashboards) {
      const ids = allPanels(d).map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${d.uid}: ${ids.join(',')}`);
    }
    const overview = dashboards.find((d) => d.uid === 'vigie-site-overview')!;
    const collapsed = overview.panels.filter((p) => p.type === 'row' && p.collapsed);
    assert.ok(
      collapsed.some((r) => (r.panels ?? []).length > 0),
      'the overview keeps batteries in a collapsed row',
    );
  });

  test('every panel is a core panel type, on the provisioned data source, with raw InfluxQL', () => {
    for (const d of dashboards) {
      for (const p of allPanels(d)) assert.ok(CORE_PANELS.has(p.type), `${d.uid} / ${p.title}: ${p.type}`);
      for (const p of panels(d)) {
        const where = `${d.uid} / ${p.title}`;
        assert.equal(p.datasource?.uid, DATASOURCE_UID, where);
        assert.equal(p.datasource?.type, 'influxdb', where);
        assert.ok((p.targets ?? []).length > 0, `${where}: no query`);
        const refIds = (p.targets ?? []).map((t) => t.refId);
        assert.equal(new Set(refIds).size, refIds.length, `${where}: refIds ${refIds.join(',')}`);
        for (const t of p.targets ?? []) {
          assert.equal(t.datasource?.uid, DATASOURCE_UID, where);
          assert.equal(t.rawQuery, true, where);
          assert.match(t.query ?? '', /^SELECT /, where);
          assert.equal(t.resultFormat, p.type === 'table' ? 'table' : 'time_series', where);
        }
      }
    }
  });

  test('every query follows the time picker and the zone selector', () => {
    for (const d of dashboards) {
      for (const q of panelQueries(d)) {
        assert.match(q.query, /\$timeFilter/, `${d.uid} / ${q.panel}`);
        assert.ok(
          q.query.includes('"zone" =~ /^$zone$/'),
          `${d.uid} / ${q.panel}: ignores the zone selector`,
        );
      }
      const zone = d.templating.list.find((v) => v.name === 'zone');
      assert.equal(zone?.type, 'query', d.uid);
      assert.equal(zone?.query, 'SHOW TAG VALUES FROM "sensor" WITH KEY = "zone"', d.uid);
      assert.equal(zone?.datasource?.uid, DATASOURCE_UID, d.uid);
      assert.ok(zone?.multi && zone.includeAll, `${d.uid}: zone is multi-value with All`);
      for (const a of d.annotations.list.filter((x) => !x.builtIn))
        assert.equal(a.datasource?.uid, DATASOURCE_UID);
    }
  });

  test('time series group by time, others over the whole range', () => {
    for (const d of dashboards) {
      for (const p of panels(d)) {
        for (const t of p.targets ?? []) {
          const byTime = /GROUP BY time\(/.test(t.query ?? '');
          assert.equal(byTime, p.type === 'timeseries', `${d.uid} / ${p.title}`);
        }
      }
    }
  });

  test('durations show as time, temperatures in °C, success as a percentage', () => {
    const expected: [RegExp, string][] = [
      [/"(ttaMs|ttrMs|openMs|latencyMs)"/, 'ms'],
      [/"celsius"/, 'celsius'],
      [/mean\("success"\)/, 'percentunit'],
      [/"battery"/, 'percent'],
    ];
    for (const d of dashboards) {
      for (const p of panels(d)) {
        const query = (p.targets ?? []).map((t) => t.query).join('\n');
        const units = [
          p.fieldConfig?.defaults?.unit,
          ...(p.fieldConfig?.overrides ?? []).flatMap((o) =>
            o.properties.filter((x) => x.id === 'unit').map((x) => x.value),
          ),
        ];
        for (const [field, unit] of expected) {
          if (field.test(query))
            assert.ok(units.includes(unit), `${d.uid} / ${p.title}: ${unit} in ${units}`);
        }
      }
    }
  });

  test('panels stay within 24 columns and never overlap (each collapsed row on its own)', () => {
    const overlaps = (a: Panel, b: Panel) =>
      a.gridPos.x < b.gridPos.x + b.gridPos.w &&
      b.gridPos.x < a.gridPos.x + a.gridPos.w &&
      a.gridPos.y < b.gridPos.y + b.gridPos.h &&
      b.gridPos.y < a.gridPos.y + a.gridPos.h;
    for (const d of dashboards) {
      const groups = [d.panels, ...d.panels.filter((p) => p.collapsed).map((p) => p.panels ?? [])];
      for (const group of groups) {
        for (const [i, a] of group.entries()) {
          assert.ok(
            a.gridPos.x >= 0 && a.gridPos.x + a.gridPos.w <= 24 && a.gridPos.h > 0,
            `${d.uid} / ${a.title}`,
          );
          for (const b of group.slice(i + 1))
            assert.ok(!overlaps(a, b), `${d.uid}: "${a.title}" overlaps "${b.title}"`);
        }
      }
    }
  });

  test('the provisioning files name the data source uid and load the dashboards folder the README mounts', () => {
    const ds = parse(readFileSync(join(GRAFANA_DIR, 'provisioning/datasources/vigie-influxdb.yaml'), 'utf8'));
    assert.equal(ds.apiVersion, 1);
    assert.equal(ds.datasources.length, 1);
    const [source] = ds.datasources;
    assert.equal(source.uid, DATASOURCE_UID);
    assert.equal(source.type, 'influxdb');
    assert.equal(source.url, '${VIGIE_INFLUX_URL}');
    assert.equal(source.jsonData.dbName, DB);
    assert.equal(source.jsonData.version, 'InfluxQL');

    const dash = parse(readFileSync(join(GRAFANA_DIR, 'provisioning/dashboards/vigie.yaml'), 'utf8'));
    assert.equal(dash.apiVersion, 1);
    const [provider] = dash.providers;
    assert.equal(provider.type, 'file');
    const path: string = provider.options.path;
    assert.ok(path.startsWith('/'), path);

    // Copy-pasting the README's commands must put the JSON where the provider looks.
    const readme = readFileSync(join(GRAFANA_DIR, 'README.md'), 'utf8');
    assert.ok(
      readme.includes(`dashboards/grafana/dashboards:${path}`),
      `README mounts the folder at ${path}`,
    );
    assert.ok(
      readme.includes(`dashboards/grafana/dashboards/*.json ${path}/`),
      `README copies the files to ${path}`,
    );
    assert.match(readme, /VIGIE_INFLUX_URL=http:\/\/127\.0\.0\.1:8086/);
  });

  test('macros expand as Grafana sends them', () => {
    const q =
      'SELECT mean("celsius") FROM "sensor" WHERE "zone" =~ /^$zone$/ AND $timeFilter GROUP BY time($__interval)';
    assert.equal(
      expandMacros(q, { from: 1000, to: 2000, intervalMs: 90_000, zone: ['gates-g', 'hall-b'] }),
      'SELECT mean("celsius") FROM "sensor" WHERE "zone" =~ /^(gates-g|hall-b)$/ AND time >= 1000ms and time <= 2000ms GROUP BY time(1m)',
    );
    assert.match(
      expandMacros(q, { from: 0, to: 1, intervalMs: 500, zone: ['a.b/c'] }),
      /\/\^a\\\.b\\\/c\$\/.*time\(500ms\)/,
    );
    assert.throws(() => expandMacros(q, { from: 0, to: 1, intervalMs: 1000 }), /\$zone/);
    assert.throws(
      () => expandMacros('SELECT 1 WHERE $__timeFilter', { from: 0, to: 1, intervalMs: 1 }),
      /__timeFilter/,
    );
  });
});

describe('grafana - every panel against a real InfluxDB', () => {
  let influx: Influxd;
  let seeded: SeedSummary;
  let range: CheckRange;
  let checks: PanelCheck[];
  // A whole minute: the day looks the same on every run within it, and the last point is never "in the future".
  const end = Math.floor(Date.now() / 60_000) * 60_000;

  before(async () => {
    influx = await Influxd.start();
    seeded = await seedAirportDay(influx, DB, end);
    // 24 h over a ~1000 px panel: Grafana picks 2 minutes.
    range = { from: end - 86_400_000, to: end, intervalMs: 120_000 };
    checks = await checkAllPanels(influx, DB, range);
  });
  after(async () => {
    await influx?.dispose();
  });

  test('the seeded day follows the telemetry schema in the gateway layout (retention policy vigie, the default)', async () => {
    const [rp] = await influx.rows(DB, 'SHOW RETENTION POLICIES');
    assert.equal(rp.name, 'vigie');
    assert.equal(rp.default, true);
    const measurements = (await influx.rows(DB, 'SHOW MEASUREMENTS')).map((r) => r.name);
    assert.deepEqual(measurements, ['incident', 'notification', 'sensor']);
    const tagKeys = async (m: string) =>
      (await influx.rows(DB, `SHOW TAG KEYS FROM "${m}"`)).map((r) => r.tagKey);
    assert.deepEqual(await tagKeys('sensor'), ['device', 'kind', 'site', 'zone']);
    assert.deepEqual(await tagKeys('incident'), ['rule', 'severity', 'site', 'transition', 'zone']);
    assert.deepEqual(await tagKeys('notification'), ['channel', 'outcome', 'severity', 'site', 'zone']);
    const transitions = await influx.rows(DB, 'SHOW TAG VALUES FROM "incident" WITH KEY = "transition"');
    assert.deepEqual(transitions.map((r) => r.value).sort(), [
      'acknowledged',
      'cleared',
      'escalated',
      'opened',
      'resolved',
    ]);
    const outcomes = await influx.rows(DB, 'SHOW TAG VALUES FROM "notification" WITH KEY = "outcome"');
    for (const o of ['cancelled', 'delivered', 'failed', 'retry', 'sent']) {
      assert.ok(
        outcomes.some((r) => r.value === o),
        o,
      );
    }
    assert.deepEqual(seeded.zones, ['gates-g', 'hall-b', 'landside', 'technical']);
    assert.ok(seeded.points > 3000 && seeded.opened >= 10 && seeded.critical === 1, JSON.stringify(seeded));
  });

  test('every panel, annotation and variable query runs and draws something', () => {
    assert.ok(checks.length >= 40, `${checks.length} queries`);
    assertPanelData(checks);
    for (const d of dashboards) {
      for (const q of panelQueries(d)) assert.ok(find(checks, d.uid, q.panel).series > 0, q.panel);
    }
  });

  test('the key figures are the seeded day’s', async () => {
    const value = async (dashboard: string, panel: string) => {
      const rows = await influx.rows(DB, find(checks, dashboard, panel).expanded);
      assert.equal(rows.length, 1, panel);
      const { time: _time, ...rest } = rows[0];
      return Number(Object.values(rest)[0]);
    };
    assert.equal(await value('vigie-site-overview', 'Incidents opened'), seeded.opened);
    assert.equal(await value('vigie-site-overview', 'Critical incidents'), seeded.critical);
    assert.equal(await value('vigie-incidents', 'Escalations'), seeded.escalations);
    assert.ok(
      Math.abs((await value('vigie-site-overview', 'Mean time to acknowledge')) - seeded.meanTtaMs) < 1,
    );
    assert.ok(Math.abs((await value('vigie-site-overview', 'Mean time to resolve')) - seeded.meanTtrMs) < 1);
    assert.equal(await value('vigie-site-overview', 'Longest door opening'), seeded.longestOpenMs);
    const success = await value('vigie-site-overview', 'Notification delivery');
    assert.ok(Math.abs(success - seeded.deliverySuccess) < 1e-9, `${success} vs ${seeded.deliverySuccess}`);
    assert.ok(seeded.deliverySuccess > 0.8 && seeded.deliverySuccess < 1, String(seeded.deliverySuccess));
  });

  test('delivery success is one figure per channel, each the seeded ratio', async () => {
    const c = find(checks, 'vigie-notifications', 'Delivery success per channel');
    const [res] = await influx.query(DB, c.expanded);
    const got = Object.fromEntries((res.series ?? []).map((s) => [s.tags?.channel, s.values[0][1]]));
    assert.deepEqual(Object.keys(got).sort(), ['console', 'ops-webhook', 'sms', 'voice']);
    for (const [ch, ratio] of Object.entries(seeded.successByChannel)) {
      assert.ok(Math.abs(Number(got[ch]) - ratio) < 1e-9, `${ch}: ${got[ch]} vs ${ratio}`);
    }
  });

  test('incidents per day are stacked by severity over the last 7 site days', async () => {
    const c = find(checks, 'vigie-incidents', 'Incidents per day by severity');
    assert.match(c.expanded, /GROUP BY time\(1d\), "severity" fill\(0\) tz\('Europe\/Paris'\)$/);
    const rows = await influx.rows(DB, c.expanded);
    assert.deepEqual([...new Set(rows.map((r) => r.severity))].sort(), ['critical', 'major', 'minor']);
    const total = rows.reduce((n, r) => n + Number(r.sum), 0);
    assert.equal(total, seeded.opened);
    // Bars start at midnight in Paris, not in UTC.
    const hours = new Set(
      rows.map((r) =>
        new Intl.DateTimeFormat('en-GB', {
          timeZone: 'Europe/Paris',
          hour: 'numeric',
          hourCycle: 'h23',
        }).format(Number(r.time)),
      ),
    );
    assert.deepEqual([...hours], ['00']);
  });

  test('the longest door openings table lists held doors first, over 30 s', async () => {
    const c = find(checks, 'vigie-site-overview', 'Longest door openings');
    const rows = await influx.rows(DB, c.expanded);
    assert.equal(rows.length, 15);
    const sorted = rows.map((r) => Number(r.openMs)).sort((a, b) => b - a);
    assert.equal(sorted[0], seeded.longestOpenMs);
    assert.ok(
      sorted.slice(0, 5).every((ms) => ms > 30_000),
      sorted.join(','),
    );
    assert.ok(rows.every((r) => typeof r.device === 'string' && typeof r.zone === 'string'));
  });

  test('choosing zones narrows every panel to them', async () => {
    const technical = await checkAllPanels(influx, DB, { ...range, zone: ['technical'] });
    const c = find(technical, 'vigie-site-overview', 'Temperature per zone');
    const [res] = await influx.query(DB, c.expanded);
    assert.deepEqual(
      (res.series ?? []).map((s) => s.tags?.zone),
      ['technical'],
    );
    const two = find(
      await checkAllPanels(influx, DB, { ...range, zone: ['gates-g', 'hall-b'] }),
      'vigie-site-overview',
      'Temperature per device',
    );
    const [res2] = await influx.query(DB, two.expanded);
    assert.deepEqual((res2.series ?? []).map((s) => s.tags?.device).sort(), [
      'temp-gate-g',
      'temp-hall-b',
      'temp-lounge',
    ]);
    // The server room has no door: its door panels are empty, and the check says so.
    assert.equal(find(technical, 'vigie-site-overview', 'Longest door openings').series, 0);
    assert.throws(() => assertPanelData(technical), /Longest door openings/);
  });

  test('a panel reading a field that does not exist, a wrong tag value or bad InfluxQL is caught', async () => {
    const broken = structuredClone(dashboards.find((d) => d.uid === 'vigie-site-overview')!);
    const edit = (title: string, from: string | RegExp, to: string) => {
      const p = allPanels(broken).find((x) => x.title === title)!;
      const before = p.targets![0].query!;
      p.targets![0].query = before.replace(from, to);
      assert.notEqual(p.targets![0].query, before, title);
    };
    edit('Temperature per zone', '"celsius"', '"temperature"');
    edit('Incidents opened', "'opened'", "'open'");
    edit('Longest door openings', 'top("openMs", 15)', 'top("openMs")');
    const result = await checkAllPanels(influx, DB, { ...range, dashboards: [broken] });
    const bad = result.filter((c) => c.error !== undefined || c.nonZero === 0).map((c) => c.panel);
    assert.deepEqual(bad.sort(), ['Incidents opened', 'Longest door openings', 'Temperature per zone']);
    assert.match(find(result, 'vigie-site-overview', 'Longest door openings').error ?? '', /top/);
    assert.throws(() => assertPanelData(result), /3 of \d+ queries drew nothing/);
  });
});
