import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Role } from '../src/api/ports.js';
import { startApi, type Harness } from './api-fixture.js';

let h: Harness;
before(async () => {
  h = await startApi();
});
after(() => h.close());

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

async function call(
  method: string,
  path: string,
  role?: Role | string,
  body?: string,
  type?: string,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (role) headers.authorization = `Bearer ${role in h.tokens ? h.tokens[role as Role] : role}`;
  if (type) headers['content-type'] = type;
  const res = await fetch(h.base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

const errorCode = (a: Answer) => (a.body as { error: { code: string } }).error.code;
const ack = (id: string, role: Role, body?: unknown) =>
  call(
    'POST',
    `/api/v1/incidents/${id}/acknowledge`,
    role,
    body === undefined ? undefined : JSON.stringify(body),
    'application/json',
  );

describe('api - authentication and roles', () => {
  it('refuses a request without a token with 401 and a Bearer challenge', async () => {
    const a = await call('GET', '/api/v1/incidents');
    assert.equal(a.status, 401);
    assert.equal(errorCode(a), 'VIGIE_ERR_UNAUTHORIZED');
    assert.match(a.headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  it('refuses an unknown token and a non-Bearer scheme with 401', async () => {
    assert.equal((await call('GET', '/api/v1/incidents', 'not-a-configured-token')).status, 401);
    const basic = await fetch(`${h.base}/api/v1/incidents`, {
      headers: { authorization: `Basic ${h.tokens.admin}` },
    });
    assert.equal(basic.status, 401);
  });

  it('lets a viewer list but not acknowledge (403)', async () => {
    assert.equal((await call('GET', '/api/v1/incidents', 'viewer')).status, 200);
    const a = await ack('inc-1', 'viewer');
    assert.equal(a.status, 403);
    assert.equal(errorCode(a), 'VIGIE_ERR_FORBIDDEN');
    assert.equal(h.ports.store.get('inc-1')?.state, 'open');
  });

  it('lets an operator acknowledge, recording the token (and who, when given) as actor', async () => {
    const a = await ack('inc-1', 'operator', { by: 'alice', note: 'on my way' });
    assert.equal(a.status, 200);
    assert.equal((a.body as { incident: { state: string } }).incident.state, 'acknowledged');
    assert.deepEqual(h.ports.actions.at(-1), {
      op: 'acknowledged',
      id: 'inc-1',
      actor: { id: 'token:operator-console/alice', via: 'api' },
      note: 'on my way',
    });
    const r = await call('POST', '/api/v1/incidents/inc-1/resolve', 'admin');
    assert.equal(r.status, 200);
    assert.deepEqual(h.ports.actions.at(-1)?.actor, { id: 'token:admin', via: 'api' });
  });

  it('lets an integrator validate rules but not an operator', async () => {
    assert.equal((await call('POST', '/api/v1/rules/validate', 'operator', 'x: 1', 'text/yaml')).status, 403);
    const ok = await call(
      'POST',
      '/api/v1/rules/validate?file=doors.yaml',
      'integrator',
      'rules: []',
      'text/yaml',
    );
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { ok: true, rules: ['door-held-open'], problems: [] });
  });

  it('never writes a token into the log', async () => {
    await call('GET', '/api/v1/incidents', 'viewer');
    const log = h.logLines.join('\n');
    for (const t of Object.values(h.tokens)) assert.ok(!log.includes(t), 'a token leaked into the log');
  });
});

describe('api - incidents', () => {
  it('filters by state list, severity, zone and since', async () => {
    const ids = async (q: string) =>
      (
        (await call('GET', `/api/v1/incidents${q}`, 'viewer')).body as { incidents: { id: string }[] }
      ).incidents.map((i) => i.id);
    assert.deepEqual(await ids('?state=acknowledged,resolved&zone=terminal-1'), ['inc-2']);
    assert.deepEqual(await ids('?severity=minor'), ['inc-3']);
    assert.deepEqual(await ids('?since=2026-01-01T00:00:00Z'), []);
    assert.deepEqual(await ids('?since=4000'), ['inc-3']);
    await ids('?device=smoke-3&rule=r1&limit=5');
    assert.deepEqual(h.ports.lastFilter, { limit: 5, deviceId: 'smoke-3', ruleId: 'r1' });
  });

  it('answers 400 for an unknown filter, state or limit', async () => {
    for (const q of [
      '?sate=open',
      '?state=opened',
      '?limit=0',
      '?limit=abc',
      '?since=yesterday',
      '?severity=high',
    ]) {
      const a = await call('GET', `/api/v1/incidents${q}`, 'viewer');
      assert.equal(a.status, 400, q);
      assert.equal(errorCode(a), 'VIGIE_ERR_BAD_REQUEST');
    }
  });

  it('returns one incident with its timeline and deliveries, 404 for an unknown one', async () => {
    const a = await call('GET', '/api/v1/incidents/inc-2', 'viewer');
    assert.equal(a.status, 200);
    const body = a.body as { incident: { id: string }; timeline: unknown[]; deliveries: unknown[] };
    assert.equal(body.incident.id, 'inc-2');
    assert.equal(body.timeline.length, 1);
    assert.deepEqual(body.deliveries, []);
    const missing = await call('GET', '/api/v1/incidents/nope', 'viewer');
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing), 'VIGIE_ERR_NOT_FOUND');
  });

  it('maps an illegal transition to 409', async () => {
    const a = await ack('inc-3', 'operator');
    assert.equal(a.status, 409);
    assert.equal(errorCode(a), 'VIGIE_ERR_ILLEGAL_TRANSITION');
  });

  it('answers 400 for malformed JSON, a non-object body or an unknown field', async () => {
    const broken = await call(
      'POST',
      '/api/v1/incidents/inc-2/resolve',
      'operator',
      '{"by":',
      'application/json',
    );
    assert.equal(broken.status, 400);
    assert.equal(errorCode(broken), 'VIGIE_ERR_BAD_REQUEST');
    assert.equal((await ack('inc-2', 'operator', [1])).status, 400);
    assert.equal((await ack('inc-2', 'operator', { who: 'bob' })).status, 400);
    assert.equal((await ack('inc-2', 'operator', { by: 42 })).status, 400);
  });

  it('answers 413 for a body over 64 KiB, with or without Content-Length', async () => {
    const big = JSON.stringify({ note: 'x'.repeat(70 * 1024) });
    const a = await call('POST', '/api/v1/incidents/inc-2/resolve', 'operator', big, 'application/json');
    assert.equal(a.status, 413);
    assert.equal(errorCode(a), 'VIGIE_ERR_PAYLOAD_REJECTED');
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${h.base}/api/v1/rules/validate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.tokens.integrator}`, 'content-type': 'text/yaml' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('#'.repeat(8 * 1024) + '\n');
      req.end();
    });
    assert.equal(chunked, 413);
    assert.equal(h.ports.store.get('inc-2')?.state, 'acknowledged');
  });

  it('answers an unexpected failure with a bare 500 and keeps serving', async () => {
    const a = await ack('boom', 'operator');
    assert.equal(a.status, 500);
    assert.deepEqual(a.body, { error: { code: 'VIGIE_ERR_INTERNAL', message: 'internal error' } });
    assert.ok(!a.text.includes('secret.db') && !a.text.includes('at '), 'internals leaked to the client');
    assert.ok(
      h.logLines.some((l) => l.includes('secret.db')),
      'the failure should be logged',
    );
    assert.equal((await call('GET', '/healthz')).status, 200);
  });
});

describe('api - devices, rules, health', () => {
  it('lists devices and returns one, 404 for an unknown one', async () => {
    assert.equal(
      ((await call('GET', '/api/v1/devices', 'viewer')).body as { devices: unknown[] }).devices.length,
      1,
    );
    assert.equal((await call('GET', '/api/v1/devices/door-12', 'viewer')).status, 200);
    assert.equal((await call('GET', '/api/v1/devices/door-99', 'viewer')).status, 404);
  });

  it('reports rule problems as a 200 with ok:false, from YAML or JSON', async () => {
    const a = await call(
      'POST',
      '/api/v1/rules/validate',
      'integrator',
      JSON.stringify({ file: 'x.yaml', text: 'bad' }),
      'application/json',
    );
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, {
      ok: false,
      rules: [],
      problems: [{ file: 'x.yaml', line: 2, message: 'unknown device "bad"' }],
    });
    assert.equal((await call('POST', '/api/v1/rules/validate', 'integrator', 'x', 'image/png')).status, 415);
    assert.equal(
      (await call('POST', '/api/v1/rules/validate?file=../etc/passwd', 'integrator', 'x', 'text/yaml'))
        .status,
      400,
    );
    assert.equal(
      ((await call('GET', '/api/v1/rules', 'viewer')).body as { rules: unknown[] }).rules.length,
      1,
    );
  });

  it('serves healthz and readyz without a token, readyz 503 with its checks when not ready', async () => {
    assert.deepEqual((await call('GET', '/healthz')).body, { status: 'ok' });
    assert.equal((await call('GET', '/readyz')).status, 200);
    h.ports.readyState = { ready: false, checks: { store: true, broker: false, rules: true } };
    const r = await call('GET', '/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, { status: 'not ready', checks: { store: true, broker: false, rules: true } });
    h.ports.readyState = { ready: true, checks: { store: true, broker: true, rules: true } };
  });

  it('answers unknown routes with a JSON 404 and wrong methods with 405', async () => {
    const a = await call('GET', '/api/v1/nothing', 'admin');
    assert.equal(a.status, 404);
    assert.equal(errorCode(a), 'VIGIE_ERR_NOT_FOUND');
    assert.match(a.headers.get('content-type') ?? '', /^application\/json/);
    const m = await call('DELETE', '/api/v1/incidents/inc-1', 'admin');
    assert.equal(m.status, 405);
    assert.equal(m.headers.get('allow'), 'GET');
  });

  it('serves Prometheus text with the gateway metrics and the request counter', async () => {
    await call('GET', '/api/v1/devices', 'viewer');
    const a = await call('GET', '/metrics');
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const lines = a.text.split('\n').filter((l) => l.length > 0);
    for (const l of lines) {
      if (l.startsWith('#')) assert.match(l, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/);
      else
        assert.match(
          l,
          /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? -?[0-9.e+Inf]+$/,
          l,
        );
    }
    assert.ok(lines.includes('vigie_events_total{kind="door"} 3'));
    assert.ok(
      lines.some((l) =>
        /^vigie_http_requests_total\{route="\/api\/v1\/devices",status="200"\} [1-9]/.test(l),
      ),
    );
    assert.ok(lines.some((l) => l.startsWith('vigie_http_requests_total{route="unmatched",status="404"}')));
  });
});
