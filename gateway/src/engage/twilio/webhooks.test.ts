import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import twilio from 'twilio';
import { TokenAuth } from '../../api/auth.js';
import { openApiDocument } from '../../api/openapi.js';
import type { ApiPorts } from '../../api/ports.js';
import { Router } from '../../api/router.js';
import { createApiServer, type ApiServer } from '../../api/server.js';
import { ManualClock } from '../../core/clock.js';
import { memoryLogger } from '../../core/log.js';
import { Registry } from '../../core/metrics.js';
import type {
  CallScript,
  EngageActions,
  InboundText,
  KeypadResult,
  ProviderStatus,
  ReplyResult,
} from '../actions.js';
import { PromptStore } from '../voice/prompts.js';
import { findAll, readTwiml, textOf, type XmlElement } from './twiml-read.js';
import { registerTwilioHooks, type TwilioHookDeps } from './webhooks.js';

// The routes run inside the real API server; requests are signed with Twilio's own library, for a
// public URL that is not the address the server listens on (as behind a reverse proxy).

const PUBLIC = 'https://gw.example.com';
const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'auth-token-of-the-test-account';

class FakeActions implements EngageActions {
  readonly texts: InboundText[] = [];
  readonly keys: [string, string][] = [];
  readonly statuses: ProviderStatus[] = [];
  scripts = new Map<string, CallScript>();
  reply: ReplyResult = { outcome: 'acknowledged', incidentId: 'inc_1', reply: 'Acknowledged: door G12.' };
  keypadResult: KeypadResult = { outcome: 'acknowledged', say: 'Acknowledged. Thank you.' };
  inboundText(m: InboundText): ReplyResult {
    this.texts.push(m);
    return this.reply;
  }
  keypad(deliveryId: string, digits: string): KeypadResult {
    this.keys.push([deliveryId, digits]);
    return this.keypadResult;
  }
  callScript(deliveryId: string): CallScript | undefined {
    return this.scripts.get(deliveryId);
  }
  providerStatus(s: ProviderStatus): void {
    this.statuses.push(s);
  }
}

interface Gw {
  api: ApiServer;
  base: string;
  actions: FakeActions;
  metrics: Registry;
  logLines: string[];
}

const clock = new ManualClock(1_700_000_000_000);
let dir: string;
let gw: Gw;
let plain: Gw;

async function start(over: Partial<TwilioHookDeps> = {}): Promise<Gw> {
  const logger = memoryLogger();
  const api = createApiServer({
    ports: {} as ApiPorts,
    auth: new TokenAuth({ adminToken: 'admin-token-0123456789', tokens: [] }),
    logger,
  });
  const actions = new FakeActions();
  const metrics = new Registry();
  registerTwilioHooks(api.router, {
    actions,
    publicUrl: PUBLIC + '/',
    accounts: [
      { accountSid: 'AC-other', authToken: 'other-token' },
      { accountSid: SID, authToken: TOKEN },
    ],
    metrics,
    logger,
    clock,
    ...over,
  });
  const port = await api.listen(0, '127.0.0.1');
  return { api, base: `http://127.0.0.1:${port}`, actions, metrics, logLines: logger.lines };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigie-hooks-'));
  const prompts = new PromptStore({
    dir,
    espeak: 'espeak-ng',
    urlTtl: 15 * 60_000,
    voices: { en: 'en-gb', fr: 'fr-fr' },
    publicUrl: PUBLIC,
    secret: 'prompt-secret',
  });
  gw = await start({ prompts });
  plain = await start();
});
after(async () => {
  await gw.api.close();
  await plain.api.close();
  await rm(dir, { recursive: true, force: true });
});

interface PostOptions {
  /** Params the signature is computed over, when they differ from those sent. */
  signParams?: Record<string, string>;
  signUrl?: string;
  token?: string;
  signature?: string | null;
}

