import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { sha256Hex } from '../src/api/auth.js';
import { hashPassword } from '../src/listen/credentials.js';
import { ADMIN_TOKEN, eventually, GatewayProcess, tempDir } from './support/gateway-process.js';

// The embedded Node-RED as an integrator meets it: behind the gateway's HTTP port at /red, closed
// without a login or an integrator token, its flows kept across a gateway restart, and its editor
// WebSocket working beside the gateway's own live stream.

const INTEGRATOR = 'integrator-token-0123456789abcdefghij';
const VIEWER = 'viewer-token-0123456789abcdefghijklmno';
const PASSWORD = 'correct horse battery';

const TAB = { id: 'a1b2c3d4e5f60001', type: 'tab', label: 'Vigie host test' };
/** An HTTP endpoint of the flow (under {path}/http), and a node with credentials (encrypted on disk). */
const HTTP_IN = {
  id: 'a1b2c3d4e5f60003',
  type: 'http in',
  z: TAB.id,
  url: '/hello',
  method: 'get',
  wires: [['a1b2c3d4e5f60004']],
};
const SET_PAYLOAD = {
  id: 'a1b2c3d4e5f60004',
  type: 'change',
  z: TAB.id,
  rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'hello from the flow', tot: 'str' }],
  wires: [['a1b2c3d4e5f60005']],
};
const HTTP_OUT = { id: 'a1b2c3d4e5f60005', type: 'http response', z: TAB.id, wires: [] };
const REQUEST = {
  id: 'a1b2c3d4e5f60006',
  type: 'http request',
  z: TAB.id,
  method: 'GET',
  url: 'http://127.0.0.1:9/',
  authType: 'basic',
  credentials: { user: 'crm-bot', password: 'crm-secret' },
  wires: [[]],
};
const COMMENT = {
  id: 'a1b2c3d4e5f60002',
  type: 'comment',
  z: TAB.id,
  name: 'kept across restarts',
  x: 200,
  y: 80,
  wires: [],
};
const FLOW = [TAB, HTTP_IN, SET_PAYLOAD, HTTP_OUT, REQUEST, COMMENT];

async function config(): Promise<Record<string, unknown>> {
  const [full, read] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
  return {
    auth: {
      tokens: [
        { name: 'ci', role: 'integrator', sha256: sha256Hex(INTEGRATOR) },
        { name: 'wall', role: 'viewer', sha256: sha256Hex(VIEWER) },
      ],
    },
    nodeRed: {
      enabled: true,
      users: [
        { username: 'ana', passwordHash: full, permissions: '*' },
        { username: 'vic', passwordHash: read, permissions: 'read' },
      ],
    },
  };
}

function red(
  gw: GatewayProcess,
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  return fetch(`http://127.0.0.1:${gw.httpPort}/red${path}`, { ...init, headers });
}

async function login(gw: GatewayProcess, username: string, password: string): Promise<Response> {
  return red(gw, '/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: 'node-red-editor',
      grant_type: 'password',
      scope: '*',
      username,
      password,
    }),
  });
}

function deploy(gw: GatewayProcess, token: string, flows: unknown[]): Promise<Response> {
  return red(gw, '/flows', {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flows),
  });
}

/** Resolves with the first JSON frame for which `pick` returns something, or rejects after 5 s. */
function frame<T>(ws: WebSocket, pick: (msg: any) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no matching WebSocket frame within 5 s')), 5000);
    const onMessage = (data: unknown) => {
      const parsed = JSON.parse(String(data));
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        const v = pick(m);
        if (v === undefined) continue;
        clearTimeout(t);
        ws.off('message', onMessage);
        resolve(v);
        return;
      }
    };
    ws.on('message', onMessage);
    ws.once('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

function upgradeRefused(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => {
      ws.close();
      reject(new Error(`${url} accepted a WebSocket it should refuse`));
    });
    ws.once('error', () => {});
  });
}

