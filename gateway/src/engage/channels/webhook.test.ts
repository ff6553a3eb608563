import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Incident } from '../../route/model.js';
import type { Notification } from '../channel.js';
import { startReceiver, verifySignature, type Receiver } from '../testing.js';
import { WebhookChannel } from './webhook.js';

const SECRET = 'a-webhook-secret-of-32-characters';

const incident: Incident = {
  id: 'inc_0000000001abcdef',
  site: 'cdg-t2',
  ruleId: 'door-held-open',
  ruleName: 'Door held open',
  deviceId: 'door-g12',
  deviceName: 'Door G12',
  zone: 'T2-gates',
  severity: 'major',
  state: 'open',
  reason: 'open for 30s',
  message: 'Door G12 held open',
  triggerTs: 1000,
  openedAt: 1005,
  escalationStep: 0,
  values: { open: true },
  context: {
    camera: { stream: 'rtsp://cam/1' },
    speaker: { sip: 'sip:spk@pbx' },
    location: { lat: 1, lon: 2 },
  },
  updatedAt: 1005,
};

const note = (over: Partial<Notification> = {}): Notification => ({
  deliveryId: 'dlv_test1',
  incident,
  recipient: { kind: 'person', id: 'alice', name: 'Alice', phone: '+33600000001' },
  step: 0,
  attempt: 1,
  message: incident.message,
  language: 'en',
  claimedAt: 0,
  ...over,
});

const channel = (url: string, timeout = 2000) =>
  new WebhookChannel('ops-webhook', {
    type: 'webhook',
    url,
    secret: SECRET,
    timeout,
    maxAttempts: 3,
    backoff: 10,
    maxBackoff: 100,
  });

let rx: Receiver;
before(async () => {
  rx = await startReceiver();
});
after(() => rx.close());

test('webhook - posts a signed JSON body with the delivery id as idempotency key', async () => {
  rx.script = [200];
  const before = rx.received.length;
  const res = await channel(rx.url).send(note(), new AbortController().signal);
  assert.deepEqual(res, { ok: true, providerId: undefined });
  const req = rx.received[before];
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['idempotency-key'], 'dlv_test1');
  assert.ok(verifySignature(SECRET, req), 'signature verifies with the channel secret');
  assert.ok(!verifySignature('another-secret-of-enough-length', req));
  assert.equal(req.json.deliveryId, 'dlv_test1');
  assert.equal(req.json.message, 'Door G12 held open');
  assert.deepEqual(req.json.recipient, { kind: 'person', id: 'alice', name: 'Alice', phone: '+33600000001' });
  assert.deepEqual(req.json.links, { cameraStream: 'rtsp://cam/1', speakerSip: 'sip:spk@pbx' });
  const inc = req.json.incident as Record<string, unknown>;
  assert.equal(inc.id, incident.id);
  assert.equal(inc.rule, 'door-held-open');
  assert.equal(inc.device, 'door-g12');
  assert.equal(inc.severity, 'major');
  assert.equal(inc.state, 'open');
});

test("webhook - the person's own webhook wins over the channel url", async () => {
  rx.script = [200];
  const before = rx.received.length;
  const res = await channel('http://127.0.0.1:9/unused').send(
    note({ recipient: { kind: 'person', id: 'bob', name: 'Bob', webhook: rx.url } }),
    new AbortController().signal,
  );
  assert.equal(res.ok, true);
  assert.equal(rx.received.length, before + 1);
  assert.equal('webhook' in (rx.received[before].json.recipient as object), false);
});

const outcomes: [string, number, boolean][] = [
  ['400 is permanent', 400, false],
  ['404 is permanent', 404, false],
  ['408 is retried', 408, true],
  ['429 is retried', 429, true],
  ['500 is retried', 500, true],
  ['503 is retried', 503, true],
];
for (const [name, status, retryable] of outcomes) {
  test(`webhook - ${name}`, async () => {
    rx.script = [status];
    const res = await channel(rx.url).send(note(), new AbortController().signal);
    assert.equal(res.ok, false);
    if (!res.ok) {
      assert.equal(res.retryable, retryable);
      assert.match(res.error, new RegExp(`HTTP ${status}`));
    }
  });
}

test('webhook - a receiver that never answers times out, retryably', async () => {
  rx.script = ['hang'];
  const t0 = Date.now();
  const res = await channel(rx.url, 200).send(note(), new AbortController().signal);
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(res, { ok: false, retryable: true, error: 'timeout after 200 ms' });
});

test('webhook - a refused connection is retryable', async () => {
  const res = await channel('http://127.0.0.1:9/closed').send(note(), new AbortController().signal);
  assert.equal(res.ok, false);
  if (!res.ok) assert.equal(res.retryable, true);
});