async function post(g: Gw, path: string, params: Record<string, string>, o: PostOptions = {}) {
  const all = { AccountSid: SID, ...params };
  const sig =
    o.signature === undefined
      ? twilio.getExpectedTwilioSignature(
          o.token ?? TOKEN,
          o.signUrl ?? PUBLIC + path,
          o.signParams ? { AccountSid: SID, ...o.signParams } : all,
        )
      : o.signature;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (sig !== null) headers['x-twilio-signature'] = sig;
  const res = await fetch(g.base + path, { method: 'POST', headers, body: new URLSearchParams(all) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

const rejected = (g: Gw, reason: string) =>
  g.metrics.counter('vigie_webhook_rejected_total', '').get({ reason });

const sms = { From: '+33612345601', To: '+33700000000', Body: 'ACK', MessageSid: 'SM' + 'a'.repeat(32) };

test('hooks - an inbound SMS signed by the provider reaches the actions; the reply is a TwiML Message', async () => {
  const r = await post(gw, '/hooks/twilio/sms', sms);
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/xml/);
  const doc = readTwiml(r.text, 'messaging');
  assert.equal(textOf(findAll(doc, 'Message')[0]), 'Acknowledged: door G12.');
  assert.deepEqual(gw.actions.texts.at(-1), {
    from: '+33612345601',
    text: 'ACK',
    via: 'sms',
    providerId: sms.MessageSid,
  });
});

test('hooks - a forged or altered request is refused with 403, counted and logged', async () => {
  const before = gw.actions.texts.length;
  const tampered = await post(gw, '/hooks/twilio/sms', { ...sms, Body: 'ACK 2' }, { signParams: sms });
  assert.equal(tampered.status, 403);
  assert.equal(rejected(gw, 'bad-signature'), 1);
  const wrongUrl = await post(gw, '/hooks/twilio/sms', sms, {
    signUrl: 'https://evil.example/hooks/twilio/sms',
  });
  assert.equal(wrongUrl.status, 403);
  const wrongToken = await post(gw, '/hooks/twilio/sms', sms, { token: 'other-token' });
  assert.equal(wrongToken.status, 403);
  assert.equal(rejected(gw, 'bad-signature'), 3);
  assert.equal((await post(gw, '/hooks/twilio/sms', sms, { signature: null })).status, 403);
  assert.equal(rejected(gw, 'missing-signature'), 1);
  const stranger = await post(gw, '/hooks/twilio/sms', { ...sms, AccountSid: 'AC-unknown' });
  assert.equal(stranger.status, 403);
  assert.equal(rejected(gw, 'unknown-account'), 1);
  assert.equal(gw.actions.texts.length, before, 'nothing reached the actions');
  assert.ok(gw.logLines.some((l) => l.includes('"level":"warn"') && l.includes('bad-signature')));
  const metrics = gw.metrics.render();
  assert.match(metrics, /vigie_webhook_rejected_total\{reason="bad-signature"\} 3/);
});

test('hooks - bodies that are not a small form are refused before any work', async () => {
  const big = await post(gw, '/hooks/twilio/sms', { ...sms, Body: 'x'.repeat(70 * 1024) });
  assert.equal(big.status, 413);
  const json = await fetch(gw.base + '/hooks/twilio/sms', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sms),
  });
  assert.equal(json.status, 415);
});

test('hooks - status callbacks of messages and calls reach providerStatus', async () => {
  const m = await post(gw, '/hooks/twilio/status/dlv_1', {
    MessageSid: 'SM1',
    SmsSid: 'SM1',
    MessageStatus: 'undelivered',
    SmsStatus: 'undelivered',
    ErrorCode: '30003',
  });
  assert.equal(m.status, 204);
  const c = await post(gw, '/hooks/twilio/status/dlv_2', {
    CallSid: 'CA1',
    CallStatus: 'completed',
    AnsweredBy: 'machine_start',
  });
  assert.equal(c.status, 204);
  assert.deepEqual(gw.actions.statuses, [
    { deliveryId: 'dlv_1', providerId: 'SM1', status: 'undelivered', errorCode: '30003' },
    { deliveryId: 'dlv_2', providerId: 'CA1', status: 'completed', answeredBy: 'machine_start' },
  ]);
  assert.equal((await post(gw, '/hooks/twilio/status/dlv_3', { CallSid: 'CA1' })).status, 400);
});

