import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { SensorEvent } from '../../../rules/src/model.js';
import { ManualClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import { loadSite } from '../site/load.js';
import type { RecordedItem, RecordingInfo, ReplayResult } from '../workbench/model.js';
import { Recorder } from '../workbench/recorder.js';
import { emptyRead, readRecording } from '../workbench/recording.js';
import { generateToken, sha256Hex, TokenAuth } from './auth.js';
import { workbenchPaths } from './openapi-workbench.js';
import { Router } from './router.js';
import type { ApiPorts } from './ports.js';
import { createApiServer, type ApiServer } from './server.js';
import { registerWorkbenchApi, type ReplaySource, type WorkbenchApiDeps } from './workbench-routes.js';

// The workbench routes inside the real API server (roles are checked there), with a real
// recorder on a temporary directory and a replay port that reads what it is given.

const ROOT = resolve(import.meta.dirname, '../../../..');
const site = loadSite(join(ROOT, 'rules/examples/site.yaml'));
const T0 = Date.UTC(2025, 0, 6, 8, 0, 0);

const tokens = { viewer: generateToken(), integrator: generateToken(), admin: 'admin-' + generateToken() };
let api: ApiServer;
let base: string;
let dir: string;
let recorder: Recorder;
const clock = new ManualClock(T0);

/** What the replay port was asked, and the items it read from an upload. */
const calls: { src: ReplaySource; items?: RecordedItem[]; error?: string }[] = [];
let gate: Promise<void> | undefined;
const deps: WorkbenchApiDeps = {
  recorder: undefined as unknown as Recorder,
  maxReplayBytes: 1024 * 1024,
  replay: async (src) => {
    const call: (typeof calls)[number] = { src };
    calls.push(call);
    if (gate) await gate;
    let events = 0;
    if ('upload' in src) {
      call.items = [];
      try {
        for await (const item of readRecording(src.upload, emptyRead())) call.items.push(item);
      } catch (err) {
        call.error = (err as Error).message;
        throw err;
      }
      events = call.items.length;
    }
    return result(events);
  },
};

function result(events: number): ReplayResult {
  return {
    site: site.id,
    rules: ['door-held-open'],
    from: T0,
    to: T0 + 1,
    events,
    actions: 0,
    skipped: 0,
    problems: [],
    incidents: [],
    notifications: [],
    timeline: [],
    wallMs: 1,
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigie-wbapi-'));
  recorder = new Recorder({
    dir,
    site,
    clock,
    logger: memoryLogger(),
    metrics: new Registry(),
    config: {
      maxBytes: 1024 * 1024,
      segmentBytes: 64 * 1024,
      whenFull: 'drop-oldest',
      maxActive: 4,
      keep: 50,
      maxReplayBytes: 1024 * 1024,
    },
    flushMs: 10,
  });
  deps.recorder = recorder;
  api = createApiServer({
    ports: {} as ApiPorts,
    auth: new TokenAuth({
      adminToken: tokens.admin,
      tokens: [
        { name: 'viewer-console', role: 'viewer', sha256: sha256Hex(tokens.viewer) },
        { name: 'integrator-ci', role: 'integrator', sha256: sha256Hex(tokens.integrator) },
      ],
    }),
    logger: memoryLogger(),
  });
  registerWorkbenchApi(api.router, deps);
  base = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
});

after(async () => {
  await api.close();
  await recorder.close();
  rmSync(dir, { recursive: true, force: true });
});

type Init = { method?: string; body?: unknown; type?: string; token?: string | null };
function call(path: string, o: Init = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (o.token !== null) headers.authorization = `Bearer ${o.token ?? tokens.integrator}`;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['content-type'] = o.type ?? 'application/json';
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  }
  return fetch(base + path, { method: o.method ?? 'GET', headers, ...(body !== undefined ? { body } : {}) });
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, ...body.error };
}

let seq = 0;
function ev(deviceId: string, at: number): SensorEvent {
  const kind = site.devices.find((d) => d.id === deviceId)?.kind ?? 'door';
  return { site: site.id, deviceId, kind, ts: at, receivedAt: at, values: { open: seq++ % 2 === 0 } };
}

