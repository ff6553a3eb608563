import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { LiveEvent, Role } from '../src/api/ports.js';
import type { FlowRuleDoc } from '../src/red/link.js';
import { startApi, until, type Harness } from './api-fixture.js';

let h: Harness;
before(async () => {
  h = await startApi();
});
after(() => h.close());

interface Answer {
  status: number;
  body: unknown;
}

async function call(method: string, path: string, role: Role, body?: unknown, type = 'application/json') {
  const res = await fetch(h.base + path, {
    method,
    headers: { authorization: `Bearer ${h.tokens[role]}`, 'content-type': type },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined } satisfies Answer;
}

const error = (a: Answer) => (a.body as { error: { code: string; message: string } }).error;

const rule = (id: string, above: unknown = 27): FlowRuleDoc => ({
  doc: {
    rule: id,
    name: id,
    severity: 'minor',
    listen: { devices: { kind: 'temperature' }, when: { threshold: { field: 'celsius', above } } },
  },
  nodes: { condition: `c-${id}`, listen: 'l1' },
  flow: { id: 'tab1', label: 'Temperatures' },
});

describe('api - rule sources', () => {
  it('lets a viewer read the catalog and the sources, but not put a set (403)', async () => {
    const catalog = await call('GET', '/api/v1/catalog', 'viewer');
    assert.equal(catalog.status, 200);
    assert.deepEqual((catalog.body as { channels: string[] }).channels, ['console']);
    const list = await call('GET', '/api/v1/rule-sources', 'viewer');
    assert.deepEqual(list, { status: 200, body: { sources: [] } });
    const put = await call('PUT', '/api/v1/rule-sources/node-red', 'viewer', { label: 'x', rules: [] });
    assert.equal(put.status, 403);
    assert.equal(error(put).code, 'VIGIE_ERR_FORBIDDEN');
    const del = await call('DELETE', '/api/v1/rule-sources/node-red', 'operator');
    assert.equal(del.status, 403);
    assert.equal(h.ports.sourceCalls.length, 0);
  });

  it('puts a set as an integrator (200), lists it, and refuses a bad set with 422 and its problems', async () => {
    const ok = await call('PUT', '/api/v1/rule-sources/node-red', 'integrator', {
      label: 'Embedded Node-RED',
      rules: [rule('hall-hot')],
    });
    assert.deepEqual(ok, { status: 200, body: { ok: true, rules: ['hall-hot'], problems: [] } });
    assert.deepEqual(h.ports.sourceCalls.at(-1), {
      op: 'put',
      id: 'node-red',
      label: 'Embedded Node-RED',
      rules: [rule('hall-hot')],
    });
    const list = await call('GET', '/api/v1/rule-sources', 'viewer');
    assert.deepEqual((list.body as { sources: { id: string; rules: string[] }[] }).sources, [
      { id: 'node-red', label: 'Embedded Node-RED', rules: ['hall-hot'], updatedAt: 1000 },
    ]);
    const refused = await call('PUT', '/api/v1/rule-sources/node-red', 'admin', {
      label: 'Embedded Node-RED',
      rules: [rule('hall-hot', 'hot')],
    });
    assert.equal(refused.status, 422);
    assert.deepEqual((refused.body as { problems: unknown[] }).problems, [
      { nodeId: 'c-hall-hot', rule: 'hall-hot', message: 'listen.when.threshold.above: "hot"' },
    ]);
  });

  it('validates a set with 200 even when it has problems', async () => {
    const a = await call('POST', '/api/v1/rule-sources/lab/validate', 'integrator', {
      rules: [rule('x', 'hot')],
    });
    assert.equal(a.status, 200);
    assert.equal((a.body as { ok: boolean }).ok, false);
    assert.equal(h.ports.sources.has('lab'), false);
  });

  it('deletes a source (204), then answers 404 for it', async () => {
    await call('PUT', '/api/v1/rule-sources/gone', 'integrator', { label: 'Gone', rules: [] });
    const first = await call('DELETE', '/api/v1/rule-sources/gone', 'integrator');
    assert.deepEqual(first, { status: 204, body: undefined });
    const second = await call('DELETE', '/api/v1/rule-sources/gone', 'integrator');
    assert.equal(second.status, 404);
    assert.equal(error(second).code, 'VIGIE_ERR_NOT_FOUND');
  });

  const badRequests: [string, string, string, unknown, RegExp][] = [
    ['bad source id', 'PUT', '/api/v1/rule-sources/Node_RED', { label: 'x', rules: [] }, /rule source id/],
    ['too long an id', 'PUT', `/api/v1/rule-sources/${'a'.repeat(64)}`, { label: 'x', rules: [] }, /id/],
    ['bad JSON', 'PUT', '/api/v1/rule-sources/node-red', '{"label": ', /not valid JSON/],
    ['a JSON list', 'PUT', '/api/v1/rule-sources/node-red', '[]', /JSON object/],
    ['no label', 'PUT', '/api/v1/rule-sources/node-red', { rules: [] }, /^label must be/],
    ['no rules', 'PUT', '/api/v1/rule-sources/node-red', { label: 'x' }, /^rules must be a list/],
    [
      'unknown field',
      'PUT',
      '/api/v1/rule-sources/node-red',
      { label: 'x', rules: [], z: 1 },
      /unknown field "z"/,
    ],
    [
      'doc not an object',
      'POST',
      '/api/v1/rule-sources/x/validate',
      { rules: [{ doc: 'rule: a', nodes: { condition: 'c' } }] },
      /^rules\[0\]\.doc/,
    ],
    [
      'no condition node',
      'POST',
      '/api/v1/rule-sources/x/validate',
      { rules: [{ doc: {}, nodes: {} }] },
      /^rules\[0\]\.nodes\.condition/,
    ],
    [
      'bad flow',
      'POST',
      '/api/v1/rule-sources/x/validate',
      { rules: [{ ...rule('a'), flow: { label: 'x' } }] },
      /^rules\[0\]\.flow\.id/,
    ],
    ['ingest without topic', 'POST', '/api/v1/ingest', { payload: 'x' }, /^topic must be/],
    [
      'ingest without payload',
      'POST',
      '/api/v1/ingest',
      { topic: 'vigie/cdg/door/door-12' },
      /^payload must be/,
    ],
  ];
  for (const [what, method, path, body, message] of badRequests) {
    it(`answers 400 with the usual error shape: ${what}`, async () => {
      const before = h.ports.sourceCalls.length;
      const a = await call(method, path, 'integrator', body);
      assert.equal(a.status, 400);
      assert.equal(error(a).code, 'VIGIE_ERR_BAD_REQUEST');
      assert.match(error(a).message, message);
      assert.equal(h.ports.sourceCalls.length, before);
    });
  }

  it('refuses a body that is not JSON with 415', async () => {
    const a = await call('PUT', '/api/v1/rule-sources/node-red', 'integrator', 'rule: a', 'text/yaml');
    assert.equal(a.status, 415);
  });
});

describe('api - ingest', () => {
  it('feeds a JSON payload or a text payload into listen (202), integrator only', async () => {
    const json = await call('POST', '/api/v1/ingest', 'integrator', {
      topic: 'vigie/cdg/door/door-12',
      payload: { open: true },
    });
    assert.deepEqual(json, { status: 202, body: { deviceId: 'door-12' } });
    const text = await call('POST', '/api/v1/ingest', 'integrator', {
      topic: 'vigie/cdg/door/door-12',
      payload: 'open',
    });
    assert.equal(text.status, 202);
    assert.deepEqual(h.ports.injected, [
      { topic: 'vigie/cdg/door/door-12', payload: '{"open":true}' },
      { topic: 'vigie/cdg/door/door-12', payload: 'open' },
    ]);
    const viewer = await call('POST', '/api/v1/ingest', 'operator', {
      topic: 'vigie/cdg/door/door-12',
      payload: 'x',
    });
    assert.equal(viewer.status, 403);
    assert.equal(h.ports.injected.length, 2);
  });

  it('answers 400 with the reason when listen rejects the message', async () => {
    const a = await call('POST', '/api/v1/ingest', 'integrator', { topic: 'elsewhere/x', payload: 'x' });
    assert.equal(a.status, 400);
    assert.deepEqual(error(a), {
      code: 'VIGIE_ERR_PAYLOAD_REJECTED',
      message: 'topic elsewhere/x is not a device topic',
    });
  });
});

describe('api - live stream with sensor events', () => {
  function frames(ws: WebSocket): LiveEvent[] {
    const got: LiveEvent[] = [];
    ws.on('message', (data) => got.push(JSON.parse(String(data)) as LiveEvent));
    return got;
  }

  it('sends sensor events only to a client that opened the stream with ?sensor=1', async () => {
    const url = `${h.base.replace('http', 'ws')}/api/v1/stream`;
    const headers = { authorization: `Bearer ${h.tokens.viewer}` };
    const plain = new WebSocket(url, { headers });
    const red = new WebSocket(`${url}?sensor=1`, { headers });
    const plainGot = frames(plain);
    const redGot = frames(red);
    await until(
      () => h.ports.listeners.size === 2 && h.ports.sensorListeners.size === 1,
      'both to subscribe',
    );
    const sensor: LiveEvent = {
      type: 'sensor',
      at: 5,
      data: { deviceId: 'door-12', values: { open: true } },
    };
    const incident: LiveEvent = { type: 'incident', at: 6, data: { id: 'inc-1' } };
    h.ports.emit(sensor);
    h.ports.emit(incident);
    await until(() => redGot.length === 2 && plainGot.length === 1, 'the frames');
    assert.deepEqual(redGot, [sensor, incident]);
    assert.deepEqual(plainGot, [incident]);
    plain.close();
    red.close();
    await until(() => h.ports.listeners.size === 0, 'both to leave');
  });
});
