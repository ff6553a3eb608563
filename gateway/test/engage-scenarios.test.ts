import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { FakeTwilio, type FakeCall, type FakeMessage } from './support/fake-twilio.js';
import { eventually, GatewayProcess, tempDir } from './support/gateway-process.js';
import { ModemEmulator } from './support/modem-emulator.js';
import { freePort } from './support/ports.js';
import { PtyPair } from './support/pty-pair.js';
import { engageConfig, JPEG, PASSWORD, PHONES, startCamera, startSmtp } from './support/engage-site.js';

// The reference scenarios of DESIGN.md end to end, through the real channels: the gateway as a
// child process, sensors over MQTT, voice and SMS through the Twilio-compatible API (a local fake
// that checks every request and plays the calls' TwiML), e-mail to a real SMTP server with the
// camera snapshot, a GSM modem emulator on a pty pair for the uplink-down fallback.

describe('engage - reference scenarios through the real channels', () => {
  const dir = tempDir('vigie-engage-');
  let twilio: FakeTwilio;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let camera: Awaited<ReturnType<typeof startCamera>>;
  let pty: PtyPair;
  let modem: ModemEmulator;
  let gw: GatewayProcess;
  let sensors: MqttClient;
  let publicUrl = '';
  const latencies: { kind: string; ms: number }[] = [];

  const publish = (kind: string, id: string, payload: Record<string, unknown>) =>
    sensors.publishAsync(`vigie/t3/${kind}/${id}`, JSON.stringify({ ts: Date.now(), ...payload }), {
      qos: 1,
    });
  const smsTo = (phone: string, since = 0): FakeMessage[] =>
    twilio.messages.filter((m) => m.to === phone && m.dateCreated >= since);
  const callsTo = (phone: string, since = 0): FakeCall[] =>
    twilio.calls.filter((c) => c.to === phone && c.dateCreated >= since);
  const incidentOf = async (rule: string, device: string) =>
    eventually(`an incident of ${rule} on ${device}`, async () => {
      const { incidents } = await gw.get(`/incidents?rule=${rule}&device=${device}&limit=1`);
      return incidents[0] as
        { id: string; state: string; ackCode: string; acknowledgedBy?: string } | undefined;
    });
  const detail = async (id: string) => gw.get(`/incidents/${id}`);

  before(async () => {
    twilio = await FakeTwilio.start();
    smtp = await startSmtp();
    camera = await startCamera();
    pty = await PtyPair.start();
    modem = await ModemEmulator.open(pty.emulatorPath);
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    const config = await engageConfig(dir, {
      cameraBase: camera.base,
      port,
      twilio,
      channels: (provider) => ({
        sms: { type: 'sms', ...provider, fallback: 'gsm', timeout: '2s', backoff: '500ms' },
        voice: { type: 'voice', ...provider, ringTimeout: '20s', backoff: '1s' },
        email: {
          type: 'email',
          host: '127.0.0.1',
          port: smtp.port,
          ignoreTLS: true,
          from: 'vigie@t3.example',
        },
        gsm: { type: 'modem', path: pty.modemPath, timeout: '3s' },
      }),
    });
    gw = new GatewayProcess(dir, config);
    await gw.start();
    sensors = await mqtt.connectAsync(gw.mqttUrl, {
      username: 'sensors',
      password: PASSWORD,
      reconnectPeriod: 0,
    });
  });

  after(async () => {
    await sensors?.endAsync(true).catch(() => undefined);
    await gw?.stop();
    await twilio?.close();
    await smtp?.close();
    await camera?.close();
    await modem?.close();
    await pty?.dispose();
    // For the closing note: sensor event -> provider request, through the whole gateway (the
    // `for` duration taken out; the modem figure is up to the emulator having the SMS).
    for (const kind of ['sms', 'voice', 'modem']) {
      const ms = latencies.filter((l) => l.kind === kind).map((l) => l.ms);
      if (ms.length > 0) console.log(`# event -> ${kind} request (ms): ${ms.join(', ')}`);
    }
  });

  test('door held open: the one on call gets a voice call and an SMS with the camera; unacknowledged, the supervisor is called; closing clears', async () => {
    const t0 = Date.now();
    await publish('door', 'door-g12', { open: true });
    const inc = await incidentOf('door-held-open', 'door-g12');
    // Amina is on call (an override) and reads French.
    const [sms] = await eventually(
      'the SMS to Amina',
      async () => smsTo(PHONES.amina, t0).at(0) && smsTo(PHONES.amina, t0),
    );
    assert.match(sms.body, /Door G12/);
    assert.match(sms.body, /Gate G12/);
    assert.match(sms.body, /rtsp:\/\/cam\.t3\.example\/g12/);
    assert.match(sms.body, new RegExp(`ACK ${inc.ackCode}`));
    assert.match(sms.body, /Répondez/);
    assert.equal(
      sms.statusCallback,
      `${publicUrl}/hooks/twilio/status/${sms.statusCallback?.split('/').at(-1)}`,
    );
    latencies.push({ kind: 'sms', ms: sms.dateCreated - t0 - 2000 });
    const [call] = await eventually('the call to Amina, answered', async () => {
      const c = callsTo(PHONES.amina, t0);
      return c.length > 0 && c[0].gather ? c : undefined;
    });
    latencies.push({ kind: 'voice', ms: call.dateCreated - t0 - 2000 });
    // The pre-recorded prompt was played (a WAV fetched from a signed URL), then the menu.
    assert.ok(
      call.prompts.length > 0 &&
        call.prompts.every((p) => p.status === 200 && /audio\/(x-)?wav/.test(p.contentType)),
    );
    assert.ok(call.gather, 'the call waits for a key');
    assert.deepEqual(call.errors, []);
    // Provider status drives the delivery record.
    assert.equal(await twilio.status(sms.sid, 'delivered'), 204);
    await eventually('the SMS recorded as delivered', async () => {
      const d = await detail(inc.id);
      return d.deliveries.find(
        (x: { providerId?: string; state: string }) => x.providerId === sms.sid && x.state === 'delivered',
      );
    });
    // Nobody acknowledges: the supervisor's turn after the tier's wait (4 s).
    const [supervisorCall] = await eventually(
      'the supervisor called',
      async () => callsTo(PHONES.claire, t0).at(0) && callsTo(PHONES.claire, t0),
      10_000,
    );
    assert.ok(supervisorCall.dateCreated - call.dateCreated >= 3500, 'after the wait, not at once');
    await eventually('the SMS to the supervisor', async () => smsTo(PHONES.claire, t0).length === 1);
    assert.equal(smsTo(PHONES.lucas, t0).length, 0, 'Lucas is not on call');
    await publish('door', 'door-g12', { open: false });
    await eventually('cleared', async () =>
      (await detail(inc.id)).incident.state === 'cleared' ? true : undefined,
    );
  });

  test('temperature: an undelivered SMS fails over to e-mail; the SMS reply "1" acknowledges and the supervisor is never paged', async () => {
    const t0 = Date.now();
    await publish('temperature', 'temp-hall', { celsius: 31.5 });
    const inc = await incidentOf('temperature', 'temp-hall');
    const [sms] = await eventually(
      'the SMS to Hugo',
      async () => smsTo(PHONES.hugo, t0).at(0) && smsTo(PHONES.hugo, t0),
    );
    assert.match(sms.body, /31[.,]5/);
    latencies.push({ kind: 'sms', ms: sms.dateCreated - t0 - 2000 });
    // The carrier gives up on it: Hugo's next channel is e-mail.
    await twilio.status(sms.sid, 'undelivered', { ErrorCode: '30003' });
    const mail = await eventually('the failover e-mail to Hugo', async () =>
      smtp.mails.find((m) => m.to.includes('hugo@example.org')),
    );
    assert.match(mail.raw, /Hall temperature/);
    // Hugo answers the SMS anyway (his phone came back).
    const answer = await twilio.inboundSms(`${publicUrl}/hooks/twilio/sms`, PHONES.hugo, '1');
    assert.equal(answer.status, 200);
    assert.match(answer.reply ?? '', /acknowledged/i);
    const d = await detail(inc.id);
    assert.equal(d.incident.state, 'acknowledged');
    assert.equal(d.incident.acknowledgedBy, 'person:hugo');
    await new Promise((r) => setTimeout(r, 9000));
    assert.equal(smsTo(PHONES.claire, t0).length, 0, 'escalation stopped at the acknowledgement');
    // A forged reply is refused.
    const forged = await fetch(`${publicUrl}/hooks/twilio/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAA' },
      body: new URLSearchParams({ From: PHONES.hugo, Body: '1', AccountSid: twilio.accountSid }).toString(),
    });
    assert.equal(forged.status, 403);
  });

  test('AED removed: voice, SMS and e-mail at once with location, camera and speaker; key 4 bridges to the speaker, key 1 acknowledges', async () => {
    const t0 = Date.now();
    await publish('aed', 'aed-1', { present: false, cabinetOpen: true });
    const inc = await incidentOf('aed-removed', 'aed-1');
    const deskCall = await eventually('the call to the fire desk', async () =>
      callsTo(PHONES.desk, t0).find((c) => c.gather),
    );
    latencies.push({ kind: 'voice', ms: deskCall.dateCreated - t0 });
    const [deskSms] = await eventually(
      'the SMS to the fire desk',
      async () => smsTo(PHONES.desk, t0).at(0) && smsTo(PHONES.desk, t0),
    );
    assert.match(deskSms.body, /pillar 14/);
    assert.match(deskSms.body, /sip:aed-1@pbx\.t3\.example/);
    latencies.push({ kind: 'sms', ms: deskSms.dateCreated - t0 });
    const mail = await eventually('the e-mail to the fire desk', async () =>
      smtp.mails.find((m) => m.to.includes('desk@example.org')),
    );
    assert.match(mail.raw, /sip:aed-1@pbx\.t3\.example/);
    assert.match(mail.raw, /rtsp:\/\/cam\.t3\.example\/aed/);
    assert.ok(mail.raw.includes(JPEG.toString('base64').slice(0, 16)), 'the camera snapshot is attached');
    // Security is reached too, together.
    await eventually(
      'security called as well',
      async () => callsTo(PHONES.amina, t0).at(0) && callsTo(PHONES.lucas, t0).at(0),
    );
    const bridged = await twilio.press(deskCall.sid, '4');
    assert.match(bridged, /<Dial[^>]*>\s*<Sip>sip:aed-1@pbx\.t3\.example<\/Sip>\s*<\/Dial>/);
    assert.ok(twilio.call(deskCall.sid)?.dialed.includes('sip:aed-1@pbx.t3.example'));
    const lucasCall = await eventually('Lucas call waiting for a key', async () =>
      callsTo(PHONES.lucas, t0).find((c) => c.gather),
    );
    const acked = await twilio.press(lucasCall.sid, '1');
    assert.match(acked, /Acknowledged/);
    const d = await detail(inc.id);
    assert.equal(d.incident.state, 'acknowledged');
    assert.equal(d.incident.acknowledgedBy, 'person:lucas');
    assert.equal(d.timeline.find((e: { kind: string }) => e.kind === 'acknowledged').detail.via, 'voice');
  });

  test('door forced with the uplink down: the SMS goes out through the GSM modem, and the reply to the modem acknowledges', async () => {
    await twilio.fault('Messages', 'down');
    try {
      const t0 = Date.now();
      await publish('door', 'door-staff', { open: true });
      const inc = await incidentOf('door-forced', 'door-staff');
      await eventually(
        'the SMS through the modem',
        async () => modem.sent.find((s) => s.to === PHONES.amina),
        10_000,
      );
      const sent = modem.sent.find((s) => s.to === PHONES.amina)!;
      assert.match(sent.text, /Staff door/);
      latencies.push({ kind: 'modem', ms: Date.now() - t0 });
      modem.receive(PHONES.amina, `ACK ${inc.ackCode}`);
      await eventually('acknowledged by the modem reply', async () =>
        (await detail(inc.id)).incident.state === 'acknowledged' ? true : undefined,
      );
      const d = await detail(inc.id);
      assert.equal(d.incident.acknowledgedBy, 'person:amina');
      // The confirmation goes back the same way.
      await eventually('the confirmation through the modem', async () =>
        modem.sent.find((s) => s.to === PHONES.amina && /acquitt/i.test(s.text)),
      );
    } finally {
      await twilio.fault('Messages', 'ok');
    }
  });
});