/** A stopped recording of `n` door events, one a second from T0. */
async function stoppedRecording(n: number): Promise<RecordingInfo> {
  const res = await call('/api/v1/recordings', { method: 'POST', body: { devices: ['door-g12'] } });
  assert.equal(res.status, 201);
  const info = (await res.json()) as RecordingInfo;
  for (let i = 0; i < n; i++) recorder.sensor(ev('door-g12', T0 + i * 1000));
  const stopped = await call(`/api/v1/recordings/${info.id}/stop`, { method: 'POST' });
  assert.equal(stopped.status, 200);
  return (await stopped.json()) as RecordingInfo;
}

async function decodeText(text: string) {
  const read = emptyRead();
  const items: RecordedItem[] = [];
  for await (const item of readRecording(Readable.from([text]), read)) items.push(item);
  return { items, read };
}

describe('api - workbench routes', () => {
  it('needs the integrator role on every route: no token 401, a viewer 403', async () => {
    const info = await stoppedRecording(1);
    const routes: [string, string][] = [
      ['GET', '/api/v1/recordings'],
      ['POST', '/api/v1/recordings'],
      ['GET', `/api/v1/recordings/${info.id}`],
      ['POST', `/api/v1/recordings/${info.id}/stop`],
      ['GET', `/api/v1/recordings/${info.id}/events`],
      ['DELETE', `/api/v1/recordings/${info.id}`],
      ['POST', '/api/v1/replays'],
    ];
    for (const [method, path] of routes) {
      assert.equal((await call(path, { method, token: null })).status, 401, `${method} ${path}`);
      const res = await call(path, { method, token: tokens.viewer });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal((await errorOf(res)).code, 'VIGIE_ERR_FORBIDDEN');
    }
    assert.equal((await call(`/api/v1/recordings/${info.id}`, { token: tokens.admin })).status, 200);
    assert.equal(recorder.get(info.id)?.state, 'stopped', 'nothing happened for the refused ones');
  });

  it('starts a recording with a duration string and lists it newest first', async () => {
    const res = await call('/api/v1/recordings', {
      method: 'POST',
      body: { name: 'gates', zones: ['gates-g'], duration: '10m', maxBytes: 65536 },
    });
    assert.equal(res.status, 201);
    const info = (await res.json()) as RecordingInfo;
    assert.equal(info.state, 'recording');
    assert.equal(info.name, 'gates');
    assert.equal(info.endsAt, info.startedAt + 600_000);
    assert.equal(info.maxBytes, 65536);
    assert.deepEqual(info.selection, { zones: ['gates-g'] });
    clock.advance(1000);
    const later = (await (
      await call('/api/v1/recordings', { method: 'POST', body: {} })
    ).json()) as RecordingInfo;
    const list = (await (await call('/api/v1/recordings')).json()) as { recordings: RecordingInfo[] };
    assert.deepEqual(
      list.recordings.slice(0, 2).map((r) => r.id),
      [later.id, info.id],
    );
    const one = await call(`/api/v1/recordings/${info.id}`);
    assert.deepEqual(await one.json(), recorder.get(info.id));
    for (const id of [info.id, later.id]) await call(`/api/v1/recordings/${id}`, { method: 'DELETE' });
  });

  it('answers bad input with 400 and a message that says what is wrong', async () => {
    const cases: [unknown, RegExp][] = [
      [{ devices: ['door-g12', 'door-nowhere'], zones: ['moon'] }, /devices door-nowhere.*zones moon/],
      [{ duration: 'soon' }, /duration must be a duration/],
      [{ duration: 600000 }, /duration must be a duration/],
      [{ devices: 'door-g12' }, /devices must be a list/],
      [{ maxBytes: 10 }, /maxBytes/],
      [{ colour: 'red' }, /unknown field "colour"/],
    ];
    for (const [body, message] of cases) {
      const res = await call('/api/v1/recordings', { method: 'POST', body });
      const e = await errorOf(res);
      assert.equal(e.status, 400, JSON.stringify(body));
      assert.equal(e.code, 'VIGIE_ERR_BAD_REQUEST');
      assert.match(e.message, message);
    }
    assert.equal(
      (await call('/api/v1/recordings', { method: 'POST', body: 'x{', type: 'application/json' })).status,
      400,
    );
    for (const [method, path] of [
      ['GET', '/api/v1/recordings/rec_nope'],
      ['POST', '/api/v1/recordings/rec_nope/stop'],
      ['GET', '/api/v1/recordings/rec_nope/events'],
      ['DELETE', '/api/v1/recordings/rec_nope'],
    ]) {
      assert.equal((await call(path, { method })).status, 404, `${method} ${path}`);
    }
  });

  it('downloads the recording as NDJSON that decodes to what was recorded; from/to keep a window', async () => {
    const info = await stoppedRecording(10);
    const res = await call(`/api/v1/recordings/${info.id}/events`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="${info.id}.jsonl"`);
    assert.equal(res.headers.get('content-length'), null, 'streamed');
    const text = await res.text();
    const { items, read } = await decodeText(text);
    assert.deepEqual(
      items.map((x) => (x.type === 'event' ? x.receivedAt : -1)),
      Array.from({ length: 10 }, (_, i) => T0 + i * 1000),
    );
    assert.equal(read.header?.id, info.id);
    assert.equal(read.end?.events, 10);

    const iso = new Date(T0 + 7000).toISOString();
    const part = await call(
      `/api/v1/recordings/${info.id}/events?from=${T0 + 3000}&to=${encodeURIComponent(iso)}`,
    );
    assert.equal(part.status, 200);
    const window = await decodeText(await part.text());
    assert.deepEqual(
      window.items.map((x) => (x.type === 'event' ? x.receivedAt : -1)),
      [3, 4, 5, 6].map((s) => T0 + s * 1000),
    );
    assert.equal(window.read.header?.id, info.id, 'header kept');
    assert.equal(window.read.end?.events, 10, 'end line kept');

    const badWindow = await call(`/api/v1/recordings/${info.id}/events?from=yesterday`);
    assert.equal(badWindow.status, 400);
    assert.match((await errorOf(badWindow)).message, /from must be a time/);
  });

  it('stops and deletes: 204, then 404', async () => {
    const res = await call('/api/v1/recordings', { method: 'POST', body: {} });
    const info = (await res.json()) as RecordingInfo;
    const stopped = (await (
      await call(`/api/v1/recordings/${info.id}/stop`, { method: 'POST' })
    ).json()) as RecordingInfo;
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.stopReason, 'requested');
    const running = (await (
      await call('/api/v1/recordings', { method: 'POST', body: {} })
    ).json()) as RecordingInfo;
    for (const id of [info.id, running.id]) {
      const del = await call(`/api/v1/recordings/${id}`, { method: 'DELETE' });
      assert.equal(del.status, 204);
      assert.equal(await del.text(), '');
      assert.equal((await call(`/api/v1/recordings/${id}`)).status, 404);
    }
  });

  it('replays a stored recording (with its window) through the replay port', async () => {
    const info = await stoppedRecording(3);
    calls.length = 0;
    const res = await call('/api/v1/replays', {
      method: 'POST',
      body: { recording: info.id, from: T0 + 1000, to: '2025-01-06T09:00:00Z' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), result(0));
    assert.deepEqual(calls[0].src, { recording: info.id, from: T0 + 1000, to: Date.UTC(2025, 0, 6, 9) });
    const unknown = await call('/api/v1/replays', { method: 'POST', body: { recording: 'rec_nope' } });
    assert.equal(unknown.status, 404);
    const bad = await call('/api/v1/replays', { method: 'POST', body: { recording: info.id, speed: 2 } });
    assert.equal(bad.status, 400);
    const form = await call('/api/v1/replays', { method: 'POST', body: 'a=b', type: 'text/csv' });
    assert.equal(form.status, 415);
  });

  it('replays an uploaded recording file: the replay port reads it as it was downloaded', async () => {
    const info = await stoppedRecording(25);
    const file = await (await call(`/api/v1/recordings/${info.id}/events`)).text();
    calls.length = 0;
    const res = await call('/api/v1/replays', { method: 'POST', body: file, type: 'application/x-ndjson' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as ReplayResult).events, 25);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0].items, (await decodeText(file)).items);
  });

  it('refuses an upload that is not a recording with 400, before replaying anything', async () => {
    calls.length = 0;
    const v2 = JSON.stringify({ vigie: 'recording', version: 2, site: 'x', startedAt: 0, kinds: {} });
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['hello\n{"t":1,"d":"door-g12","v":{}}\n', /not a Vigie recording: not JSON/],
      ['{"t":1,"d":"door-g12","v":{}}\n', /first line is an event/],
      [v2 + '\n', /version 2 is not 1/],
    ];
    for (const [body, message] of cases) {
      const res = await call('/api/v1/replays', { method: 'POST', body, type: 'application/x-ndjson' });
      const e = await errorOf(res);
      assert.equal(e.status, 400, body);
      assert.match(e.message, message);
    }
    assert.equal(calls.length, 0);
  });

  it('runs one replay at a time: 409 while one runs', async () => {
    const info = await stoppedRecording(1);
    let release = () => {};
    gate = new Promise<void>((r) => (release = r));
    calls.length = 0;
    try {
      const first = call('/api/v1/replays', { method: 'POST', body: { recording: info.id } });
      while (calls.length === 0) await new Promise((r) => setTimeout(r, 5));
      const second = await call('/api/v1/replays', { method: 'POST', body: { recording: info.id } });
      assert.equal(second.status, 409);
      assert.match((await errorOf(second)).message, /a replay is running/);
      release();
      assert.equal((await first).status, 200);
    } finally {
      gate = undefined;
      release();
    }
    const third = await call('/api/v1/replays', { method: 'POST', body: { recording: info.id } });
    assert.equal(third.status, 200, 'the slot is free again');
  });

  it('answers 413 over maxReplayBytes: declared, counted while streaming, or a stored recording', async () => {
    const info = await stoppedRecording(200);
    const file = await (await call(`/api/v1/recordings/${info.id}/events`)).text();
    const limit = 4096;
    assert.ok(file.length > 2 * limit);
    deps.maxReplayBytes = limit;
    try {
      calls.length = 0;
      const declared = await call('/api/v1/replays', {
        method: 'POST',
        body: file,
        type: 'application/x-ndjson',
      });
      assert.equal(declared.status, 413);
      assert.equal((await errorOf(declared)).code, 'VIGIE_ERR_PAYLOAD_REJECTED');
      assert.equal(calls.length, 0, 'refused on its Content-Length');

      // Chunked, no Content-Length: counted as it arrives, while the replay is already reading it.
      const streamed = await chunkedPost('/api/v1/replays', file, 1024);
      assert.equal(streamed.status, 413);
      assert.match(streamed.body, /maxReplayBytes/);
      assert.equal(calls.length, 1);
      assert.match(calls[0].error ?? '', /larger than the 4096 bytes/, 'the replay input failed');

      const stored = await call('/api/v1/replays', { method: 'POST', body: { recording: info.id } });
      assert.equal(stored.status, 413);

      // The same file under the limit goes through.
      deps.maxReplayBytes = file.length;
      const fits = await chunkedPost('/api/v1/replays', file, 1024);
      assert.equal(fits.status, 200);
      assert.equal((JSON.parse(fits.body) as ReplayResult).events, 200);
    } finally {
      deps.maxReplayBytes = 1024 * 1024;
    }
  });
});

describe('api - workbench OpenAPI paths', () => {
  it('describe exactly the routes registered, with their minimum role', () => {
    const router = new Router();
    registerWorkbenchApi(router, deps);
    const fromRouter = router
      .routes()
      .map((r) => `${r.method} ${r.pattern.replace(/:(\w+)/g, '{$1}')} ${r.minRole}`)
      .sort();
    const paths = workbenchPaths() as Record<string, Record<string, { 'x-vigie-min-role': string }>>;
    const fromDoc = Object.entries(paths)
      .flatMap(([path, ops]) =>
        Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${path} ${op['x-vigie-min-role']}`),
      )
      .sort();
    assert.deepEqual(fromDoc, fromRouter);
  });
});

/** A POST with Transfer-Encoding: chunked, `size` bytes a chunk, a turn of the event loop between them. */
function chunkedPost(path: string, body: string, size: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      base + path,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.integrator}`, 'content-type': 'application/x-ndjson' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    let at = 0;
    const next = () => {
      if (at >= body.length) return req.end();
      req.write(body.slice(at, (at += size)));
      setImmediate(next);
    };
    next();
  });
}
