import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { SmsChannelConfig } from '../../config/schema.js';
import { memoryLogger, silentLogger } from '../../core/log.js';
import type { Channel, Notification, SendResult } from '../channel.js';
import { SmsChannel } from './sms.js';
import { personNotification } from '../testing.js';

// The one outside system we cannot reach from here (Twilio) is replaced by a local HTTP server that
// checks every request the way the Messages resource does: path, Basic auth, form encoding,
// E.164 numbers, body length; and answers in its shapes (201 + message resource, 4xx error JSON).

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'auth-token-of-the-test-account';

interface Seen {
  form: URLSearchParams;
}
const seen: Seen[] = [];
const lists: URLSearchParams[] = [];
let answer: 'ok' | '500' | 'hang' = 'ok';
let api: Server;
let baseUrl = '';

function apiError(
  res: import('node:http').ServerResponse,
  status: number,
  code: number,
  message: string,
): void {
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ code, message, status }));
}

interface Stored {
  sid: string;
  to: string;
  from: string;
  body: string;
  date_created: string;
  date_sent: string;
}
const stored: Stored[] = [];
const twilioDate = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');

before(async () => {
  api = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== `/2010-04-01/Accounts/${SID}/Messages.json`) {
        return apiError(res, 404, 20404, 'The requested resource was not found');
      }
      const auth = req.headers.authorization ?? '';
      if (auth !== 'Basic ' + Buffer.from(`${SID}:${TOKEN}`).toString('base64')) {
        return apiError(res, 401, 20003, 'Authentication Error - invalid username');
      }
      if (answer === '500') return apiError(res, 500, 20500, 'Internal Server Error');
      if (req.method === 'GET') {
        const q = url.searchParams;
        const day = q.get('DateSent>');
        const list = stored.filter(
          (m) =>
            (!q.get('To') || m.to === q.get('To')) &&
            (!q.get('From') || m.from === q.get('From')) &&
            (!day || new Date(m.date_sent).toISOString().slice(0, 10) >= day),
        );
        lists.push(q);
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ messages: list.reverse(), next_page_uri: null, page: 0, page_size: 100 }));
      }
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        return apiError(res, 400, 20001, 'Content-Type must be form-encoded');
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const to = form.get('To') ?? '';
      if (!/^\+[1-9]\d{6,14}$/.test(to))
        return apiError(res, 400, 21211, `The 'To' number ${to} is not valid.`);
      if (!form.get('From')) return apiError(res, 400, 21603, "A 'From' phone number is required.");
      const body = form.get('Body') ?? '';
      if (body.length === 0 || body.length > 1600)
        return apiError(res, 400, 21617, 'The message body is too long or empty.');
      seen.push({ form });
      const sid = `SM${String(seen.length).padStart(32, '0')}`;
      const now = twilioDate(Date.now());
      stored.push({ sid, to, from: form.get('From') ?? '', body, date_created: now, date_sent: now });
      if (answer === 'hang') return; // accepted, but the answer never comes
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ sid, status: 'queued', to, body }));
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
  baseUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

after(async () => {
  api.closeAllConnections();
  await new Promise<void>((r) => api.close(() => r()));
});

const cfg = (over: Partial<SmsChannelConfig> = {}): SmsChannelConfig => ({
  type: 'sms',
  baseUrl,
  accountSid: SID,
  authToken: TOKEN,
  from: '+33700000000',
  timeout: 500,
  maxAttempts: 3,
  backoff: 1000,
  maxBackoff: 10_000,
  ...over,
});

function note(
  phone: string | undefined,
  message = 'Door G12 (Gate G12) held open for more than 30 s',
): Notification {
  return personNotification(phone, message, {
    incident: { id: 'inc_0000000001sms', context: { camera: { stream: 'rtsp://127.0.0.1:8554/cam-g12' } } },
    notification: { deliveryId: 'dlv_sms1' },
  });
}

const never = new AbortController().signal;

test('sms - the Messages resource accepts the request; the message carries the camera link', async () => {
  seen.length = 0;
  answer = 'ok';
  const r = await new SmsChannel('sms', cfg({ fallback: undefined })).send(note('+33612345601'), never);
  assert.deepEqual(r, { ok: true, providerId: 'SM00000000000000000000000000000001' });
  const f = seen[0].form;
  assert.equal(f.get('To'), '+33612345601');
  assert.equal(f.get('From'), '+33700000000');
  assert.match(f.get('Body') ?? '', /held open .* Camera: rtsp:\/\/127\.0\.0\.1:8554\/cam-g12$/);
  assert.equal(f.get('StatusCallback'), null, 'no callback without a public URL');
});

test('sms - with a public URL the provider reports delivery on the status callback', async () => {
  seen.length = 0;
  const deps = { logger: silentLogger, publicUrl: 'https://gw.example/' };
  const r = await new SmsChannel('sms', cfg(), deps).send(note('+33612345601'), never);
  assert.deepEqual(r, { ok: true, providerId: 'SM' + '1'.padStart(32, '0'), awaitingStatus: true });
  assert.equal(seen[0].form.get('StatusCallback'), 'https://gw.example/hooks/twilio/status/dlv_sms1');
});

