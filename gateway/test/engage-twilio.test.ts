import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TokenAuth } from '../src/api/auth.js';
import type { ApiPorts } from '../src/api/ports.js';
import { createApiServer, type ApiServer } from '../src/api/server.js';
import type { SmsChannelConfig, VoiceChannelConfig } from '../src/config/schema.js';
import { memoryLogger } from '../src/core/log.js';
import type {
  CallScript,
  EngageActions,
  InboundText,
  KeypadResult,
  ProviderStatus,
  ReplyResult,
} from '../src/engage/actions.js';
import type { Channel, Notification, SendResult } from '../src/engage/channel.js';
import { SmsChannel } from '../src/engage/channels/sms.js';
import { VoiceChannel } from '../src/engage/channels/voice.js';
import { registerTwilioHooks } from '../src/engage/twilio/webhooks.js';
import { phrases } from '../src/engage/voice/phrases.js';
import { PromptStore } from '../src/engage/voice/prompts.js';
import { incident } from './api-fixture.js';
import { FakeTwilio } from './support/fake-twilio.js';

// The sms and voice channels and the provider webhooks together, against the fake Twilio: a call
// is placed, Twilio fetches the menu, plays generated prompts, and a key reaches the actions.

class Actions implements EngageActions {
  readonly texts: InboundText[] = [];
  readonly keys: [string, string][] = [];
  readonly statuses: ProviderStatus[] = [];
  readonly scripts = new Map<string, CallScript>();
  inboundText(m: InboundText): ReplyResult {
    this.texts.push(m);
    return { outcome: 'acknowledged', reply: 'Acknowledged: door G12.' };
  }
  keypad(deliveryId: string, digits: string): KeypadResult {
    this.keys.push([deliveryId, digits]);
    const p = phrases(this.scripts.get(deliveryId)?.language ?? 'en');
    if (digits === '1') return { outcome: 'acknowledged', say: p.acknowledged };
    if (digits === '3') return { outcome: 'repeat', say: '' };
    return { outcome: 'not-understood', say: p.notUnderstood };
  }
  callScript(deliveryId: string): CallScript | undefined {
    return this.scripts.get(deliveryId);
  }
  providerStatus(s: ProviderStatus): void {
    this.statuses.push(s);
  }
}

let fake: FakeTwilio;
let api: ApiServer;
let publicUrl = '';
let dir: string;
let prompts: PromptStore;
const actions = new Actions();
const logger = memoryLogger();

