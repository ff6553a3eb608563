import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import { doorRule, harness, openT, T0, type Harness } from '../route/testing.js';
import type { Channel, Notification, SendResult } from './channel.js';
import { ConsoleChannel } from './channels/console.js';
import { WebhookChannel } from './channels/webhook.js';
import { DeliveryWorker } from './deliveries.js';
import { ServiceMessages } from './service-messages.js';
import { startReceiver, verifySignature, type Receiver } from './testing.js';

const SECRET = 'delivery-test-secret-0123456789';
let h: Harness;
let rx: Receiver | undefined;
afterEach(async () => {
  await rx?.close();
  rx = undefined;
  h?.close();
});

function setup(
  url: string,
  opts: {
    maxAttempts?: number;
    rule?: ReturnType<typeof doorRule>;
    extra?: Channel[];
    concurrency?: number;
  } = {},
) {
  h = harness([opts.rule ?? doorRule()]);
  const metrics = new Registry();
  const channels = new Map<string, Channel>([
    ['console', new ConsoleChannel('console', { logger: memoryLogger() })],
    [
      'ops-webhook',
      new WebhookChannel('ops-webhook', {
        type: 'webhook',
        url,
        secret: SECRET,
        timeout: 2000,
        maxAttempts: opts.maxAttempts ?? 3,
        backoff: 1000,
        maxBackoff: 60_000,
      }),
    ],
  ]);
  for (const c of opts.extra ?? []) channels.set(c.name, c);
  const worker = new DeliveryWorker({
    db: h.db,
    channels,
    clock: h.clock,
    logger: memoryLogger(),
    metrics,
    incidents: h.service,
    random: () => 1,
    concurrency: opts.concurrency,
  });
  return { worker, metrics };
}

const webhookOnly = doorRule({ steps: [{ afterMs: 0, notify: ['person:alice'], via: ['ops-webhook'] }] });

test('deliveries - step 0 reaches every recipient; attempts, latency, timeline and metrics are recorded', async () => {
  rx = await startReceiver([200]);
  const { worker, metrics } = setup(rx.url);
  const [{ incident }] = h.apply([openT(T0)]);
  assert.equal(worker.pump(), 3);
  await worker.idle();
  assert.equal(rx.received.length, 2);
  assert.ok(rx.received.every((r) => verifySignature(SECRET, r)));
  const ds = h.service.deliveries(incident.id);
  for (const d of ds) {
    assert.equal(d.state, 'delivered', `${d.channel} ${d.recipient}`);
    assert.equal(d.attempts, 1);
    assert.equal(d.deliveredAt, T0);
    assert.equal(typeof d.latencyMs, 'number');
  }
  const notes = h.service.timeline(incident.id).filter((e) => e.kind === 'notification');
  assert.equal(notes.length, 3);
  assert.ok(
    notes.every(
      (n) =>
        n.detail.outcome === 'delivered' && n.detail.attempt === 1 && typeof n.detail.latencyMs === 'number',
    ),
  );
  const text = metrics.render();
  assert.match(text, /vigie_notifications_total\{channel="ops-webhook",outcome="delivered"\} 2/);
  assert.match(text, /vigie_notifications_total\{channel="console",outcome="delivered"\} 1/);
  assert.match(text, /vigie_notification_latency_seconds_count 3/);
  assert.equal(worker.nextDue(), undefined);
});

