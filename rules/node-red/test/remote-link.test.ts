import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, afterEach, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { PKG, waitFor } from './support.js';

// RemoteLink against a small stand-in for the gateway's API: it checks the bearer token and the
// paths of common.md, and pushes stream frames the way gateway/src/api/stream.ts does.

const require = createRequire(import.meta.url);
const { RemoteLink } = require(`${PKG}/lib/remote-link.js`);

const TOKEN = 'secret-integrator-token';

interface Seen {
  method: string;
  path: string;
  body: any;
}

class FakeApi {
  server: Server;
  wss = new WebSocketServer({ noServer: true });
  seen: Seen[] = [];
  streams: { ws: WebSocket; url: string }[] = [];
  url = '';

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (!req.url?.startsWith('/api/v1/stream')) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.streams.push({ ws, url: req.url! });
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  broadcast(frame: unknown): void {
    for (const s of this.streams) if (s.ws.readyState === s.ws.OPEN) s.ws.send(JSON.stringify(frame));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body = text ? JSON.parse(text) : undefined;
    const path = req.url ?? '';
    this.seen.push({ method: req.method ?? '', path, body });
    const send = (status: number, json?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(json === undefined ? '' : JSON.stringify(json));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      return send(401, { error: { code: 'VIGIE_ERR_UNAUTHORIZED', message: 'unknown token' } });
    }
    const key = `${req.method} ${path}`;
    if (key === 'GET /api/v1/catalog') return send(200, { site: { id: 'airport' }, kinds: ['door'] });
    if (key === 'POST /api/v1/rule-sources/nr-remote/validate')
      return send(200, { ok: true, rules: ['a'], problems: [] });
    if (key === 'PUT /api/v1/rule-sources/nr-remote') {
      if (body.rules.length === 0) return send(200, { ok: true, rules: [], problems: [] });
      return send(422, { ok: false, rules: [], problems: [{ nodeId: 'c1', message: 'bad' }] });
    }
    if (key === 'POST /api/v1/ingest') {
      if (body.topic === 'vigie/airport/door/nope')
        return send(400, {
          error: { code: 'VIGIE_ERR_BAD_REQUEST', message: 'unknown_device: not in the site' },
        });
      return send(202, { deviceId: 'door-g12' });
    }
    if (key === 'GET /api/v1/incidents?state=open,acknowledged,cleared&limit=1000')
      return send(200, { incidents: [{ id: 'inc-1', rule: 'r', device: 'd', state: 'open' }] });
    if (key === 'POST /api/v1/incidents/inc-1/acknowledge')
      return send(200, { incident: { id: 'inc-1', rule: 'r', device: 'd', state: 'acknowledged' } });
    if (key === 'POST /api/v1/incidents/inc-1/resolve')
      return send(409, {
        error: { code: 'VIGIE_ERR_CONFLICT', message: 'incident inc-1 is already resolved' },
      });
    if (key === 'GET /api/v1/boom') return send(503, { error: { message: 'store down' } });
    return send(404, { error: { code: 'VIGIE_ERR_NOT_FOUND', message: `no route ${key}` } });
  }
}

