import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONSOLE_CSP, consoleFiles } from '../src/api/console-files.js';
import { startApi, type Harness } from './api-fixture.js';

let h: Harness;
before(async () => {
  h = await startApi();
});
after(() => h.close());

const get = async (path: string, token?: string) => {
  const res = await fetch(h.base + path, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    redirect: 'manual',
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
};

describe('api - what the console reads', () => {
  it('tells a token who it is and which site it watches', async () => {
    const r = await get('/api/v1/me', h.tokens.viewer);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      name: 'viewer-console',
      role: 'viewer',
      site: { id: 'cdg', name: 'CDG', language: 'fr', timezone: 'Europe/Paris' },
    });
    assert.equal((await get('/api/v1/me', h.tokens.admin)).body.role, 'admin');
    assert.equal((await get('/api/v1/me')).status, 401);
    assert.equal((await get('/api/v1/me', 'not-a-token')).status, 401);
  });

  it('answers a device chart for a known device and a plain field name only', async () => {
    h.ports.historyCalls.length = 0;
    const r = await get('/api/v1/devices/door-12/history?field=open&since=1000&until=5000', h.tokens.viewer);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { device: 'door-12', field: 'open', source: 'store', points: [[1000, 21.5]] });
    assert.deepEqual(h.ports.historyCalls[0], { op: 'series', args: ['door-12', 'open', 1000, 5000] });

    assert.equal((await get('/api/v1/devices/nope/history?field=open', h.tokens.viewer)).status, 404);
    for (const bad of [
      '?field=open%22%20OR%201=1',
      '?field=',
      '',
      '?field=open&since=abc',
      '?field=open&since=5000&until=1000',
      '?field=open&since=0&until=99999999999',
      '?field=open&from=1',
    ]) {
      const res = await get(`/api/v1/devices/door-12/history${bad}`, h.tokens.viewer);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.error.code, 'VIGIE_ERR_BAD_REQUEST');
    }
  });

  it('defaults the chart to the last 6 hours and the KPIs to the last 24', async () => {
    h.ports.historyCalls.length = 0;
    const before = Date.now();
    await get('/api/v1/devices/door-12/history?field=open', h.tokens.viewer);
    const k = await get('/api/v1/kpis', h.tokens.viewer);
    assert.equal(k.status, 200);
    assert.equal(k.body.open, 2);
    const [series, kpis] = h.ports.historyCalls.map((c) => c.args as number[]);
    assert.ok(series[3] >= before && series[3] - series[2] === 6 * 3_600_000);
    assert.ok(kpis[1] >= before && kpis[1] - kpis[0] === 24 * 3_600_000);
  });

  it('shows telemetry status to any token', async () => {
    const r = await get('/api/v1/telemetry', h.tokens.viewer);
    assert.equal(r.status, 200);
    assert.equal(r.body.enabled, false);
  });

  it('sends a browser from / to the console', async () => {
    const r = await get('/');
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), 'console/');
  });
});

describe('console files', () => {
  let dir: string;
  let server: Server;
  let base: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigie-console-'));
    mkdirSync(join(dir, 'js'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Vigie</title>');
    writeFileSync(join(dir, 'js', 'app.js'), 'export const x = 1;');
    writeFileSync(join(dir, 'notes.txt'), 'not served: unknown type');
    writeFileSync(join(dir, '.secret.js'), 'hidden');
    const handler = consoleFiles(dir, '/console');
    server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page and its modules with their types, a strict CSP and revalidation', async () => {
    const page = await fetch(`${base}/console/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.match(CONSOLE_CSP, /script-src 'self';/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const js = await fetch(`${base}/console/js/app.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(await js.text(), 'export const x = 1;');
    const again = await fetch(`${base}/console/js/app.js`, {
      headers: { 'if-none-match': js.headers.get('etag') ?? '' },
    });
    assert.equal(again.status, 304);
  });

  it('redirects /console to /console/ and serves nothing outside its files', async () => {
    const r = await fetch(`${base}/console`, { redirect: 'manual' });
    assert.equal(r.status, 301);
    assert.equal(r.headers.get('location'), '/console/');
    for (const path of [
      '/console/notes.txt',
      '/console/.secret.js',
      '/console/../package.json',
      '/console/%2e%2e/x',
    ]) {
      assert.equal((await fetch(base + path)).status, 404, path);
    }
    assert.equal((await fetch(`${base}/console/`, { method: 'POST' })).status, 405);
  });
});