test('sms - a long message is cut to the 1,600 characters the API takes', async () => {
  seen.length = 0;
  const r = await new SmsChannel('sms', cfg()).send(note('+33612345601', 'x'.repeat(2000)), never);
  assert.equal(r.ok, true);
  assert.equal(seen[0].form.get('Body')?.length, 1600);
});

test('sms - bad numbers and bad credentials are final; a 5xx, a timeout or no API at all are retried', async () => {
  answer = 'ok';
  const noPhone = await new SmsChannel('sms', cfg()).send(note(undefined), never);
  assert.equal(!noPhone.ok && noPhone.retryable, false);
  const local = await new SmsChannel('sms', cfg()).send(note('0612345601'), never);
  assert.match(!local.ok ? local.error : '', /E\.164/);
  const creds = await new SmsChannel('sms', cfg({ authToken: 'wrong' })).send(note('+33612345601'), never);
  assert.equal(!creds.ok && creds.retryable, false);
  assert.match(!creds.ok ? creds.error : '', /HTTP 401 \(code 20003\)/);
  answer = '500';
  const down = await new SmsChannel('sms', cfg()).send(note('+33612345601'), never);
  assert.equal(!down.ok && down.retryable, true);
  answer = 'hang';
  const t0 = Date.now();
  const slow = await new SmsChannel('sms', cfg()).send(note('+33612345601'), never);
  assert.equal(!slow.ok && slow.retryable, true);
  assert.ok(Date.now() - t0 < 2000, 'the timeout bounds the wait');
  answer = 'ok';
  const gone = await new SmsChannel('sms', cfg({ baseUrl: 'http://127.0.0.1:1' })).send(
    note('+33612345601'),
    never,
  );
  assert.equal(!gone.ok && gone.retryable, true);
});

test('sms - after a send whose answer was lost, reconcile finds the message the provider accepted', async () => {
  seen.length = 0;
  stored.length = 0;
  lists.length = 0;
  answer = 'hang';
  const n = { ...note('+33612345601'), claimedAt: Date.now() };
  const sms = new SmsChannel('sms', cfg());
  const lost = await sms.send(n, never);
  assert.equal(!lost.ok && lost.retryable, true, 'the timeout looks like a failure');
  answer = 'ok';
  assert.deepEqual(await sms.reconcile(n, never), { found: true, providerId: stored[0].sid });
  assert.equal(lists[0].get('To'), '+33612345601');
  assert.equal(lists[0].get('From'), '+33700000000');
  // No date filter: a message the provider still holds queued has no send date and would be missed.
  assert.equal(lists[0].get('DateSent>'), null);
  // Another alert to the same person, or an older message with the same text, is not this attempt.
  assert.deepEqual(await sms.reconcile({ ...n, message: 'Smoke in zone B' }, never), { found: false });
  assert.deepEqual(await sms.reconcile({ ...n, claimedAt: Date.now() + 60_000 }, never), { found: false });
  answer = '500';
  assert.ok('unknown' in (await sms.reconcile(n, never)));
  answer = 'ok';
  const away = new SmsChannel('sms', cfg({ baseUrl: 'http://127.0.0.1:1' }));
  assert.ok('unknown' in (await away.reconcile(n, never)));
});

class FakeModem implements Channel {
  readonly type = 'modem';
  readonly sent: Notification[] = [];
  constructor(
    readonly name: string,
    private readonly result: SendResult,
  ) {}
  send(n: Notification): Promise<SendResult> {
    this.sent.push(n);
    return Promise.resolve(this.result);
  }
}

test('sms - API unreachable or failing: the fallback modem sends in the same attempt; a 4xx does not', async () => {
  const modem = new FakeModem('gsm', { ok: true, providerId: 'modem-ref-7' });
  const logger = memoryLogger();
  const deps = { logger, channel: (name: string) => (name === 'gsm' ? modem : undefined) };
  const down = new SmsChannel('sms', cfg({ baseUrl: 'http://127.0.0.1:1', fallback: 'gsm' }), deps);
  assert.deepEqual(await down.send(note('+33612345601'), never), {
    ok: true,
    providerId: 'modem-ref-7',
    via: 'gsm',
  });
  assert.equal(modem.sent.length, 1);
  assert.ok(logger.lines.some((l) => l.includes('"level":"warn"') && l.includes('fallback')));

  answer = '500';
  const failing = new SmsChannel('sms', cfg({ fallback: 'gsm' }), deps);
  assert.equal((await failing.send(note('+33612345601'), never)).ok, true);
  assert.equal(modem.sent.length, 2);

  answer = 'ok';
  const badCreds = new SmsChannel('sms', cfg({ authToken: 'wrong', fallback: 'gsm' }), deps);
  const refused = await badCreds.send(note('+33612345601'), never);
  assert.equal(!refused.ok && refused.retryable, false);
  assert.equal(modem.sent.length, 2, 'a refusal by the API is not a reason to use the modem');

  const brokenModem = new FakeModem('gsm', { ok: false, retryable: false, error: 'no SIM' });
  const both = new SmsChannel('sms', cfg({ baseUrl: 'http://127.0.0.1:1', fallback: 'gsm' }), {
    logger,
    channel: () => brokenModem,
  });
  const r = await both.send(note('+33612345601'), never);
  assert.equal(!r.ok && r.retryable, true, 'the API may come back: try again later');
  assert.match(!r.ok ? r.error : '', /unreachable.*gsm: no SIM/);
});