describe('RemoteLink over the HTTP API', () => {
  const api = new FakeApi();
  const links: any[] = [];
  const link = (token = TOKEN, extra: Record<string, unknown> = {}) => {
    const l = new RemoteLink({
      url: `${api.url}/`,
      token,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      ...extra,
    });
    links.push(l);
    return l;
  };

  before(() => api.start());
  after(() => api.stop());
  afterEach(async () => {
    for (const l of links.splice(0)) await l.close();
  });

  it('sends the bearer token and uses the API paths', async () => {
    const l = link();
    assert.deepEqual(await l.catalog(), { site: { id: 'airport' }, kinds: ['door'] });
    assert.deepEqual(
      await l.validateRules('nr-remote', [{ doc: { rule: 'a' }, nodes: { condition: 'c' } }]),
      {
        ok: true,
        rules: ['a'],
        problems: [],
      },
    );
    assert.equal(api.seen.at(-1)?.body.rules[0].doc.rule, 'a');
    assert.deepEqual(await l.openIncidents(), [{ id: 'inc-1', rule: 'r', device: 'd', state: 'open' }]);
    assert.equal(l.status().connected, true);
  });

  it('putRules: 200 and 422 are both SourceResults; label and rules in the body', async () => {
    const l = link();
    assert.equal((await l.putRules('nr-remote', 'Node-RED', [])).ok, true);
    assert.deepEqual(api.seen.at(-1)?.body, { label: 'Node-RED', rules: [] });
    const rejected = await l.putRules('nr-remote', 'Node-RED', [{ doc: {}, nodes: { condition: 'c1' } }]);
    assert.deepEqual(rejected, { ok: false, rules: [], problems: [{ nodeId: 'c1', message: 'bad' }] });
  });

  it('inject: 202 -> ok with the device, 400 -> not ok with the reason; a Buffer goes as text', async () => {
    const l = link();
    assert.deepEqual(await l.inject('vigie/airport/door/door-g12', Buffer.from('{"open":true}')), {
      ok: true,
      deviceId: 'door-g12',
    });
    assert.deepEqual(api.seen.at(-1)?.body, {
      topic: 'vigie/airport/door/door-g12',
      payload: '{"open":true}',
    });
    assert.deepEqual(await l.inject('vigie/airport/door/nope', '{}'), {
      ok: false,
      error: 'unknown_device: not in the site',
    });
  });

  it('act: the incident, or the API error message', async () => {
    const l = link();
    const i = await l.act('acknowledge', 'inc-1', 'alice', 'on my way');
    assert.equal(i.state, 'acknowledged');
    assert.deepEqual(api.seen.at(-1)?.body, { by: 'alice', note: 'on my way' });
    await assert.rejects(l.act('resolve', 'inc-1', 'alice'), {
      message: 'incident inc-1 is already resolved',
      status: 409,
    });
  });

  it('a wrong token is refused (not retryable); a gateway error or a dead port is unreachable', async () => {
    await assert.rejects(link('wrong').catalog(), {
      code: 'VIGIE_ERR_REFUSED',
      status: 401,
      message: 'unknown token',
    });
    await assert.rejects(link().request('GET', '/api/v1/boom'), { code: 'VIGIE_ERR_UNREACHABLE' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const dead = new RemoteLink({ url: `http://127.0.0.1:${port}`, token: TOKEN });
    links.push(dead);
    await assert.rejects(dead.catalog(), { code: 'VIGIE_ERR_UNREACHABLE', message: /ECONNREFUSED/ });
    assert.equal(dead.status().connected, false);
  });

  it('streams incidents; asks for sensor events only while someone listens to them', async () => {
    const l = link();
    const incidents: any[] = [];
    const sensors: any[] = [];
    const statuses: any[] = [];
    l.onStatus((s: any) => statuses.push(s));
    l.onIncident((e: any) => incidents.push(e));
    await waitFor(() => api.streams.length === 1 && l.status().connected, 'stream open');
    assert.equal(api.streams[0].url, '/api/v1/stream');
    api.broadcast({
      type: 'incident',
      at: 1,
      data: { id: 'inc-1', rule: 'r', device: 'd', state: 'open', transition: 'opened' },
    });
    api.broadcast({ type: 'notification', at: 1, data: { text: 'ignored' } });
    await waitFor(() => incidents.length === 1, 'incident');
    assert.deepEqual(incidents[0], {
      transition: 'opened',
      incident: { id: 'inc-1', rule: 'r', device: 'd', state: 'open' },
    });

    const off = l.onSensorEvent((ev: any) => sensors.push(ev));
    await waitFor(() => api.streams.length === 2 && l.status().connected, 'sensor stream');
    assert.equal(api.streams[1].url, '/api/v1/stream?sensor=1');
    api.broadcast({
      type: 'sensor',
      at: 2,
      data: { deviceId: 'door-g12', kind: 'door', values: { open: true } },
    });
    await waitFor(() => sensors.length === 1, 'sensor event');
    off();
    await waitFor(() => api.streams.length === 3, 'back to incidents only');
    assert.equal(api.streams[2].url, '/api/v1/stream');
    assert.ok(statuses.some((s) => s.connected));
    api.streams.splice(0);
  });

  it('reconnects with backoff after the stream drops, and says so in the status', async () => {
    const l = link();
    const statuses: any[] = [];
    l.onStatus((s: any) => statuses.push(s));
    l.onIncident(() => {});
    await waitFor(() => api.streams.length === 1 && l.status().connected, 'first stream');
    api.streams[0].ws.terminate();
    await waitFor(() => statuses.some((s) => !s.connected), 'disconnected status');
    await waitFor(() => api.streams.length === 2 && l.status().connected, 'reconnected');
    assert.deepEqual(statuses.at(-1), { connected: true });
    api.streams.splice(0);
  });

  it('a refused stream (bad token) reports why and keeps retrying', async () => {
    const l = link('wrong');
    const statuses: any[] = [];
    l.onStatus((s: any) => statuses.push(s));
    l.onIncident(() => {});
    await waitFor(() => statuses.filter((s) => !s.connected).length >= 1, 'refusal');
    assert.match(statuses[0].error, /HTTP 401/);
  });
});
