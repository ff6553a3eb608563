import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import twilio from 'twilio';
import { FakeTwilio } from './support/fake-twilio.js';

// The fake stands in for Twilio in the engage tests; this proves it refuses what Twilio refuses and
// talks to a webhook server the way Twilio does (signed requests, strict TwiML), so a test passing
// against it is not passing because the fake is lenient.

let fake: FakeTwilio;
before(async () => {
  fake = await FakeTwilio.start();
});
after(() => fake.close());

const auth = (sid: string, token: string) => 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');

async function api(
  resource: 'Messages' | 'Calls',
  form: Record<string, string | string[]> | undefined,
  o: { method?: string; token?: string; sid?: string; type?: string; query?: string } = {},
) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form ?? {})) for (const x of [v].flat()) body.append(k, x);
  const res = await fetch(
    `${fake.baseUrl}/2010-04-01/Accounts/${o.sid ?? fake.accountSid}/${resource}.json${o.query ?? ''}`,
    {
      method: o.method ?? (form ? 'POST' : 'GET'),
      headers: {
        authorization: auth(fake.accountSid, o.token ?? fake.authToken),
        ...(form ? { 'content-type': o.type ?? 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? body.toString() : undefined,
    },
  );
  return { status: res.status, json: (await res.json()) as any };
}

const sms = { To: '+33612345601', From: '+33700000000', Body: 'Door G12 held open' };

describe('fake twilio - REST checks', () => {
  it('refuses bad credentials, another account, and bodies that are not forms', async () => {
    const before = fake.messages.length;
    const creds = await api('Messages', sms, { token: 'wrong' });
    assert.equal(creds.status, 401);
    assert.equal(creds.json.code, 20003);
    assert.equal((await api('Messages', sms, { sid: 'AC' + '0'.repeat(32) })).status, 404);
    assert.equal((await api('Messages', sms, { type: 'application/json' })).status, 400);
    assert.equal(fake.messages.length, before, 'nothing was created');
  });

  it('refuses messages Twilio refuses, with its error codes', async () => {
    const cases: [Record<string, string>, number][] = [
      [{ ...sms, To: '0612345601' }, 21211],
      [{ ...sms, To: '' }, 21604],
      [{ To: sms.To, Body: 'x' }, 21603],
      [{ ...sms, Body: '' }, 21602],
      [{ ...sms, Body: 'x'.repeat(1601) }, 21617],
      [{ ...sms, StatusCallback: 'not a url' }, 21609],
    ];
    for (const [form, code] of cases) {
      const r = await api('Messages', form);
      assert.equal(r.status, 400, JSON.stringify(form));
      assert.equal(r.json.code, code, JSON.stringify(form));
      assert.equal(r.json.status, 400);
    }
  });

  it('refuses calls Twilio refuses', async () => {
    const call = { To: '+33612345601', From: '+33700000000', Url: 'https://gw.example/voice' };
    const cases: [Record<string, string | string[]>, number][] = [
      [{ ...call, To: '+33 6 12' }, 21211],
      [{ To: call.To, Url: call.Url }, 21213],
      [{ To: call.To, From: call.From }, 21205],
      [{ ...call, Url: 'ftp://x/y' }, 21205],
      [{ ...call, StatusCallbackEvent: ['initiated', 'picked-up'] }, 21626],
      [{ ...call, Timeout: '0' }, 21216],
      [{ ...call, Method: 'PUT' }, 21207],
      [{ To: call.To, From: call.From, Twiml: '<Response><Say>unclosed</Response>' }, 12100],
    ];
    const before = fake.calls.length;
    for (const [form, code] of cases) {
      const r = await api('Calls', form);
      assert.equal(r.status, 400, JSON.stringify(form));
      assert.equal(r.json.code, code, JSON.stringify(form));
    }
    assert.equal(fake.calls.length, before);
  });

  it('creates a message as Twilio does and lists it with To/From/DateSent filters', async () => {
    const r = await api('Messages', sms);
    assert.equal(r.status, 201);
    assert.match(r.json.sid, /^SM[0-9a-f]{32}$/);
    assert.equal(r.json.status, 'queued');
    assert.match(r.json.date_created, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    await fake.waitFor(() => fake.message(r.json.sid)?.dateSent, 'the message to be sent');
    const today = new Date().toISOString().slice(0, 10);
    const q = (p: Record<string, string>) => '?' + new URLSearchParams(p).toString();
    const found = await api('Messages', undefined, {
      query: q({ To: sms.To, From: sms.From, 'DateSent>': today }),
    });
    assert.equal(found.status, 200);
    assert.ok(found.json.messages.some((m: any) => m.sid === r.json.sid && m.body === sms.Body));
    const other = await api('Messages', undefined, { query: q({ To: '+33699999999' }) });
    assert.deepEqual(other.json.messages, []);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    assert.deepEqual(
      (await api('Messages', undefined, { query: q({ 'DateSent>': tomorrow }) })).json.messages,
      [],
    );
    assert.equal((await api('Messages', undefined, { query: q({ 'DateSent>': 'yesterday' }) })).status, 400);
  });

  it('fault modes: 500, an accepted request never answered, connection refused', async () => {
    await fake.fault('Messages', '500');
    assert.equal((await api('Messages', sms)).status, 500);
    await fake.fault('Messages', 'hang');
    const n = fake.messages.length;
    const hung = await fetch(`${fake.baseUrl}/2010-04-01/Accounts/${fake.accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: auth(fake.accountSid, fake.authToken),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(sms),
      signal: AbortSignal.timeout(300),
    }).catch((e: Error) => e);
    assert.ok(hung instanceof Error, 'no answer');
    assert.equal(fake.messages.length, n + 1, 'but the message exists');
    await fake.fault('Messages', 'down');
    // A keep-alive socket the client still holds may fail first with a reset; then nothing listens.
    const code = () =>
      fetch(fake.baseUrl).then(
        () => 'answered',
        (e: Error & { cause?: { code?: string } }) => e.cause?.code,
      );
    assert.ok(['ECONNREFUSED', 'UND_ERR_SOCKET', 'ECONNRESET'].includes((await code()) ?? ''));
    assert.equal(await code(), 'ECONNREFUSED');
    await fake.fault('Messages', 'ok');
    assert.equal((await api('Messages', sms)).status, 201, 'back on the same port');
  });

  it('onRequest holds an accepted create until the test lets it go', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let seen: string | undefined;
    const off = fake.onRequest(async (r) => {
      seen = r.sid;
      await gate;
    });
    const pending = api('Messages', sms);
    const sid = await fake.waitFor(() => seen, 'the request to reach the hook');
    assert.ok(fake.message(sid), 'the message exists before the answer');
    release();
    assert.equal((await pending).json.sid, sid);
    off();
  });
});

// A minimal webhook server, checking signatures with Twilio's own validator.
interface Hit {
  path: string;
  params: Record<string, string>;
  valid: boolean;
}
const hits: Hit[] = [];
let hookServer: Server;
let hookBase = '';
const DOCS: Record<string, [string, string]> = {
  '/voice': [
    'text/xml',
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" action="/menu"><Say language="en-GB">Press 1</Say></Gather><Redirect method="POST">/voice?n=1</Redirect><Hangup/></Response>',
  ],
  '/voice?n=1': ['text/xml', '<Response><Say>Goodbye</Say><Hangup/></Response>'],
  '/menu': [
    'text/xml',
    '<Response><Say>Thanks</Say><Dial><Sip>sip:spk@pbx.example</Sip></Dial><Hangup/></Response>',
  ],
  '/malformed': ['text/xml', '<Response><Say>oops</Response>'],
  '/invalid': ['text/xml', '<Response><Shout>oops</Shout></Response>'],
  '/json': ['application/json', '{"say":"hi"}'],
  '/sms': ['text/xml', '<Response><Message>Acknowledged</Message></Response>'],
};

describe('fake twilio - webhooks', () => {
  before(async () => {
    hookServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
        const url = hookBase + (req.url ?? '');
        const valid = twilio.validateRequest(
          fake.authToken,
          String(req.headers['x-twilio-signature']),
          url,
          params,
        );
        hits.push({ path: req.url ?? '', params, valid });
        const doc = DOCS[req.url ?? ''];
        if (!doc) return res.writeHead(req.url?.startsWith('/status') ? 204 : 404).end();
        res.writeHead(200, { 'content-type': doc[0] }).end(doc[1]);
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    hookBase = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => hookServer.close(() => r())));

  const place = async (path: string, extra: Record<string, string | string[]> = {}) => {
    const r = await api('Calls', {
      To: '+33612345601',
      From: '+33700000000',
      Url: hookBase + path,
      StatusCallback: hookBase + '/status/d1',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      ...extra,
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.match(r.json.sid, /^CA[0-9a-f]{32}$/);
    return r.json.sid as string;
  };

  it('answers a call: fetches its Url signed, waits at the Gather, posts keys, follows what comes back', async () => {
    hits.length = 0;
    const sid = await place('/voice');
    const call = await fake.waitFor(() => fake.call(sid)?.gather && fake.call(sid), 'the Gather');
    assert.deepEqual(
      {
        ...hits[0],
        params: {
          CallSid: hits[0].params.CallSid,
          CallStatus: hits[0].params.CallStatus,
          Direction: hits[0].params.Direction,
        },
      },
      {
        path: '/voice',
        valid: true,
        params: { CallSid: sid, CallStatus: 'in-progress', Direction: 'outbound-api' },
      },
    );
    assert.equal(call.gather?.action, hookBase + '/menu');
    assert.deepEqual(call.heard, [{ verb: 'Say', text: 'Press 1', language: 'en-GB' }]);
    const answer = await fake.press(sid, '1');
    assert.match(answer, /<Sip>sip:spk@pbx\.example<\/Sip>/);
    assert.equal(hits.at(-1)?.params.Digits, '1');
    assert.ok(
      hits.every((h) => h.valid),
      'every webhook request carried a valid signature',
    );
    assert.deepEqual(call.dialed, ['sip:spk@pbx.example']);
    assert.equal(call.status, 'completed');
    assert.deepEqual(call.errors, []);
    assert.equal(fake.twimlOf(sid), DOCS['/menu'][1]);
    assert.equal(await fake.status(sid, 'completed', { CallDuration: '12' }), 204);
    const cb = hits.at(-1);
    assert.equal(cb?.path, '/status/d1');
    assert.equal(cb?.params.CallStatus, 'completed');
    assert.equal(cb?.valid, true);
  });

  it('with no key pressed the call goes on past the Gather and follows the Redirect', async () => {
    const sid = await place('/voice');
    await fake.waitFor(() => fake.call(sid)?.gather, 'the Gather');
    await fake.noInput(sid);
    const call = fake.call(sid);
    assert.equal(call?.documents.length, 2);
    assert.deepEqual(
      call?.heard.map((h) => h.text),
      ['Press 1', 'Goodbye'],
    );
    assert.equal(call?.status, 'completed');
  });

  it('records the errors Twilio reports for malformed, invalid or non-XML answers', async () => {
    for (const [path, code] of [
      ['/malformed', 12100],
      ['/invalid', 12200],
      ['/json', 12300],
      ['/missing', 11200],
    ] as const) {
      const sid = await place(path);
      const errors = await fake.waitFor(
        () => (fake.call(sid)?.errors.length ?? 0) > 0 && fake.call(sid)?.errors,
        path,
      );
      assert.equal(errors[0].code, code, path);
    }
  });

  it('posts an inbound SMS signed and reads the TwiML reply', async () => {
    hits.length = 0;
    const r = await fake.inboundSms(hookBase + '/sms', '+33612345601', 'ACK');
    assert.deepEqual({ status: r.status, reply: r.reply }, { status: 200, reply: 'Acknowledged' });
    assert.equal(hits[0].valid, true);
    assert.equal(hits[0].params.Body, 'ACK');
    assert.equal(hits[0].params.AccountSid, fake.accountSid);
  });
});