const call = {
  CallSid: 'CA' + 'b'.repeat(32),
  From: '+33700000000',
  To: '+33612345601',
  CallStatus: 'in-progress',
};

function verbNames(doc: XmlElement): string[] {
  return doc.children.flatMap((c) => (typeof c === 'string' ? [] : [c.name]));
}

test('hooks - the answered call plays the alert and the menu inside a Gather, then repeats twice at most', async () => {
  gw.actions.scripts.set('dlv_v1', { language: 'en', text: 'Door G12 held open.' });
  const r = await post(gw, '/hooks/twilio/voice/dlv_v1', call);
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/xml/);
  const doc = readTwiml(r.text, 'voice');
  assert.deepEqual(verbNames(doc), ['Gather', 'Redirect', 'Hangup']);
  const g = findAll(doc, 'Gather')[0];
  assert.equal(g.attrs.numDigits, '1');
  assert.equal(g.attrs.input, 'dtmf');
  assert.equal(g.attrs.action, `${PUBLIC}/hooks/twilio/voice/dlv_v1/menu`);
  const plays = findAll(g, 'Play').map(textOf);
  assert.equal(plays.length, 3, 'intro, alert, menu');
  for (const p of plays)
    assert.match(p, /^https:\/\/gw\.example\.com\/hooks\/prompts\/[0-9a-f]+\.wav\?exp=\d+&sig=[0-9a-f]{64}$/);
  assert.equal(textOf(findAll(doc, 'Redirect')[0]), `${PUBLIC}/hooks/twilio/voice/dlv_v1?n=1`);
  // Twilio follows the Redirect with the same signing rule, query string included.
  const again = readTwiml((await post(gw, '/hooks/twilio/voice/dlv_v1?n=1', call)).text, 'voice');
  assert.equal(textOf(findAll(again, 'Redirect')[0]), `${PUBLIC}/hooks/twilio/voice/dlv_v1?n=2`);
  const last = readTwiml((await post(gw, '/hooks/twilio/voice/dlv_v1?n=2', call)).text, 'voice');
  assert.deepEqual(verbNames(last), ['Gather', 'Hangup']);
  assert.equal(
    (
      await post(gw, '/hooks/twilio/voice/dlv_v1?n=2', call, {
        signUrl: `${PUBLIC}/hooks/twilio/voice/dlv_v1`,
      })
    ).status,
    403,
  );
});

test('hooks - without prompts the call speaks with <Say> in the person language; choice 4 with a speaker', async () => {
  plain.actions.scripts.set('dlv_fr', {
    language: 'fr',
    text: 'Porte G12 ouverte.',
    sip: 'sip:g12@pbx.example',
  });
  const doc = readTwiml((await post(plain, '/hooks/twilio/voice/dlv_fr', call)).text, 'voice');
  const says = findAll(doc, 'Say');
  assert.deepEqual(says.map(textOf), ['Alerte Vigie.', 'Porte G12 ouverte.', says.map(textOf)[2]]);
  assert.match(textOf(says[2]), /Tapez 1 .* 4 pour parler/);
  assert.ok(says.every((s) => s.attrs.language === 'fr-FR'));
  const gone = readTwiml((await post(plain, '/hooks/twilio/voice/dlv_unknown', call)).text, 'voice');
  assert.deepEqual(verbNames(gone), ['Say', 'Hangup']);
  assert.equal(textOf(findAll(gone, 'Say')[0]), 'This alert is no longer active.');
});

