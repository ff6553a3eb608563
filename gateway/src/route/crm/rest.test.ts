import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { VigieError } from '../../core/errors.js';
import type { CrmResult } from './crm.js';
import { RestCrm, type RestCrmConfig } from './rest.js';

// The site's CRM is played by a local HTTP server with its own shapes (nested contact, a `data.customers`
// envelope, `equipment` and `tickets` lists) and its failure modes, chosen per test by `mode`.

const TOKEN = 'secret-token-never-in-messages';
type Mode = 'ok' | 'array' | 'object' | 'empty' | '404' | '500' | 'bad-json' | 'slow' | 'huge' | 'no-name';
let mode: Mode = 'ok';
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
const slowTimers = new Set<NodeJS.Timeout>();
let server: Server;
let base = '';

const RECORD = {
  customerId: 4242,
  fullName: 'Horizon Lounge Services',
  contact: { mobile: '+33 6 12 34 56 90', email: 'exploitation@horizon-lounge.example' },
  locale: 'fr-FR',
  geo: { latitude: '49.0033', longitude: 2.5703 },
  district: 'cdg-t2',
  plan: { tier: 'premium', yearlyValue: 48000 },
  equipment: [
    { sn: 'WM-0042', model: 'Wega Atlas 2GR', tag: 'coffee-lounge-1' },
    { model: 'no serial: left out' },
  ],
  tickets: [
    { openedAt: '2025-03-01T08:00:00Z', subject: 'Descaling', number: 'T-17' },
    { openedAt: 'not a date', subject: 'left out' },
  ],
};

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

before(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { error: 'unauthorized' });
    switch (mode) {
      case 'ok':
        return json(res, 200, { data: { customers: [RECORD, { ...RECORD, customerId: 2 }] }, total: 2 });
      case 'array':
        return json(res, 200, [{ id: 'c1', name: 'Array Customer' }]);
      case 'object':
        return json(res, 200, { id: 'c2', name: 'Object Customer', assets: ['S-1', 'S-2'] });
      case 'empty':
        return json(res, 200, { data: { customers: [] } });
      case '404':
        return json(res, 404, { error: 'no such customer' });
      case '500':
        return json(res, 500, { error: 'database down' });
      case 'bad-json':
        return res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops</html>');
      case 'no-name':
        return json(res, 200, { data: { customers: [{ customerId: 7 }] } });
      case 'huge':
        // No content-length: the limit must hold while reading, not only on the header.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data":{"customers":[],"pad":"');
        for (let i = 0; i < 20; i++) res.write('x'.repeat(100_000));
        return res.end('"}}');
      case 'slow': {
        const t = setTimeout(() => json(res, 200, { data: { customers: [RECORD] } }), 5000);
        slowTimers.add(t);
        return;
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const t of slowTimers) clearTimeout(t);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  mode = 'ok';
  seen.length = 0;
});

function config(over: Partial<RestCrmConfig> = {}): RestCrmConfig {
  return {
    type: 'rest',
    url: `${base}/api/customers?serial={serial}&device={deviceId}&phone={phone}`,
    headers: { Authorization: `Bearer ${TOKEN}` },
    timeout: 2000,
    results: 'data.customers',
    fields: {
      id: 'customerId',
      name: 'fullName',
      phone: 'contact.mobile',
      email: 'contact.email',
      language: 'locale',
      'location.lat': 'geo.latitude',
      'location.lon': 'geo.longitude',
      area: 'district',
      contract: 'plan.tier',
      value: 'plan.yearlyValue',
      assets: 'equipment',
      'assets.serial': 'sn',
      'assets.deviceId': 'tag',
      history: 'tickets',
      'history.at': 'openedAt',
      'history.summary': 'subject',
      'history.ref': 'number',
    },
    ...over,
  };
}

const live = () => new AbortController().signal;
const errorOf = (r: CrmResult) => ('error' in r ? r.error : `no error: ${JSON.stringify(r)}`);

test('rest crm - a mapped record is found, with nested fields and lists, the auth header sent', async () => {
  const r = await new RestCrm(config()).lookup({ serial: 'WM-0042' }, live());
  assert.deepEqual(r, {
    found: true,
    customer: {
      id: '4242',
      name: 'Horizon Lounge Services',
      source: 'rest',
      phone: '+33612345690',
      email: 'exploitation@horizon-lounge.example',
      language: 'fr',
      area: 'cdg-t2',
      contract: 'premium',
      value: 48000,
      location: { lat: 49.0033, lon: 2.5703 },
      assets: [{ serial: 'WM-0042', model: 'Wega Atlas 2GR', deviceId: 'coffee-lounge-1' }],
      history: [{ at: Date.parse('2025-03-01T08:00:00Z'), summary: 'Descaling', ref: 'T-17' }],
    },
  });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(seen[0].headers.accept, 'application/json');
});

