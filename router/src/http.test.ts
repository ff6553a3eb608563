import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../gateway/src/core/log.js';
import { createRouterHttp, type RouterApi, type RouterHttp } from './http.js';
import { KpiTracker } from './kpis.js';
import { RouterMetrics } from './metrics.js';
import { route } from './routing.js';
import type { OutcomeRequest, OutcomeResult } from './service.js';
import { event, T0, testConfig, workItem } from './testing.js';

const TOKEN = 'desk-token-0123456789';
const cfg = testConfig({ http: { host: '127.0.0.1', port: 0, token: TOKEN } });

/** The API over a stub service: KPIs fed by hand, outcomes answered from a script. */
function stub(): RouterApi & { calls: [string, OutcomeRequest][] } {
  const kpis = new KpiTracker({ reopenWindow: cfg.reopenWindow, retention: cfg.retention });
  const w = workItem();
  kpis.apply(event('workitem.created', w, T0));
  kpis.apply(
    event('assignment.created', route(w, kpis.load, cfg, { instance: 'r1', now: T0 }).assignment, T0),
  );
  const calls: [string, OutcomeRequest][] = [];
  return {
    cfg,
    kpis,
    metrics: new RouterMetrics(kpis, cfg.queues),
    ready: true,
    calls,
    status: () => ({ instance: 'r1', nats: 'connected' }),
    refreshConsumer: async () => {},
    recordOutcome: async (id, req): Promise<OutcomeResult> => {
      calls.push([id, req]);
      if (id === 'asg_missing') return { ok: false, status: 404, message: 'not found' };
      return {
        ok: true,
        outcome: {
          assignmentId: id,
          workItemId: 'wi_inc_1',
          incidentId: 'inc_1',
          site: 'airport',
          outcome: req.outcome,
          at: T0,
        },
      };
    },
  };
}

let api: ReturnType<typeof stub>;
let http: RouterHttp;
let base: string;

before(async () => {
  api = stub();
  http = createRouterHttp(api, silentLogger);
  base = `http://127.0.0.1:${await http.listen()}`;
});
after(() => http.close());

async function call(path: string, init: RequestInit & { auth?: boolean } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.auth !== false) headers.authorization = `Bearer ${TOKEN}`;
  const r = await fetch(base + path, { ...init, headers });
  const text = await r.text();
  return {
    status: r.status,
    text,
    body: r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined,
  };
}

describe('router http', () => {
  it('health, readiness and metrics need no token', async () => {
    assert.equal((await call('/healthz', { auth: false })).status, 200);
    assert.equal((await call('/readyz', { auth: false })).body.ready, true);
    const m = await call('/metrics', { auth: false });
    assert.equal(m.status, 200);
    assert.match(m.text, /^router_queue_open\{queue="appliance-support"\} 1$/m);
    assert.match(m.text, /^router_kpi_work_items\{site="airport"\} 1$/m);
  });

  it('the API wants the bearer token', async () => {
    const r = await call('/api/v1/kpis', { auth: false });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'VIGIE_ERR_UNAUTHORIZED');
  });

  it('serves the KPIs of every site and of one, and the queues', async () => {
    const all = await call('/api/v1/kpis');
    assert.deepEqual(
      all.body.sites.map((s: { site: string }) => s.site),
      ['airport'],
    );
    assert.equal((await call('/api/v1/kpis/airport')).body.workItems, 1);
    assert.equal((await call('/api/v1/kpis/nowhere')).status, 404);
    const q = (await call('/api/v1/queues')).body.queues;
    assert.deepEqual(q[0], {
      id: 'appliance-support',
      name: 'Appliance support',
      skills: ['appliance'],
      tiers: null,
      agents: 2,
      avgHandleSec: 300,
      open: 1,
      openBySite: { airport: 1 },
      estimatedWaitSec: 150,
    });
    const a = await call('/api/v1/assignments/asg_wi_inc_1');
    assert.equal(a.body.queue, 'appliance-support');
    assert.equal(a.body.outcome, null);
  });

  it('records an outcome through the service', async () => {
    const r = await call('/api/v1/assignments/asg_wi_inc_1/outcome', {
      method: 'POST',
      body: JSON.stringify({ outcome: 'transferred', toQueue: 'security-desk' }),
    });
    assert.equal(r.status, 202);
    assert.deepEqual(api.calls.at(-1), [
      'asg_wi_inc_1',
      { outcome: 'transferred', toQueue: 'security-desk' },
    ]);
  });

  const bad: [string, string, RequestInit, number][] = [
    [
      'an unknown outcome',
      '/api/v1/assignments/a/outcome',
      { method: 'POST', body: '{"outcome":"escalated"}' },
      400,
    ],
    [
      'an unknown field',
      '/api/v1/assignments/a/outcome',
      { method: 'POST', body: '{"outcome":"resolved","x":1}' },
      400,
    ],
    ['a body that is not JSON', '/api/v1/assignments/a/outcome', { method: 'POST', body: 'resolved' }, 400],
    ['a huge body', '/api/v1/assignments/a/outcome', { method: 'POST', body: 'x'.repeat(100_000) }, 413],
    ['GET on the outcome', '/api/v1/assignments/a/outcome', {}, 405],
    [
      'an unknown assignment',
      '/api/v1/assignments/asg_missing/outcome',
      { method: 'POST', body: '{"outcome":"resolved"}' },
      404,
    ],
    ['an unknown route', '/api/v1/nothing', {}, 404],
    ['bad percent-encoding', '/api/v1/kpis/%E0%A4%A', {}, 400],
  ];
  for (const [name, path, init, status] of bad) {
    it(`answers ${status} to ${name}`, async () => {
      const before = api.calls.length;
      const r = await call(path, init);
      assert.equal(r.status, status, r.text);
      assert.ok(r.body.error.code.startsWith('VIGIE_ERR_'));
      if (status !== 404) assert.equal(api.calls.length, before, 'the service was not called');
    });
  }
});