test('deliveries - a 500 is retried after the backoff with the same idempotency key, then delivered', async () => {
  rx = await startReceiver([500, 200]);
  const { worker } = setup(rx.url, { rule: webhookOnly });
  const [{ incident }] = h.apply([openT(T0)]);
  worker.pump();
  await worker.idle();
  let [d] = h.service.deliveries(incident.id);
  assert.equal(d.state, 'pending');
  assert.equal(d.attempts, 1);
  assert.match(d.lastError ?? '', /HTTP 500/);
  assert.equal(d.nextAttemptAt, T0 + 1000);
  assert.equal(worker.nextDue(), T0 + 1000);
  assert.equal(worker.pump(), 0, 'not before the backoff');
  h.clock.advance(1000);
  assert.equal(worker.pump(), 1);
  await worker.idle();
  [d] = h.service.deliveries(incident.id);
  assert.equal(d.state, 'delivered');
  assert.equal(d.attempts, 2);
  assert.equal(rx.received[0].headers['idempotency-key'], d.id);
  assert.equal(rx.received[1].headers['idempotency-key'], d.id);
  const outcomes = h.service
    .timeline(incident.id)
    .filter((e) => e.kind === 'notification')
    .map((e) => e.detail.outcome);
  assert.deepEqual(outcomes, ['retry', 'delivered']);
});

test('deliveries - a retry pending when the incident is acknowledged is cancelled, not sent', async () => {
  rx = await startReceiver([500, 200]);
  const { worker } = setup(rx.url, { rule: webhookOnly });
  const [{ incident }] = h.apply([openT(T0)]);
  worker.pump();
  await worker.idle();
  assert.equal(h.service.deliveries(incident.id)[0].state, 'pending', 'waiting for its retry');
  h.service.acknowledge(incident.id, { id: 'person:sec-amina', via: 'api' });
  h.clock.advance(1000);
  worker.pump();
  await worker.idle();
  const [d] = h.service.deliveries(incident.id);
  assert.equal(d.state, 'cancelled');
  assert.match(d.lastError ?? '', /acknowledged/);
  assert.equal(rx.received.length, 1, 'only the first, failed attempt reached the receiver');
  const outcomes = h.service
    .timeline(incident.id)
    .filter((e) => e.kind === 'notification')
    .map((e) => e.detail.outcome);
  assert.deepEqual(outcomes, ['retry', 'cancelled']);
});

test('deliveries - a 400 fails at once; a lasting 500 fails after maxAttempts', async () => {
  rx = await startReceiver([400]);
  let { worker } = setup(rx.url, { rule: webhookOnly });
  let [{ incident }] = h.apply([openT(T0)]);
  worker.pump();
  await worker.idle();
  let [d] = h.service.deliveries(incident.id);
  assert.equal(d.state, 'failed');
  assert.equal(d.attempts, 1);
  assert.match(d.lastError ?? '', /HTTP 400/);
  h.close();
  await rx.close();

  rx = await startReceiver([500]);
  ({ worker } = setup(rx.url, { rule: webhookOnly, maxAttempts: 3 }));
  [{ incident }] = h.apply([openT(T0)]);
  for (let i = 0; i < 3; i++) {
    h.clock.set(worker.nextDue() ?? h.clock.now());
    assert.equal(worker.pump(), 1);
    await worker.idle();
  }
  [d] = h.service.deliveries(incident.id);
  assert.equal(d.state, 'failed');
  assert.equal(d.attempts, 3);
  assert.equal(rx.received.length, 3);
  // Backoff doubles: 1 s then 2 s (jitter source pinned at its maximum).
  const next = h.service
    .timeline(incident.id)
    .filter((e) => e.kind === 'notification')
    .map((e) => e.detail.nextAttemptAt);
  assert.deepEqual(next, [T0 + 1000, T0 + 3000, undefined]);
});

test('deliveries - a send cut by a crash is sent again at start, with the same idempotency key', async () => {
  rx = await startReceiver([200]);
  const { worker } = setup(rx.url, { rule: webhookOnly });
  const [{ incident }] = h.apply([openT(T0)]);
  const [d0] = h.service.deliveries(incident.id);
  // What a crash between "mark sending" and "record outcome" leaves behind.
  h.db.prepare(`UPDATE deliveries SET state = 'sending', attempts = 1 WHERE id = ?`).run(d0.id);
  assert.equal(worker.pump(), 0);
  assert.equal(worker.recover(), 1);
  assert.equal(worker.pump(), 1);
  await worker.idle();
  const [d] = h.service.deliveries(incident.id);
  assert.equal(d.state, 'delivered');
  assert.equal(d.attempts, 2);
  assert.equal(rx.received[0].headers['idempotency-key'], d0.id);
});