test('rest crm - query values are URL-encoded into the template; missing ones are empty', async () => {
  await new RestCrm(config()).lookup({ serial: 'WM 42/&x=1', phone: '+33612345690' }, live());
  const url = new URL(seen[0].url, base);
  assert.equal(url.pathname, '/api/customers');
  assert.equal(url.searchParams.get('serial'), 'WM 42/&x=1');
  assert.equal(url.searchParams.get('x'), null);
  assert.equal(url.searchParams.get('device'), '');
  assert.equal(url.searchParams.get('phone'), '+33612345690');
  assert.match(seen[0].url, /phone=%2B33612345690/);

  const byPath = new RestCrm(config({ url: `${base}/sites/{site}/devices/{deviceId}` }));
  await byPath.lookup({ site: 'air port', deviceId: 'a/b' }, live());
  assert.equal(seen[1].url, '/sites/air%20port/devices/a%2Fb');
  // A query that fills none of the template's placeholders is not sent.
  assert.deepEqual(await byPath.lookup({ serial: 'WM-0042' }, live()), { found: false });
  assert.equal(seen.length, 2);
});

test('rest crm - without `results`, an array answer is the list and an object answer the record', async () => {
  const crm = new RestCrm(config({ results: undefined, fields: {} }));
  mode = 'array';
  assert.deepEqual(await crm.lookup({ serial: 'x' }, live()), {
    found: true,
    customer: { id: 'c1', name: 'Array Customer', source: 'rest' },
  });
  mode = 'object';
  assert.deepEqual(await crm.lookup({ serial: 'x' }, live()), {
    found: true,
    customer: {
      id: 'c2',
      name: 'Object Customer',
      source: 'rest',
      assets: [{ serial: 'S-1' }, { serial: 'S-2' }],
    },
  });
});

test('rest crm - 404 and an empty list are "not found"', async () => {
  const crm = new RestCrm(config());
  for (const m of ['404', 'empty'] as const) {
    mode = m;
    assert.deepEqual(await crm.lookup({ serial: 'nobody' }, live()), { found: false }, m);
  }
});

test('rest crm - failures are errors with a reason, never a throw, never the token', async () => {
  const crm = new RestCrm(config());
  const cases: [Mode | 'bad-token' | 'refused', RegExp][] = [
    ['500', /HTTP 500/],
    ['bad-token', /refused the request \(HTTP 401\)/],
    ['bad-json', /not JSON/],
    ['no-name', /record 7 has no name \(looked at "fullName"\)/],
    ['huge', /larger than 1048576 bytes/],
  ];
  for (const [m, why] of cases) {
    mode = m === 'bad-token' || m === 'refused' ? 'ok' : m;
    const client =
      m === 'bad-token' ? new RestCrm(config({ headers: { Authorization: 'Bearer wrong' } })) : crm;
    const r = await client.lookup({ serial: 'WM-0042' }, live());
    assert.match(errorOf(r), why, m);
    assert.ok(!errorOf(r).includes(TOKEN), m);
  }
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const nowhere = new RestCrm(config({ url: `http://127.0.0.1:${port}/customers/{serial}` }));
  assert.match(errorOf(await nowhere.lookup({ serial: 'x' }, live())), /unreachable \(ECONNREFUSED\)/);
});

test('rest crm - a slow CRM is cut at the timeout; a caller abort ends it as cancelled', async () => {
  mode = 'slow';
  const crm = new RestCrm(config({ timeout: 200 }));
  const t0 = Date.now();
  const r = await crm.lookup({ serial: 'WM-0042' }, live());
  assert.match(errorOf(r), /did not answer within 200 ms/);
  assert.ok(Date.now() - t0 < 2000, 'gave up at the timeout, not at the answer');

  const caller = new AbortController();
  setTimeout(() => caller.abort(), 50);
  assert.match(errorOf(await new RestCrm(config()).lookup({ serial: 'x' }, caller.signal)), /cancelled/);
});

test('rest crm - a configuration that cannot work is refused at start', () => {
  const bad: Partial<RestCrmConfig>[] = [
    { fields: { fullname: 'name' } },
    { fields: { name: ' ' } },
    { url: `${base}/customers/{serial}/{customer}` },
    { url: 'ftp://crm.example/{serial}' },
    { url: 'not a url {serial}' },
  ];
  for (const over of bad) {
    assert.throws(
      () => new RestCrm(config(over)),
      (e: unknown) => e instanceof VigieError && e.code === 'VIGIE_ERR_CONFIG_INVALID',
      JSON.stringify(over),
    );
  }
});
