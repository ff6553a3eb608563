import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import mqtt from 'mqtt';
import { exampleConfig, RouterProcess } from '../../router/test/support/router-process.js';
import { startSmtp } from './support/engage-site.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { eventually, GatewayProcess, ROOT, tempDir } from './support/gateway-process.js';
import { NatsServer } from './support/nats-server.js';
import { freePort } from './support/ports.js';
import { CUSTOMER_EMAIL, PASSWORD, PHONES, SITE, writeServiceSite } from './support/service-site.js';
import { readStream } from './support/stream-reader.js';

// The appliance scenario of DESIGN.md end to end, with every part real but the SMS provider: an
// espresso machine reports E21; the CRM directory knows its owner; the nearer technician does not
// answer in time, the next one accepts from the link in the SMS; the customer is told by SMS and
// e-mail; the work item reaches the contact-center router over JetStream and its assignment comes
// back onto the incident; the technician arrives, resolves, and the customer answers the survey.

const OFFER_TIMEOUT_MS = 3000;

describe('route - an appliance fault becomes a technician on the way and a case at the contact center', () => {
  let nats: NatsServer;
  let twilio: FakeTwilio;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let router: RouterProcess;
  let gw: GatewayProcess;
  let base: string;

  before(async () => {
    nats = await NatsServer.start();
    twilio = await FakeTwilio.start();
    smtp = await startSmtp();
    const dir = tempDir('vigie-appliance-');
    const files = await writeServiceSite(dir, { offerTimeout: `${OFFER_TIMEOUT_MS / 1000}s` });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const provider = {
      baseUrl: twilio.baseUrl,
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: '+15005550006',
    };
    gw = new GatewayProcess(dir, {
      site: files.site,
      rules: files.rules,
      http: { port, publicUrl: base },
      channels: {
        sms: { type: 'sms', ...provider, timeout: '2s', backoff: '300ms' },
        email: {
          type: 'email',
          host: '127.0.0.1',
          port: smtp.port,
          ignoreTLS: true,
          from: 'vigie@mall.example',
        },
      },
      crm: { type: 'directory', csv: files.csv },
      uplink: { servers: [nats.url] },
    });
    router = await RouterProcess.start(dir, 'router-1', exampleConfig({ nats: { servers: [nats.url] } }));
    await Promise.all([gw.start(), router.waitReady()]);
  });

  after(async () => {
    await gw?.stop();
    await router?.stop();
    await twilio?.close();
    await smtp?.close();
    await nats?.dispose();
  });

  const smsTo = (phone: string) => twilio.messages.filter((m) => m.to === phone);
  const link = (body: string, kind: 'j' | 's') => {
    const m = new RegExp(`${base}/${kind}/([A-Za-z0-9_.-]+)`).exec(body);
    assert.ok(m, `a /${kind}/ link in: ${body}`);
    return `${base}/${kind}/${m[1]}`;
  };
  const post = (url: string, form: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });

  test('fault -> CRM -> technician offered, accepts -> customer told -> work item routed -> assignment back -> survey', async (t) => {
    const device = await mqtt.connectAsync(gw.mqttUrl, { username: 'sensors', password: PASSWORD });
    const t0 = Date.now();
    await device.publishAsync(
      `vigie/${SITE}/appliance/coffee-1`,
      JSON.stringify({ serial: 'WM-0042', status: 'fault', code: 'E21', ts: t0 }),
      { qos: 1 },
    );
    await device.endAsync();

    // The customer record is on the incident.
    const incident = await eventually('the incident with its customer', async () => {
      const [i] = (await gw.get('/incidents?rule=appliance-fault')).incidents;
      return i && (await gw.get(`/incidents/${i.id}`));
    });
    const crm = await eventually('the CRM lookup on the timeline', async () =>
      (await gw.get(`/incidents/${incident.incident.id}`)).timeline.find((e: any) => e.kind === 'crm'),
    );
    assert.equal(crm.detail.found, true);
    assert.equal(crm.detail.customer, 'cust-lumiere');

    // The nearer technician first; no answer within the offer timeout: the next one.
    const firstOffer = await eventually('the offer to the nearest technician', () => smsTo(PHONES.near)[0]);
    assert.match(firstOffer.body, /Espresso machine/);
    assert.equal(smsTo(PHONES.far).length, 0, 'one technician at a time');
    const secondOffer = await eventually(
      'the offer to the next technician after the timeout',
      () => smsTo(PHONES.far)[0],
      OFFER_TIMEOUT_MS + 10_000,
    );
    assert.ok(
      secondOffer.dateCreated - firstOffer.dateCreated >= OFFER_TIMEOUT_MS - 100,
      'not before the timeout',
    );
    const lateAccept = await post(link(firstOffer.body, 'j'), { action: 'accept' });
    assert.equal(lateAccept.status, 409, 'an offer that ran out cannot be accepted');

    const jobUrl = link(secondOffer.body, 'j');
    const page = await fetch(jobUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Espresso machine/);
    const accepted = await post(jobUrl, { action: 'accept' });
    assert.equal(accepted.status, 303);

    // The customer hears who is coming and when, by SMS and by e-mail.
    const told = await eventually('the customer SMS', () => smsTo(PHONES.customer)[0]);
    assert.match(told.body, /Inès/);
    assert.doesNotMatch(told.body, /Garcia/, 'first name only');
    assert.match(told.body, /\d{1,2}h\d{2}/, 'an arrival time');
    const mail = await eventually('the customer e-mail', () =>
      smtp.mails.find((m) => m.to.includes(CUSTOMER_EMAIL)),
    );
    assert.match(mail.raw, /In=C3=A8s|Inès/);

    // The contact center got the case and routed it; the assignment is on the incident.
    const assignment = await eventually(
      'the router assignment on the incident',
      async () =>
        (await gw.get(`/incidents/${incident.incident.id}`)).timeline.find(
          (e: any) => e.kind === 'assignment',
        ),
      15_000,
    );
    assert.equal(assignment.actor, 'router:router-1');
    t.diagnostic(
      `fault published -> assignment recorded on the incident: ${assignment.at - t0} ms (CRM lookup, job, outbox, JetStream, router, back)`,
    );
    const withContext = (await gw.get(`/incidents/${incident.incident.id}`)).incident;
    assert.equal(withContext.context.assignment.queue, 'premium-care', 'a premium customer');

    // On site, resolved: the incident is resolved by the technician, the customer gets the survey.
    await post(jobUrl, { action: 'arrived' });
    assert.equal((await post(jobUrl, { action: 'resolved' })).status, 303);
    const resolved = await eventually('the incident resolved by the technician', async () => {
      const i = (await gw.get(`/incidents/${incident.incident.id}`)).incident;
      return i.state === 'resolved' && i;
    });
    assert.equal(resolved.resolvedBy, 'technician:tech-far');
    const survey = await eventually('the survey SMS', () =>
      smsTo(PHONES.customer).find((m) => m.body.includes(`${base}/s/`)),
    );
    assert.equal((await post(link(survey.body, 's'), { score: '5' })).status, 303);
    await eventually('the score on the incident', async () => {
      const i = (await gw.get(`/incidents/${incident.incident.id}`)).incident;
      return i.context.job?.surveyScore === 5;
    });

    // Everything that went over NATS follows the published JSON Schema.
    // ajv has no date-time format without a plugin: `time` is checked below instead.
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(ROOT, 'router/schema/vigie-events.schema.json'), 'utf8')),
    );
    const events = [...(await readStream(nats.url, 'VIGIE')), ...(await readStream(nats.url, 'CC'))];
    const types = events.map((m) => m.event.type);
    for (const t of [
      'com.vigie.incident.opened',
      'com.vigie.incident.resolved',
      'com.vigie.job.offered',
      'com.vigie.job.expired',
      'com.vigie.job.accepted',
      'com.vigie.job.resolved',
      'com.vigie.workitem.created',
      'com.vigie.assignment.created',
    ])
      assert.ok(types.includes(t), `${t} on the uplink (got ${[...new Set(types)].join(', ')})`);
    for (const m of events) {
      const time = (m.event as { time: string }).time;
      assert.ok(validate(m.event), `${m.event.type}: ${JSON.stringify(validate.errors)}`);
      assert.equal(new Date(time).toISOString(), time, 'time is RFC 3339 (UTC)');
    }
    const item = events.find((m) => m.event.type === 'com.vigie.workitem.created')!.event;
    assert.equal(item.data.customer.id, 'cust-lumiere');
    assert.equal(item.data.intent.faultCode, 'E21');

    // The router measured it.
    const kpis = await eventually('the router KPIs', async () => {
      const r = await router.json(`/api/v1/kpis/${SITE}`);
      return r.status === 200 && r.body.timeToResolve?.count >= 1 && r.body;
    });
    assert.ok(kpis.timeToDispatch.count >= 1, JSON.stringify(kpis));
  });
});