test('deliveries - at most `concurrency` sends in flight; stop puts them back to pending', async () => {
  let inFlight = 0;
  let peak = 0;
  const slow: Channel = {
    name: 'slow',
    type: 'test',
    send(_n: Notification, signal: AbortSignal): Promise<SendResult> {
      inFlight++;
      peak = Math.max(peak, inFlight);
      return new Promise((resolve) =>
        signal.addEventListener('abort', () => {
          inFlight--;
          resolve({ ok: false, retryable: true, error: 'aborted' });
        }),
      );
    },
  };
  const rule = doorRule({
    steps: [{ afterMs: 0, notify: ['team:security', 'team:supervisors'], via: ['slow'] }],
  });
  const { worker } = setup('http://127.0.0.1:9/', { rule, extra: [slow], concurrency: 2 });
  h.apply([openT(T0), openT(T0, 'fridge-1')]);
  assert.equal(worker.pump(), 2);
  assert.equal(worker.pump(), 0);
  assert.equal(worker.nextDue(), undefined, 'full: the next settle pumps again');
  assert.equal(peak, 2);
  await worker.stop();
  const states = h.service.list({}).flatMap((i) => h.service.deliveries(i.id).map((d) => d.state));
  assert.deepEqual(states.sort(), ['pending', 'pending', 'pending', 'pending', 'pending', 'pending']);
});

test('deliveries - a channel that never returns is cut at the send timeout and retried later', async () => {
  const stuck: Channel = {
    name: 'stuck',
    type: 'test',
    send: () => new Promise<SendResult>(() => undefined),
  };
  const rule = doorRule({ steps: [{ afterMs: 0, notify: ['person:carol'], via: ['stuck'] }] });
  h = harness([rule]);
  const worker = new DeliveryWorker({
    db: h.db,
    channels: new Map([['stuck', stuck]]),
    clock: h.clock,
    logger: memoryLogger(),
    metrics: new Registry(),
    incidents: h.service,
    sendTimeoutMs: 50,
    random: () => 1,
  });
  const [{ incident }] = h.apply([openT(T0)]);
  assert.equal(worker.pump(), 1);
  await worker.idle();
  const [d] = h.service.deliveries(incident.id);
  assert.equal(d.state, 'pending');
  assert.equal(d.lastError, 'send timed out');
  assert.equal(d.nextAttemptAt, T0 + 1000);
});

test('deliveries - rate limits hold back pages beyond the limit, never a critical alert', async () => {
  const sent: Notification[] = [];
  const sms: Channel = {
    name: 'sms',
    type: 'sms',
    send: (n) => {
      sent.push(n);
      return Promise.resolve({ ok: true, providerId: `SM${sent.length}` });
    },
  };
  const rule = doorRule({ steps: [{ afterMs: 0, notify: ['person:alice'], via: ['sms'] }] });
  h = harness([rule, { ...rule, id: 'aed', severity: 'critical' }]);
  const worker = new DeliveryWorker({
    db: h.db,
    channels: new Map([['sms', sms]]),
    clock: h.clock,
    logger: memoryLogger(),
    metrics: new Registry(),
    incidents: h.service,
    rate: { perPerson: 2, perSite: 100, window: 600_000 },
  });
  const devices = ['door-g12', 'fridge-1'];
  for (let i = 0; i < 4; i++) {
    h.clock.set(T0 + i * 1000);
    // Alternate devices and clear in between so each opening is a new incident.
    h.apply([openT(T0 + i * 1000, devices[i % 2])]);
    worker.pump();
    await worker.idle();
    h.apply([{ ...openT(T0 + i * 1000 + 500, devices[i % 2]), type: 'clear' }]);
  }
  assert.equal(sent.length, 2, 'two pages to alice within 10 min, then held back');
  const states = h.service.list({}).flatMap((i) => h.service.deliveries(i.id).map((d) => d.state));
  assert.equal(states.filter((s) => s === 'suppressed').length, 2);
  const suppressed = h.service
    .list({})
    .flatMap((i) => h.service.deliveries(i.id))
    .find((d) => d.state === 'suppressed');
  assert.match(suppressed?.lastError ?? '', /person:alice already got 2 alerts within 10 min/);
  // A critical alert goes through whatever the count.
  h.clock.set(T0 + 10_000);
  h.apply([{ ...openT(T0 + 10_000, 'door-g12', 'aed'), severity: 'critical' }]);
  worker.pump();
  await worker.idle();
  assert.equal(sent.length, 3);
});