describe('node-red host - the embedded editor at /red', () => {
  const dir = tempDir('vigie-red-');
  let gw: GatewayProcess;
  let cfg: Record<string, unknown>;

  before(async () => {
    cfg = await config();
    gw = new GatewayProcess(dir, cfg);
    await gw.start(60_000);
    await gw.waitForLog(/Node-RED editor at \/red\//, 30_000);
  });
  after(() => gw?.stop());

  it('serves the editor page but refuses the admin API without a login or token', async () => {
    const page = await red(gw, '/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Node-RED/);
    assert.equal((await red(gw, '/flows')).status, 401);
    assert.equal((await red(gw, '/flows', { token: 'not-a-token-at-all-0123456789' })).status, 401);
    assert.equal((await deploy(gw, '', [TAB])).status, 401);
  });

  it('logs a configured user in with the password of `vigie hash-password`, and no one else', async () => {
    const ok = await login(gw, 'ana', PASSWORD);
    assert.equal(ok.status, 200);
    const { access_token: token } = (await ok.json()) as { access_token: string };
    assert.equal((await red(gw, '/flows', { token })).status, 200);

    assert.notEqual((await login(gw, 'ana', 'wrong password')).status, 200);
    assert.notEqual((await login(gw, 'nobody', PASSWORD)).status, 200);
  });

  it('gives a read-only user the flows to read but not to deploy', async () => {
    const res = await red(gw, '/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-editor',
        grant_type: 'password',
        scope: 'read',
        username: 'vic',
        password: PASSWORD,
      }),
    });
    assert.equal(res.status, 200);
    const { access_token: token } = (await res.json()) as { access_token: string };
    assert.equal((await red(gw, '/flows', { token })).status, 200);
    assert.equal((await deploy(gw, token, [TAB])).status, 401);
  });

  it('takes the integrator API token on the admin API, not a viewer token', async () => {
    assert.equal((await red(gw, '/flows', { token: INTEGRATOR })).status, 200);
    assert.equal((await red(gw, '/flows', { token: ADMIN_TOKEN })).status, 200);
    assert.equal((await red(gw, '/flows', { token: VIEWER })).status, 401);
    assert.equal((await deploy(gw, VIEWER, [TAB])).status, 401);
    const res = await deploy(gw, INTEGRATOR, FLOW);
    assert.ok(res.status === 200 || res.status === 204, `deploy answered ${res.status}`);
    const flows = (await (await red(gw, '/flows', { token: INTEGRATOR })).json()) as { id: string }[];
    assert.deepEqual(flows.map((n) => n.id).sort(), FLOW.map((n) => n.id).sort());
    // The flow's own HTTP endpoints answer under {path}/http, as the flow decides (no gateway token).
    const hello = await eventually('the http-in endpoint', async () => {
      const r = await red(gw, '/http/hello');
      return r.status === 200 && r.text();
    });
    assert.equal(hello, 'hello from the flow');
  });

  it("accepts the editor's comms WebSocket while the gateway's live stream still works", async () => {
    const base = `ws://127.0.0.1:${gw.httpPort}`;
    const comms = new WebSocket(`${base}/red/comms`);
    const answer = frame(comms, (m) => m.auth);
    await new Promise((resolve, reject) => comms.once('open', resolve).once('error', reject));
    comms.send(JSON.stringify({ auth: INTEGRATOR }));
    assert.equal(await answer, 'ok');
    comms.close();

    const stream = new WebSocket(`${base}/api/v1/stream`, { headers: { authorization: `Bearer ${VIEWER}` } });
    await new Promise((resolve, reject) => stream.once('open', resolve).once('error', reject));
    stream.close();
    assert.equal(await upgradeRefused(`${base}/api/v1/stream`), 401);
    assert.equal(await upgradeRefused(`${base}/elsewhere`), 404);
  });

  it('feeds a message injected by hand through listen and the engine like one from MQTT', async () => {
    const topic = 'vigie/airport/door/door-g12';
    const ok = await gw.request('POST', '/ingest', { topic, payload: { open: true } }, INTEGRATOR);
    assert.deepEqual([ok.status, ok.json], [202, { deviceId: 'door-g12' }]);
    const { device } = await gw.get('/devices/door-g12');
    assert.equal(device.values.open, true);
    const refused = await gw.request(
      'POST',
      '/ingest',
      { topic: 'vigie/airport/door/nope', payload: '{}' },
      INTEGRATOR,
    );
    assert.equal(refused.status, 400);
    assert.match(refused.json.error.message, /^unknown_device: /);
    const bad = await gw.request('POST', '/ingest', { topic, payload: '{"open":' }, INTEGRATOR);
    assert.match(bad.json.error.message, /^malformed_json: /);
  });

  it('says in /readyz that Node-RED is up', async () => {
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { checks: Record<string, boolean> };
    assert.equal(body.checks.nodeRed, true);
  });

  it('keeps the deployed flows in its user directory across a gateway restart', async () => {
    const file = join(dir, 'data', 'node-red', 'flows.json');
    assert.ok(existsSync(file), 'flows.json in {dataDir}/node-red');
    await gw.stop();
    // A new process on the same data directory (and its own log).
    gw = new GatewayProcess(dir, cfg);
    await gw.start(60_000);
    await gw.waitForLog(/Node-RED editor at \/red\//, 30_000);
    const flows = (await (await red(gw, '/flows', { token: INTEGRATOR })).json()) as {
      id: string;
      name?: string;
    }[];
    assert.equal(flows.find((n) => n.id === COMMENT.id)?.name, 'kept across restarts');
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).length, FLOW.length);
    // Credentials are encrypted with the gateway's stored secret: still readable after the restart.
    const cred = await red(gw, `/credentials/http-request/${REQUEST.id}`, { token: INTEGRATOR });
    assert.deepEqual(await cred.json(), { user: 'crm-bot', has_password: true });
    assert.doesNotMatch(readFileSync(join(dir, 'data', 'node-red', 'flows_cred.json'), 'utf8'), /crm-secret/);
    assert.equal(await (await red(gw, '/http/hello')).text(), 'hello from the flow');
  });
});

describe('node-red host - a Node-RED that cannot start', () => {
  const dir = tempDir('vigie-red-broken-');
  let gw: GatewayProcess;

  before(async () => {
    // A file where its user directory should be: Node-RED cannot start there.
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const cfg = await config();
    gw = new GatewayProcess(dir, { ...cfg, nodeRed: { ...(cfg.nodeRed as object), userDir: blocker } });
    await gw.start(60_000);
  });
  after(() => gw?.stop());

  it('is logged and leaves the gateway running and ready, without the editor', async () => {
    await gw.waitForLog(/Node-RED could not start/);
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
    const body = (await res.json()) as { checks: Record<string, boolean> };
    assert.equal(res.status, 200);
    assert.equal(body.checks.nodeRed, false);
    assert.equal((await red(gw, '/flows', { token: INTEGRATOR })).status, 404);
    assert.equal((await gw.request('GET', '/incidents')).status, 200);
  });
});
