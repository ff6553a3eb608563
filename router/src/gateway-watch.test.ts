import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../gateway/src/core/errors.js';
import { silentLogger } from '../../gateway/src/core/log.js';
import { GatewayTracker, silenceIncidentId, type GatewayView } from './gateway-watch.js';
import { createRouterHttp, type RouterApi } from './http.js';
import { KpiTracker } from './kpis.js';
import { RouterMetrics } from './metrics.js';
import type { GatewaySilentData, HeartbeatData } from './model.js';
import { T0, testConfig } from './testing.js';

// The conclusions every router instance draws from the gateways' stream, fed by hand.

const hb = (seq: number, over: Partial<HeartbeatData> = {}): HeartbeatData => ({
  site: 'airport',
  gateway: 'pi-hall-b',
  seq,
  at: T0 + seq * 15_000,
  startedAt: T0,
  intervalMs: 15_000,
  ...over,
});

const silentFor = (h: HeartbeatData, seenAt: number): GatewaySilentData => ({
  site: h.site,
  gateway: h.gateway,
  incidentId: silenceIncidentId(h.site, h),
  lastHeartbeat: h,
  lastSeenAt: seenAt,
});

describe('gateway tracker', () => {
  it('a gateway is up until 3 of its own periods pass without a heartbeat, then a silence is due', () => {
    const tr = new GatewayTracker();
    const t = tr.heartbeat(hb(1), T0);
    assert.equal(tr.due(t, T0 + 45_000), undefined);
    assert.equal(tr.view(T0 + 45_000)[0].state, 'up');
    assert.equal(tr.due(t, T0 + 45_001), 'raise');
    assert.equal(tr.view(T0 + 45_001)[0].state, 'silent');
    assert.deepEqual(tr.counts(T0 + 45_001), { up: 0, silent: 1 });
    tr.heartbeat(hb(2), T0 + 45_001);
    assert.equal(tr.due(t, T0 + 50_000), undefined, 'a late heartbeat puts it right');
  });

  it('silentAfter from the configuration overrides the heartbeat period', () => {
    const tr = new GatewayTracker(5_000);
    const t = tr.heartbeat(hb(1), T0);
    assert.equal(tr.due(t, T0 + 5_001), 'raise');
    assert.equal(tr.view(T0)[0].silentAfterMs, 5_000);
  });

  it('a raised silence is not due again; the next heartbeat makes the end of it due', () => {
    const tr = new GatewayTracker();
    const t = tr.heartbeat(hb(7), T0);
    tr.silent(silentFor(hb(7), T0));
    assert.equal(tr.due(t, T0 + 600_000), undefined);
    assert.equal(tr.view(T0 + 600_000)[0].incidentId, silenceIncidentId('airport', hb(7)));
    tr.heartbeat(hb(1, { startedAt: T0 + 500_000 }), T0 + 600_000);
    assert.equal(tr.due(t, T0 + 600_000), 'back');
    assert.equal(tr.view(T0 + 600_000)[0].incidentId, undefined);
    tr.back({ site: 'airport', gateway: 'pi-hall-b', incidentId: silenceIncidentId('airport', hb(7)) });
    assert.equal(tr.due(t, T0 + 600_000), undefined, 'another instance announced it');
  });

  it('read back from the stream: a silence stored before the newer heartbeat still owes its end', () => {
    const tr = new GatewayTracker();
    const t = tr.silent(silentFor(hb(7), T0))!;
    assert.equal(tr.view(T0)[0].lastHeartbeat.seq, 7, 'known from the silence alone');
    tr.heartbeat(hb(8), T0 + 60_000);
    assert.equal(tr.due(t, T0 + 60_000), 'back');
  });

  it('a silence about an older heartbeat than the last one is ignored', () => {
    const tr = new GatewayTracker();
    const t = tr.heartbeat(hb(8), T0);
    assert.equal(tr.silent(silentFor(hb(7), T0)), undefined);
    assert.equal(tr.due(t, T0 + 45_001), 'raise', 'the gateway spoke after that silence');
  });

  it('a publish in flight holds everything else back', () => {
    const tr = new GatewayTracker();
    const t = tr.heartbeat(hb(1), T0);
    t.busy = true;
    assert.equal(tr.due(t, T0 + 100_000), undefined);
  });

  it('gateways are told apart by site and host, and listed in order', () => {
    const tr = new GatewayTracker();
    tr.heartbeat(hb(1, { gateway: 'spare' }), T0);
    tr.heartbeat(hb(1), T0);
    tr.heartbeat(hb(1, { site: 'mall' }), T0 - 60_000);
    assert.deepEqual(
      tr.view(T0).map((v) => [v.site, v.gateway, v.state]),
      [
        ['airport', 'pi-hall-b', 'up'],
        ['airport', 'spare', 'up'],
        ['mall', 'pi-hall-b', 'silent'],
      ],
    );
  });

  it('the incident id depends on the site, the gateway, its start and the heartbeat', () => {
    const id = silenceIncidentId('airport', hb(3));
    assert.match(id, /^inc_gw_[0-9a-f]{20}$/);
    assert.equal(silenceIncidentId('airport', hb(3)), id);
    for (const other of [
      silenceIncidentId('mall', hb(3)),
      silenceIncidentId('airport', hb(4)),
      silenceIncidentId('airport', hb(3, { startedAt: T0 + 1 })),
      silenceIncidentId('airport', hb(3, { gateway: 'spare' })),
    ])
      assert.notEqual(other, id);
  });
});

describe('gateway watch configuration and API', () => {
  it('watches by default with the period each heartbeat announces; silentAfter overrides it', () => {
    const d = testConfig();
    assert.equal(d.gateways.enabled, true);
    assert.equal(d.gateways.silentAfter, undefined);
    assert.equal(d.gateways.checkEvery, 1000);
    assert.equal(d.streams.gateways, 'VIGIE_GATEWAYS');
    assert.equal(testConfig({ gateways: { silentAfter: '45s' } }).gateways.silentAfter, 45_000);
    assert.throws(() => testConfig({ gateways: { silentAfter: 'soon' } }), ConfigError);
  });

  it('GET /api/v1/gateways lists them, 404 when the watch is off', async () => {
    const cfg = testConfig({ http: { host: '127.0.0.1', port: 0 } });
    const kpis = new KpiTracker({ reopenWindow: cfg.reopenWindow, retention: cfg.retention });
    const tr = new GatewayTracker();
    tr.heartbeat(hb(4), T0);
    let list: GatewayView[] | undefined = tr.view(T0 + 1000);
    const api: RouterApi = {
      cfg,
      kpis,
      metrics: new RouterMetrics(kpis, cfg.queues),
      ready: true,
      status: () => ({}),
      refreshConsumer: async () => {},
      recordOutcome: async () => ({ ok: false, status: 404, message: 'no' }),
      gateways: () => list,
    };
    const http = createRouterHttp(api, silentLogger);
    const base = `http://127.0.0.1:${await http.listen()}`;
    try {
      const r = await fetch(`${base}/api/v1/gateways`);
      assert.equal(r.status, 200);
      const body = (await r.json()) as { instance: string; gateways: GatewayView[] };
      assert.equal(body.instance, 'test-router');
      assert.deepEqual(
        body.gateways.map((g) => [g.site, g.gateway, g.state, g.lastHeartbeat.seq]),
        [['airport', 'pi-hall-b', 'up', 4]],
      );
      list = undefined;
      assert.equal((await fetch(`${base}/api/v1/gateways`)).status, 404);
    } finally {
      await http.close();
    }
  });
});