test('deliveries - a service message (job offer, customer update) goes out after the incident is resolved, with its own text', async () => {
  const sent: Notification[] = [];
  const customerChannel: Channel = {
    name: 'sms',
    type: 'sms',
    send: async (n) => {
      sent.push(n);
      return { ok: true, providerId: 'SM1' };
    },
  };
  rx = await startReceiver([200]);
  let failovers = 0;
  h = harness([webhookOnly]);
  const worker = new DeliveryWorker({
    db: h.db,
    channels: new Map([['sms', customerChannel]]),
    clock: h.clock,
    logger: memoryLogger(),
    metrics: new Registry(),
    incidents: h.service,
    onFailed: () => failovers++,
  });
  const [{ incident }] = h.apply([openT(T0)]);
  h.service.resolve(incident.id, { id: 'technician:hugo', via: 'link' });
  const messages = new ServiceMessages(h.db);
  const id = h.db.transaction(() =>
    messages.enqueue(
      {
        incidentId: incident.id,
        channel: 'sms',
        recipient: {
          kind: 'customer',
          id: 'cust-1',
          name: 'Lounge Air',
          phone: '+33612345690',
          language: 'fr',
        },
        message: 'Comment était notre intervention ? https://gw/s/abc',
        language: 'fr',
        tag: 'survey',
      },
      T0,
    ),
  )();
  worker.pump();
  await worker.idle();
  assert.equal(sent.length, 1, 'sent although the incident is resolved');
  assert.equal(sent[0].message, 'Comment était notre intervention ? https://gw/s/abc');
  assert.equal(sent[0].recipient.kind, 'customer');
  const d = h.service.deliveries(incident.id).find((x) => x.id === id)!;
  assert.equal(d.state, 'delivered');
  assert.equal(d.recipient, 'customer:cust-1');

  // A service message that fails for good does not walk a person's channel preferences (the
  // alert's own delivery, on a channel this worker lacks, did: that is the baseline).
  assert.equal(failovers, 1);
  failovers = 0;
  const broken: Channel = {
    name: 'sms',
    type: 'sms',
    send: async () => ({ ok: false, retryable: false, error: '21211 invalid To' }),
  };
  const worker2 = new DeliveryWorker({
    db: h.db,
    channels: new Map([['sms', broken]]),
    clock: h.clock,
    logger: memoryLogger(),
    metrics: new Registry(),
    incidents: h.service,
    onFailed: () => failovers++,
  });
  const id2 = h.db.transaction(() =>
    messages.enqueue(
      {
        incidentId: incident.id,
        channel: 'sms',
        recipient: { kind: 'customer', id: 'cust-1', name: 'Lounge Air', phone: '+1' },
        message: 'x',
        language: 'en',
        tag: 'customer-eta',
      },
      T0,
    ),
  )();
  worker2.pump();
  await worker2.idle();
  assert.equal(h.service.deliveries(incident.id).find((x) => x.id === id2)!.state, 'failed');
  assert.equal(failovers, 0);
});
