import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { memoryLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import { doorRule, harness, openT, T0, type Harness } from '../route/testing.js';
import type { Site } from '../site/model.js';
import type { Channel } from './channel.js';
import { plainCompose } from './composer.js';
import { DeliveryStore } from './delivery-store.js';
import { Failover } from './failover.js';
import { failoverChannel } from '../route/policy.js';
import { Responder } from './responder.js';

// Replies, key presses and provider status callbacks against the real incident service and store.

let h: Harness;
afterEach(() => h?.close());

const RULE = doorRule({
  steps: [
    { afterMs: 0, notify: ['person:alice'], via: ['sms'] },
    { afterMs: 300_000, notify: ['person:carol'], via: ['voice'] },
  ],
});

function setup(): { r: Responder; store: DeliveryStore; kicks: number[] } {
  h = harness([RULE]);
  // The incident service reads the same site object: alice reads French and prefers sms, voice, e-mail.
  const site = h.site as { -readonly [K in keyof Site]: Site[K] };
  site.people = site.people.map((p) =>
    p.id === 'alice' ? { ...p, language: 'fr', channels: { default: ['sms', 'voice', 'email'] } } : p,
  );
  const channel = (name: string, maxAttempts: number): Channel => ({
    name,
    type: name,
    retry: { maxAttempts, backoffMs: 60_000, maxBackoffMs: 60_000 },
    send: () => Promise.resolve({ ok: true }),
  });
  const kicks: number[] = [];
  const r = new Responder({
    db: h.db,
    incidents: h.service,
    site,
    clock: h.clock,
    logger: memoryLogger(),
    metrics: new Registry(),
    compose: plainCompose,
    channels: new Map([
      ['sms', channel('sms', 3)],
      ['voice', channel('voice', 2)],
    ]),
    failover: new Failover({
      db: h.db,
      logger: memoryLogger(),
      next: (id, severity, tried) => {
        const p = site.people.find((x) => x.id === id);
        return p && failoverChannel(p, severity, tried);
      },
    }),
    kick: () => kicks.push(h.clock.now()),
  });
  return { r, store: new DeliveryStore(h.db), kicks };
}

/** Marks the incident's deliveries as handed to the provider, as the worker does. */
function markSent(store: DeliveryStore, incidentId: string, channel: string, providerId: string): string {
  const d = h.service.deliveries(incidentId).find((x) => x.channel === channel && x.state === 'pending');
  assert.ok(d, `a pending ${channel} delivery`);
  store.claim(d.id, h.clock.now());
  store.delivered(d.id, h.clock.now(), 10, { state: 'sent', providerId });
  return d.id;
}

test('an SMS reply "1" acknowledges the alert the person just got and stops escalation', () => {
  const { r, store } = setup();
  const [{ incident }] = h.apply([openT(T0)]);
  markSent(store, incident.id, 'sms', 'SM1');
  const res = r.inboundText({ from: '+33600000001', text: 'ok', via: 'sms', providerId: 'SMin1' });
  assert.equal(res.outcome, 'acknowledged');
  assert.equal(res.incidentId, incident.id);
  // Alice reads French; the reply names the device and the code.
  assert.match(res.reply, /acquitté/);
  assert.ok(incident.ackCode && res.reply.includes(incident.ackCode));
  const after = h.service.get(incident.id)!;
  assert.equal(after.state, 'acknowledged');
  assert.equal(after.acknowledgedBy, 'person:alice');
  assert.equal(h.service.nextEscalationDue(), undefined, 'the supervisor is no longer going to be called');
  const again = r.inboundText({ from: '+33600000001', text: '1', via: 'sms' });
  assert.equal(again.outcome, 'already');
});

test('"ACK <code>" acknowledges that incident, not the latest one', () => {
  const { r, store } = setup();
  const [{ incident: first }] = h.apply([openT(T0)]);
  const [{ incident: second }] = h.apply([openT(T0 + 1000, 'fridge-1')]);
  markSent(store, first.id, 'sms', 'SM1');
  h.clock.advance(1000);
  markSent(store, second.id, 'sms', 'SM2');
  const res = r.inboundText({ from: '+33 6 00 00 00 01', text: `ACK ${first.ackCode}`, via: 'modem' });
  assert.equal(res.incidentId, first.id);
  assert.equal(h.service.get(first.id)!.state, 'acknowledged');
  assert.equal(h.service.get(second.id)!.state, 'open');
  assert.match(res.reply, new RegExp(`ACK ${second.ackCode}`), 'the reply lists what is still open');
  assert.equal(h.service.timeline(first.id).find((e) => e.kind === 'acknowledged')?.detail.via, 'modem');
});

test('strangers and gibberish change nothing', () => {
  const { r, store } = setup();
  const [{ incident }] = h.apply([openT(T0)]);
  markSent(store, incident.id, 'sms', 'SM1');
  assert.deepEqual(r.inboundText({ from: '+15550000000', text: '1', via: 'sms' }), {
    outcome: 'unknown-sender',
    reply: '',
  });
  assert.equal(
    r.inboundText({ from: '+33600000001', text: 'who is this', via: 'sms' }).outcome,
    'not-understood',
  );
  assert.equal(r.inboundText({ from: '+33600000001', text: 'ACK 0000', via: 'sms' }).outcome, 'no-incident');
  assert.equal(h.service.get(incident.id)!.state, 'open');
});

test("an undelivered SMS fails over to the person's next channel at once", () => {
  const { r, store } = setup();
  const [{ incident }] = h.apply([openT(T0)]);
  const id = markSent(store, incident.id, 'sms', 'SM1');
  r.providerStatus({ deliveryId: id, providerId: 'SM1', status: 'sent' });
  assert.equal(h.service.deliveries(incident.id).find((d) => d.id === id)?.state, 'sent');
  r.providerStatus({ deliveryId: id, providerId: 'SM1', status: 'undelivered', errorCode: '30003' });
  const ds = h.service.deliveries(incident.id);
  assert.equal(ds.find((d) => d.id === id)?.state, 'failed');
  assert.match(ds.find((d) => d.id === id)?.lastError ?? '', /undelivered \(error 30003\)/);
  const next = ds.find((d) => d.failoverOf === id);
  assert.equal(next?.channel, 'voice', 'alice prefers sms, then voice');
  assert.equal(next?.state, 'pending');
});

test('an unanswered call is retried, then fails over; a late status of an old call is ignored', () => {
  const { r, store } = setup();
  const [{ incident }] = h.apply([openT(T0)]);
  const sms = markSent(store, incident.id, 'sms', 'SM1');
  r.providerStatus({ deliveryId: sms, providerId: 'SM1', status: 'failed' });
  const voice = h.service.deliveries(incident.id).find((d) => d.failoverOf === sms)!;
  store.claim(voice.id, h.clock.now());
  store.delivered(voice.id, h.clock.now(), 5, { state: 'sent', providerId: 'CA1' });
  r.providerStatus({ deliveryId: voice.id, providerId: 'CA1', status: 'no-answer' });
  let v = h.service.deliveries(incident.id).find((d) => d.id === voice.id)!;
  assert.equal(v.state, 'pending', 'one more call (maxAttempts 2)');
  assert.ok(
    v.nextAttemptAt > h.clock.now() && v.nextAttemptAt <= h.clock.now() + 60_000,
    'after the backoff',
  );
  store.claim(voice.id, h.clock.now());
  store.delivered(voice.id, h.clock.now(), 5, { state: 'sent', providerId: 'CA2' });
  r.providerStatus({ deliveryId: voice.id, providerId: 'CA1', status: 'completed' });
  assert.equal(h.service.deliveries(incident.id).find((d) => d.id === voice.id)!.state, 'sent');
  r.providerStatus({ deliveryId: voice.id, providerId: 'CA2', status: 'busy' });
  v = h.service.deliveries(incident.id).find((d) => d.id === voice.id)!;
  assert.equal(v.state, 'failed');
  // Next in alice's list: email.
  assert.equal(h.service.deliveries(incident.id).find((d) => d.failoverOf === voice.id)?.channel, 'email');
});

test('an answered call counts as delivered; a voicemail does not', () => {
  const { r, store } = setup();
  const [{ incident }] = h.apply([openT(T0)]);
  const id = markSent(store, incident.id, 'sms', 'CA9');
  r.providerStatus({ deliveryId: id, providerId: 'CA9', status: 'in-progress', answeredBy: 'machine_start' });
  assert.equal(h.service.deliveries(incident.id).find((d) => d.id === id)!.state, 'pending');
  store.claim(id, h.clock.now());
  store.delivered(id, h.clock.now(), 5, { state: 'sent', providerId: 'CA10' });
  h.clock.advance(2000);
  r.providerStatus({ deliveryId: id, providerId: 'CA10', status: 'in-progress', answeredBy: 'human' });
  const d = h.service.deliveries(incident.id).find((x) => x.id === id)!;
  assert.equal(d.state, 'delivered');
  assert.equal(d.providerStatus, 'in-progress');
});

test('keypad: 1 acknowledges, 2 escalates now, 3 repeats, 4 bridges to the speaker', () => {
  const { r, store, kicks } = setup();
  const [{ incident }] = h.apply([openT(T0)]);
  const id = markSent(store, incident.id, 'sms', 'CA1');
  assert.equal(r.keypad(id, '3').outcome, 'repeat');
  const speaker = r.keypad(id, '4');
  assert.equal(speaker.outcome, 'speaker');
  assert.equal(speaker.sip, 'sip:spk-g12@pbx');
  assert.equal(r.keypad(id, '9').outcome, 'not-understood');
  h.clock.advance(1000);
  assert.equal(r.keypad(id, '2').outcome, 'escalated');
  assert.equal(h.service.nextEscalationDue(), h.clock.now(), 'the next step is due now, not in 5 min');
  assert.ok(kicks.length > 0);
  const ack = r.keypad(id, '1');
  assert.equal(ack.outcome, 'acknowledged');
  assert.match(ack.say, /acquittée/);
  assert.equal(h.service.get(incident.id)!.acknowledgedBy, 'person:alice');
  assert.equal(r.keypad(id, '1').outcome, 'gone');
  assert.equal(r.keypad('dlv_nope', '1').outcome, 'gone');
});

test("the call script is the alert in the person's language, with the speaker when there is one", () => {
  const { r, store } = setup();
  const [{ incident }] = h.apply([openT(T0)]);
  const id = markSent(store, incident.id, 'sms', 'CA1');
  const s = r.callScript(id);
  assert.equal(s?.text, incident.message);
  assert.equal(s?.sip, 'sip:spk-g12@pbx');
  assert.equal(r.callScript('dlv_forged'), undefined);
});
