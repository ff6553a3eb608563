import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import type { EmailChannelConfig } from '../../config/schema.js';
import type { Incident } from '../../route/model.js';
import type { Notification } from '../channel.js';
import { EmailChannel } from './email.js';

// A real SMTP server (smtp-server) receives what the channel sends; a real HTTP server plays the
// camera, one that answers and one that never does.

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Buffer.from('vigie-test-snapshot'), 0xff, 0xd9]);

interface Received {
  from: string;
  to: string[];
  raw: string;
}

let smtp: SMTPServer;
let smtpPort = 0;
let reject550 = false;
const mails: Received[] = [];
let camera: Server;
let cameraUrl = '';

before(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (reject550) return cb(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  camera = createServer((req, res) => {
    if (req.url === '/snap.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(JPEG);
    // /dead.jpg: never answers, like a camera that hangs.
  });
  await new Promise<void>((r) => camera.listen(0, '127.0.0.1', () => r()));
  cameraUrl = `http://127.0.0.1:${(camera.address() as AddressInfo).port}`;
});

after(async () => {
  camera.closeAllConnections();
  await new Promise<void>((r) => camera.close(() => r()));
  await new Promise<void>((r) => smtp.close(() => r()));
});

const cfg = (): EmailChannelConfig => ({
  type: 'email',
  host: '127.0.0.1',
  port: smtpPort,
  secure: false,
  ignoreTLS: true,
  from: 'vigie@airport.example',
  timeout: 5000,
  snapshotTimeout: 300,
  maxAttempts: 3,
  backoff: 1000,
  maxBackoff: 10_000,
});

function note(snapshot: string | undefined): Notification {
  const incident: Incident = {
    id: 'inc_0000000001email',
    site: 'airport',
    ruleId: 'aed-removed',
    ruleName: 'AED removed',
    deviceId: 'aed-hall-b',
    deviceName: 'AED cabinet Hall B',
    zone: 'hall-b',
    severity: 'critical',
    state: 'open',
    reason: 'present = false',
    message: 'AED removed: AED cabinet Hall B (Hall B, pillar 14)',
    triggerTs: 1000,
    openedAt: 1005,
    escalationStep: 0,
    values: { present: false },
    context: {
      camera: { snapshot, stream: 'rtsp://127.0.0.1:8554/cam-hall-b' },
      speaker: { sip: 'sip:aed-hall-b@pbx.airport.example' },
    },
    updatedAt: 1005,
  };
  return {
    deliveryId: 'dlv_email1',
    incident,
    recipient: {
      kind: 'person',
      id: 'sec-claire',
      name: 'Claire Moreau',
      email: 'claire.moreau@example.org',
    },
    step: 0,
    attempt: 1,
    message: incident.message,
    language: 'en',
    claimedAt: 0,
  };
}

test('email - text and HTML to the person, with the camera snapshot attached and the links', async () => {
  mails.length = 0;
  const r = await new EmailChannel('ops-mail', cfg()).send(
    note(`${cameraUrl}/snap.jpg`),
    new AbortController().signal,
  );
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(mails.length, 1);
  const m = mails[0];
  assert.deepEqual(m.to, ['claire.moreau@example.org']);
  assert.equal(m.from, 'vigie@airport.example');
  assert.match(m.raw, /^Subject: \[CRITICAL\] AED removed: AED cabinet Hall B/m);
  assert.match(m.raw, /^Message-ID: <dlv_email1@vigie>/im);
  assert.match(m.raw, /Content-Type: text\/plain/);
  assert.match(m.raw, /Content-Type: text\/html/);
  assert.match(m.raw, /sip:aed-hall-b@pbx\.airport\.example/);
  assert.match(m.raw, /rtsp:\/\/127\.0\.0\.1:8554\/cam-hall-b/);
  assert.match(m.raw, /filename=snapshot\.jpg/);
  assert.ok(m.raw.replace(/\r?\n/g, '').includes(JPEG.toString('base64')), 'the snapshot bytes are attached');
});

test('email - a camera that does not answer delays the alert by the snapshot timeout at most', async () => {
  mails.length = 0;
  const t0 = Date.now();
  const r = await new EmailChannel('ops-mail', cfg()).send(
    note(`${cameraUrl}/dead.jpg`),
    new AbortController().signal,
  );
  assert.equal(r.ok, true);
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  assert.doesNotMatch(mails[0].raw, /filename=snapshot\.jpg/);
  assert.match(mails[0].raw, /snapshot: unavailable/);
});

test('email - a 5xx from the server is final, a person without an address is final, a dead server is retried', async () => {
  reject550 = true;
  const r = await new EmailChannel('ops-mail', cfg()).send(note(undefined), new AbortController().signal);
  reject550 = false;
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.retryable, false);
  const n = note(undefined);
  n.recipient = { ...n.recipient, email: undefined };
  const r2 = await new EmailChannel('ops-mail', cfg()).send(n, new AbortController().signal);
  assert.equal(!r2.ok && r2.retryable, false);
  assert.match(!r2.ok ? r2.error : '', /no e-mail address/);
  const down = await new EmailChannel('ops-mail', { ...cfg(), port: 1 }).send(
    note(undefined),
    new AbortController().signal,
  );
  assert.equal(!down.ok && down.retryable, true);
});