before(async () => {
  fake = await FakeTwilio.start();
  api = createApiServer({
    ports: {} as ApiPorts,
    auth: new TokenAuth({ adminToken: 'admin-token-0123456789', tokens: [] }),
    logger,
  });
  publicUrl = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
  dir = await mkdtemp(join(tmpdir(), 'vigie-engage-twilio-'));
  prompts = new PromptStore({
    dir,
    espeak: 'espeak-ng',
    urlTtl: 15 * 60_000,
    voices: { en: 'en-gb', fr: 'fr-fr' },
    publicUrl,
    secret: 'prompt-secret-0123456789',
  });
  registerTwilioHooks(api.router, {
    actions,
    publicUrl,
    accounts: [{ accountSid: fake.accountSid, authToken: fake.authToken }],
    prompts,
    logger,
  });
});
after(async () => {
  await fake.close();
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

const voiceCfg = (over: Partial<VoiceChannelConfig> = {}): VoiceChannelConfig => ({
  type: 'voice',
  baseUrl: fake.baseUrl,
  accountSid: fake.accountSid,
  authToken: fake.authToken,
  from: '+33700000000',
  ringTimeout: 30_000,
  machineDetection: true,
  timeout: 2000,
  maxAttempts: 2,
  backoff: 60_000,
  maxBackoff: 600_000,
  ...over,
});

const smsCfg = (over: Partial<SmsChannelConfig> = {}): SmsChannelConfig => ({
  type: 'sms',
  baseUrl: fake.baseUrl,
  accountSid: fake.accountSid,
  authToken: fake.authToken,
  from: '+33700000000',
  timeout: 2000,
  maxAttempts: 3,
  backoff: 1000,
  maxBackoff: 10_000,
  ...over,
});

let seq = 0;
function note(message: string, over: Partial<Notification> = {}): Notification {
  seq++;
  return {
    deliveryId: `dlv_tw${seq}`,
    incident: incident(`inc_tw${seq}`),
    recipient: { kind: 'person', id: 'amina', name: 'Amina', phone: '+33612345601' },
    step: 0,
    attempt: 1,
    message,
    language: 'en',
    claimedAt: Date.now(),
    ...over,
  };
}

const never = new AbortController().signal;

describe('engage twilio - voice', () => {
  it('places the call Twilio expects, plays generated prompts, and key 1 reaches the actions', async () => {
    const voice = new VoiceChannel('voice', voiceCfg(), { logger, publicUrl, prompts });
    const n = note('Door G12 held open for more than 30 seconds.');
    actions.scripts.set(n.deliveryId, { language: 'en', text: n.message });
    const r = await voice.send(n, never);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(r.ok && r.awaitingStatus);
    const sid = r.ok ? (r.providerId ?? '') : '';
    assert.match(sid, /^CA/);
    const call = fake.call(sid);
    assert.ok(call);
    assert.equal(call.params.get('Url'), `${publicUrl}/hooks/twilio/voice/${n.deliveryId}`);
    assert.equal(call.params.get('StatusCallback'), `${publicUrl}/hooks/twilio/status/${n.deliveryId}`);
    assert.deepEqual(call.params.getAll('StatusCallbackEvent'), [
      'initiated',
      'ringing',
      'answered',
      'completed',
    ]);
    assert.equal(call.params.get('Timeout'), '30');
    assert.equal(call.params.get('MachineDetection'), 'Enable');

    await fake.waitFor(() => call.gather, 'the menu');
    assert.deepEqual(call.errors, []);
    assert.deepEqual(
      call.heard.map((h) => h.verb),
      ['Play', 'Play', 'Play'],
      'intro, alert and menu are generated prompts',
    );
    assert.equal(call.prompts.length, 3);
    for (const p of call.prompts) {
      assert.equal(p.status, 200);
      assert.equal(p.contentType, 'audio/wav');
      assert.ok(p.bytes > 1000);
    }
    const answer = await fake.press(sid, '1');
    assert.match(answer, /<Say language="en-GB">Acknowledged\. Thank you\.<\/Say><Hangup\/>/);
    assert.deepEqual(actions.keys.at(-1), [n.deliveryId, '1']);
    assert.equal(call.status, 'completed');

    assert.equal(await fake.status(sid, 'completed', { CallDuration: '21' }), 204);
    assert.deepEqual(actions.statuses.at(-1), {
      deliveryId: n.deliveryId,
      providerId: sid,
      status: 'completed',
    });
  });

  it('with no key pressed, plays the alert three times in all, then hangs up', async () => {
    const voice = new VoiceChannel('voice', voiceCfg({ machineDetection: false }), {
      logger,
      publicUrl,
      prompts,
    });
    const n = note('Smoke detected in zone B.');
    actions.scripts.set(n.deliveryId, { language: 'fr', text: 'Fumée détectée en zone B.' });
    const r = await voice.send(n, never);
    const sid = r.ok ? (r.providerId ?? '') : '';
    const call = fake.call(sid);
    assert.ok(call);
    assert.equal(call.params.get('MachineDetection'), null);
    for (let i = 0; i < 3; i++) {
      await fake.waitFor(() => call.gather, `menu ${i + 1}`);
      await fake.noInput(sid);
    }
    assert.equal(call.documents.length, 3);
    assert.equal(call.status, 'completed');
    assert.deepEqual(call.errors, []);
  });

  it('after a lost answer, reconcile finds the call Twilio placed', async () => {
    const voice = new VoiceChannel('voice', voiceCfg({ timeout: 300 }), { logger, publicUrl, prompts });
    const n = note('Water leak in the plant room.');
    actions.scripts.set(n.deliveryId, { language: 'en', text: n.message });
    await fake.fault('Calls', 'hang');
    const lost = await voice.send(n, never);
    assert.equal(!lost.ok && lost.retryable, true);
    await fake.fault('Calls', 'ok');
    const placed = fake.calls.at(-1);
    assert.deepEqual(await voice.reconcile(n, never), { found: true, providerId: placed?.sid });
    const other = { ...n, recipient: { ...n.recipient, phone: '+33699999999' } };
    assert.deepEqual(await voice.reconcile(other, never), { found: false });
    assert.deepEqual(await voice.reconcile({ ...n, claimedAt: Date.now() + 60_000 }, never), {
      found: false,
    });
    await fake.fault('Calls', '500');
    assert.ok('unknown' in (await voice.reconcile(n, never)));
    await fake.fault('Calls', 'ok');
  });

  it('refuses to call without a public URL or a phone number, and reports API refusals as final', async () => {
    const n = note('Door open.');
    const noUrl = await new VoiceChannel('voice', voiceCfg(), { logger }).send(n, never);
    assert.deepEqual(noUrl, { ok: false, retryable: false, error: 'voice needs http.publicUrl' });
    const voice = new VoiceChannel('voice', voiceCfg(), { logger, publicUrl });
    const noPhone = await voice.send({ ...n, recipient: { ...n.recipient, phone: undefined } }, never);
    assert.equal(!noPhone.ok && noPhone.retryable, false);
    const creds = await new VoiceChannel('voice', voiceCfg({ authToken: 'wrong' }), {
      logger,
      publicUrl,
    }).send(n, never);
    assert.equal(!creds.ok && creds.retryable, false);
    assert.match(!creds.ok ? creds.error : '', /HTTP 401 \(code 20003\)/);
  });
});

class FakeModem implements Channel {
  readonly type = 'modem';
  readonly name = 'gsm';
  readonly sent: Notification[] = [];
  send(n: Notification): Promise<SendResult> {
    this.sent.push(n);
    return Promise.resolve({ ok: true, providerId: 'modem-1' });
  }
}

describe('engage twilio - sms', () => {
  it('the provider reports delivery on the status callback; a reply comes back through the webhook', async () => {
    const sms = new SmsChannel('sms', smsCfg(), { logger, publicUrl });
    const n = note('Door G12 held open.');
    const r = await sms.send(n, never);
    assert.ok(r.ok && r.awaitingStatus);
    const sid = r.ok ? (r.providerId ?? '') : '';
    assert.equal(fake.message(sid)?.statusCallback, `${publicUrl}/hooks/twilio/status/${n.deliveryId}`);
    assert.equal(await fake.status(sid, 'delivered'), 204);
    assert.deepEqual(actions.statuses.at(-1), {
      deliveryId: n.deliveryId,
      providerId: sid,
      status: 'delivered',
    });
    await fake.waitFor(() => fake.message(sid)?.dateSent, 'the message to be sent');
    assert.deepEqual(await sms.reconcile(n, never), { found: true, providerId: sid });

    const reply = await fake.inboundSms(`${publicUrl}/hooks/twilio/sms`, '+33612345601', 'ACK');
    assert.equal(reply.status, 200);
    assert.equal(reply.reply, 'Acknowledged: door G12.');
    assert.equal(actions.texts.at(-1)?.text, 'ACK');
  });

  it('with the API down, the message goes out through the fallback modem in the same attempt', async () => {
    const modem = new FakeModem();
    const sms = new SmsChannel('sms', smsCfg({ fallback: 'gsm' }), {
      logger,
      publicUrl,
      channel: (name) => (name === 'gsm' ? modem : undefined),
    });
    await fake.fault('Messages', 'down');
    try {
      const r = await sms.send(note('Door G12 held open.'), never);
      assert.deepEqual(r, { ok: true, providerId: 'modem-1', via: 'gsm' });
      assert.equal(modem.sent.length, 1);
    } finally {
      await fake.fault('Messages', 'ok');
    }
  });
});