test('hooks - keys pressed reach keypad(); each outcome gets its TwiML', async () => {
  gw.actions.scripts.set('dlv_k', { language: 'en', text: 'Smoke in B.', sip: 'sip:b@pbx.example' });
  const press = async (digits: string, result: KeypadResult) => {
    gw.actions.keypadResult = result;
    const r = await post(gw, '/hooks/twilio/voice/dlv_k/menu', { ...call, Digits: digits });
    assert.equal(r.status, 200);
    return readTwiml(r.text, 'voice');
  };
  const ack = await press('1', { outcome: 'acknowledged', say: 'Acknowledged. Thank you.' });
  assert.deepEqual(verbNames(ack), ['Say', 'Hangup']);
  assert.equal(textOf(findAll(ack, 'Say')[0]), 'Acknowledged. Thank you.');
  assert.deepEqual(gw.actions.keys.at(-1), ['dlv_k', '1']);
  assert.deepEqual(verbNames(await press('2', { outcome: 'escalated', say: 'Escalating now.' })), [
    'Say',
    'Hangup',
  ]);
  const repeat = await press('3', { outcome: 'repeat', say: '' });
  assert.deepEqual(verbNames(repeat), ['Redirect']);
  assert.equal(textOf(findAll(repeat, 'Redirect')[0]), `${PUBLIC}/hooks/twilio/voice/dlv_k`);
  const speaker = await press('4', {
    outcome: 'speaker',
    say: 'Connecting you to the speaker.',
    sip: 'sip:b@pbx.example',
  });
  assert.deepEqual(verbNames(speaker), ['Say', 'Dial', 'Hangup']);
  assert.equal(textOf(findAll(speaker, 'Sip')[0]), 'sip:b@pbx.example');
  const what = await press('9', { outcome: 'not-understood', say: 'Sorry, I did not understand.' });
  assert.deepEqual(verbNames(what), ['Say', 'Redirect']);
  assert.deepEqual(verbNames(await press('1', { outcome: 'gone', say: 'This alert is no longer active.' })), [
    'Say',
    'Hangup',
  ]);
  assert.deepEqual(
    gw.actions.keys.map(([, d]) => d),
    ['1', '2', '3', '4', '9', '1'],
  );
});

test('hooks - a prompt is served at its signed URL until the URL expires', async () => {
  gw.actions.scripts.set('dlv_p', { language: 'en', text: 'Water leak in plant room.' });
  const doc = readTwiml((await post(gw, '/hooks/twilio/voice/dlv_p', call)).text, 'voice');
  const url = new URL(textOf(findAll(doc, 'Play')[1]));
  const local = gw.base + url.pathname + url.search;
  const ok = await fetch(local);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'audio/wav');
  assert.equal(Buffer.from(await ok.arrayBuffer()).toString('latin1', 0, 4), 'RIFF');
  const tampered = local.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'a' ? 'b' : 'a'}`);
  assert.equal((await fetch(tampered)).status, 403);
  assert.equal((await fetch(gw.base + url.pathname)).status, 403);
  assert.equal((await fetch(gw.base + '/hooks/prompts/passwd')).status, 404);
  assert.equal((await fetch(local.replace('.wav', '.mp3'))).status, 404);
  clock.advance(16 * 60_000);
  assert.equal((await fetch(local)).status, 403, 'expired');
  assert.ok(rejected(gw, 'prompt-url') >= 3);
});

test('hooks - every route is public and documented in the OpenAPI document', () => {
  const router = new Router();
  registerTwilioHooks(router, { actions: new FakeActions(), publicUrl: PUBLIC, accounts: [] });
  const paths = openApiDocument().paths as Record<
    string,
    Record<string, { 'x-vigie-min-role': unknown; security: unknown }>
  >;
  assert.equal(router.routes().length, 5);
  for (const r of router.routes()) {
    assert.equal(r.minRole, null);
    const op = paths[r.pattern.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.pattern} is documented`);
    assert.equal(op['x-vigie-min-role'], null);
    assert.deepEqual(op.security, []);
  }
});
