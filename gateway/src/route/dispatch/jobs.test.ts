import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { memoryLogger } from '../../core/log.js';
import { ServiceMessages } from '../../engage/service-messages.js';
import { T0 } from '../testing.js';
import { JobService } from './jobs.js';
import { clockTime } from './messages.js';
import { CUSTOMER, dispatchHarness, dispatchSite, type DispatchHarness } from './testing.js';

const MIN = 60_000;
let h: DispatchHarness | undefined;
afterEach(() => h?.close());

const kinds = (x: DispatchHarness) => x.events.map((e) => e.subject.split('.').at(-1));
const timeline = (x: DispatchHarness, id: string) => x.incidents.timeline(id);

test('jobs - the nearest technician with the skill is offered the job by SMS with a link', () => {
  h = dispatchHarness();
  const i = h.open('E21');
  const job = h.jobs.create(i, 'appliance-repair', CUSTOMER)!;
  assert.equal(job.state, 'offered');
  assert.deepEqual(job.skills, ['plumbing']);
  assert.deepEqual(job.technician, { id: 'tech-hugo', firstName: 'Hugo' });
  assert.equal(job.customerId, 'cus-1');
  assert.ok(job.distanceKm! > 1 && job.distanceKm! < 3, `${job.distanceKm}`);
  assert.equal(h.jobs.nextDue(), T0 + 10 * MIN);

  const [offer] = h.deliveries();
  assert.equal(h.deliveries().length, 1);
  assert.equal(offer.channel, 'sms');
  assert.equal(offer.recipient, 'technician:tech-hugo');
  assert.equal(JSON.parse(offer.recipient_json).phone, '+33612345611');
  assert.equal(offer.body.tag, 'job-offer');
  assert.equal(offer.body.language, 'fr', "Hugo's language");
  assert.match(
    offer.body.message,
    /^Nouvelle intervention : Lounge coffee machine \(panne E21\), 12 rue de la Paix, Roissy\./,
  );
  assert.match(
    offer.body.message,
    /[\d,]+ km, environ \d+ min\. Répondez sous 10 min : https:\/\/gw\.example\.com\/j\/\S+$/,
  );

  const entry = timeline(h, i.id).find((e) => e.kind === 'job')!;
  assert.equal(entry.detail.event, 'offered');
  assert.equal(entry.detail.technician, 'tech-hugo');
  assert.deepEqual(h.incidents.get(i.id)!.context.job, job);

  assert.equal(h.events.length, 1);
  const [e] = h.events;
  assert.equal(e.subject, 'vigie.cdg-t2.job.offered');
  assert.equal(e.incidentId, i.id);
  assert.equal(e.event.type, 'com.vigie.job.offered');
  assert.equal(e.event.subject, i.id);
  assert.equal(e.event.source, 'vigie://cdg-t2/gateway');
  assert.deepEqual(e.event.data, { job });

  // Once per incident: the same job again, nothing new sent or recorded.
  assert.deepEqual(h.jobs.create(i, 'appliance-repair', CUSTOMER), job);
  assert.equal(h.deliveries().length, 1);
  assert.equal(h.events.length, 1);
  assert.deepEqual(h.jobs.summary(i.id), job);
});

test('jobs - no answer in time, then a decline, then nobody: the dispatchers are told', () => {
  h = dispatchHarness();
  const i = h.open('E21'); // plumbing: Hugo (near), then Marc (far, on shift)
  h.jobs.create(i, 'appliance-repair', CUSTOMER);
  const hugo = h.link('job-offer', 'technician:tech-hugo');

  h.clock.advance(10 * MIN - 1);
  assert.equal(h.jobs.runDue(h.clock.now()), 0, 'not yet');
  h.clock.advance(1);
  assert.equal(h.jobs.runDue(h.clock.now()), 1);
  assert.equal(h.jobs.summary(i.id)!.technician?.id, 'tech-marc');
  assert.equal(h.jobs.nextDue(), T0 + 20 * MIN);

  // Hugo answers too late: the offer went to Marc.
  const late = h.jobs.act(hugo, 'accept');
  assert.equal(late.ok, false);
  assert.equal(!late.ok && late.reason, 'expired');
  assert.match(late.message, /expiré/, "in Hugo's language");

  const marc = h.link('job-offer', 'technician:tech-marc');
  const r = h.jobs.act(marc, 'decline');
  assert.equal(r.ok, true);
  assert.equal(r.job?.state, 'unassigned');
  assert.equal(h.jobs.nextDue(), undefined);

  const told = h.deliveries().filter((d) => d.body.tag === 'job-unassigned');
  assert.deepEqual(
    told.map((d) => [d.recipient, d.channel]),
    [
      ['person:nora', 'sms'],
      ['person:sam', 'email'],
    ],
  );
  assert.match(
    told[0].body.message,
    /^No technician for Lounge coffee machine \(fault E21\) at 12 rue de la Paix, Roissy: every technician declined/,
  );
  assert.match(told[0].body.message, new RegExp(`Incident ${i.id}\\.$`));
  assert.equal(told[1].body.language, 'fr');
  assert.equal(told[1].body.subject, 'Aucun technicien pour Lounge coffee machine');

  assert.deepEqual(kinds(h), ['offered', 'expired', 'offered', 'declined', 'unassigned']);
  const last = timeline(h, i.id)
    .filter((e) => e.kind === 'job')
    .at(-1)!;
  assert.equal(last.detail.event, 'unassigned');
  assert.equal(last.detail.why, 'declined');
  assert.deepEqual(last.detail.told, ['nora', 'sam']);
  assert.deepEqual(last.detail.excluded, { tried: ['tech-hugo', 'tech-marc'], skill: ['tech-lea'] });
  assert.equal(
    h.incidents.get(i.id)!.context.job && (h.incidents.get(i.id)!.context.job as { state: string }).state,
    'unassigned',
  );

  // Nothing a stale link can do now.
  const again = h.jobs.act(marc, 'accept');
  assert.equal(!again.ok && again.reason, 'superseded');
});

test('jobs - accepted: the customer learns the first name and the arrival time; then on the way, arrived, resolved', () => {
  h = dispatchHarness();
  const i = h.open('E10'); // not listed: default, coffee machines
  h.jobs.create(i, 'appliance-repair', CUSTOMER);
  const token = h.link('job-offer', 'technician:tech-hugo');

  const early = h.jobs.act(token, 'arrived');
  assert.equal(!early.ok && early.reason, 'wrong-state', 'accept first');

  h.clock.advance(MIN);
  const r = h.jobs.act(token, 'accept');
  assert.ok(r.ok && r.changed);
  assert.equal(r.job.state, 'accepted');
  const travel = r.job.travelMinutes!;
  assert.ok(r.job.etaAt! > h.clock.now() && r.job.etaAt! <= h.clock.now() + travel * MIN);

  const told = h.deliveries().filter((d) => d.body.tag === 'customer-eta');
  assert.deepEqual(
    told.map((d) => [d.channel, JSON.parse(d.recipient_json).phone ?? JSON.parse(d.recipient_json).email]),
    [
      ['sms', '+33611111111'],
      ['email', 'marie@example.test'],
    ],
  );
  const eta = clockTime(r.job.etaAt!, 'Europe/Paris', 'fr');
  assert.match(eta, /^09h\d\d$/);
  assert.equal(
    told[0].body.message,
    `Bonjour Marie, Hugo, notre technicien, vient réparer votre Lounge coffee machine et devrait arriver vers ${eta}.`,
  );
  assert.doesNotMatch(told[0].body.message, /Martin/, 'first name only');
  assert.equal(told[1].body.subject, `Un technicien arrive vers ${eta}`);
  const customerEntry = timeline(h, i.id).find((e) => e.kind === 'customer')!;
  assert.equal(customerEntry.detail.told, 'eta');

  // A double tap counts once.
  const twice = h.jobs.act(token, 'accept');
  assert.ok(twice.ok && !twice.changed);
  assert.equal(h.deliveries().filter((d) => d.body.tag === 'customer-eta').length, 2);

  h.clock.advance(2 * MIN);
  const onTheWay = h.jobs.act(token, 'enroute');
  assert.ok(onTheWay.ok);
  assert.equal(onTheWay.job.state, 'enroute');
  assert.ok(onTheWay.job.etaAt! > r.job.etaAt!, 'the estimate counts from leaving');

  h.clock.advance(5 * MIN);
  assert.ok(h.jobs.act(token, 'arrived').ok);
  const arrived = h.deliveries().filter((d) => d.body.tag === 'customer-arrived');
  assert.equal(arrived.length, 2);
  assert.equal(arrived[0].body.message, 'Bonjour Marie, Hugo est arrivé pour votre Lounge coffee machine.');
  const hugo = h.jobs.technicians().find((t) => t.id === 'tech-hugo')!;
  assert.deepEqual([hugo.position, hugo.positionFrom, hugo.busy], [CUSTOMER.location, 'reported', true]);

  h.clock.advance(30 * MIN);
  const done = h.jobs.act(token, 'resolved');
  assert.ok(done.ok);
  assert.equal(done.job.state, 'resolved');
  const incident = h.incidents.get(i.id)!;
  assert.equal(incident.state, 'resolved');
  assert.equal(incident.resolvedBy, 'technician:tech-hugo');
  assert.equal(timeline(h, i.id).find((e) => e.kind === 'resolved')?.detail.via, 'link');
  const survey = h.deliveries().filter((d) => d.body.tag === 'customer-survey');
  assert.equal(survey.length, 2);
  assert.match(survey[0].body.message, /Donnez une note de 1 à 5 : https:\/\/gw\.example\.com\/s\/\S+$/);
  assert.equal(h.jobs.technicians().find((t) => t.id === 'tech-hugo')!.busy, false);

  const after = h.jobs.act(token, 'enroute');
  assert.equal(!after.ok && after.reason, 'wrong-state');
  assert.deepEqual(kinds(h), ['offered', 'accepted', 'enroute', 'arrived', 'resolved']);
  assert.deepEqual(
    h.events.map((e) => e.event.data),
    h.events.map((e) => ({ job: (e.event.data as { job: { state: string } }).job })),
  );
  assert.deepEqual(
    h.events.map((e) => (e.event.data as { job: { state: string } }).job.state),
    ['offered', 'accepted', 'enroute', 'arrived', 'resolved'],
  );
});

test('jobs - the survey score is stored on the job and the incident, once', () => {
  h = dispatchHarness();
  const i = h.open();
  h.jobs.create(i, 'appliance-repair', CUSTOMER);
  const token = h.link('job-offer', 'technician:tech-hugo');
  for (const a of ['accept', 'arrived', 'resolved'] as const) assert.ok(h.jobs.act(token, a).ok, a);
  const s = h.link('customer-survey', 'customer:cus-1');

  assert.equal(h.jobs.act(s, 'accept').ok, false, 'a survey link is no job link');
  assert.equal(h.jobs.survey(token, 5).ok, false, 'a job link is no survey link');
  const bad = h.jobs.survey(s, 6);
  assert.equal(!bad.ok && bad.reason, 'invalid');
  assert.deepEqual(h.jobs.surveyView(s), {
    language: 'fr',
    deviceName: 'Lounge coffee machine',
    technicianFirstName: 'Hugo',
  });

  h.clock.advance(MIN);
  const r = h.jobs.survey(s, 4);
  assert.ok(r.ok);
  assert.equal(r.job.surveyScore, 4);
  const incident = h.incidents.get(i.id)!;
  assert.deepEqual(incident.context.survey, { score: 4, at: h.clock.now(), job: r.job.id });
  assert.equal((incident.context.job as { surveyScore: number }).surveyScore, 4);
  const entry = timeline(h, i.id)
    .filter((e) => e.kind === 'customer')
    .at(-1)!;
  assert.deepEqual([entry.actor, entry.detail.survey], ['customer:cus-1', 4]);
  assert.equal(h.events.at(-1)!.subject, 'vigie.cdg-t2.job.survey');
  assert.equal(h.jobs.surveyView(s)?.score, 4);

  const again = h.jobs.survey(s, 1);
  assert.equal(!again.ok && again.reason, 'answered');
  assert.equal(h.jobs.summary(i.id)!.surveyScore, 4);
});

test('jobs - busy and unavailable technicians are passed over; configured travel times win', () => {
  h = dispatchHarness({
    site: dispatchSite({ travelMinutes: { 'roissy-north': { 'tech-lea': 3 } } }),
  });
  const first = h.open();
  // Lea is 9 km away, but the profile says 3 minutes (Hugo, 2 km away, is 4 by the estimate) from her to this area.
  assert.equal(h.jobs.create(first, 'appliance-repair', CUSTOMER)!.technician?.id, 'tech-lea');
  assert.match(h.deliveries()[0].body.message, /about 3 min\./);
  assert.ok(h.jobs.act(h.link('job-offer', 'technician:tech-lea'), 'accept').ok);

  // Lea is busy now; without an area the distance decides: Hugo.
  const second = h.open();
  assert.equal(
    h.jobs.create(second, 'appliance-repair', { ...CUSTOMER, area: undefined })!.technician?.id,
    'tech-hugo',
  );

  h.jobs.setAvailable('tech-hugo', false);
  h.jobs.runDue(h.clock.advance(10 * MIN)); // Hugo's offer runs out; nobody else repairs coffee machines
  assert.equal(h.jobs.summary(second.id)!.state, 'unassigned');
  const why = timeline(h, second.id)
    .filter((e) => e.kind === 'job')
    .at(-1)!.detail;
  assert.deepEqual(why.excluded, { busy: ['tech-lea'], tried: ['tech-hugo'], skill: ['tech-marc'] });

  const third = h.open();
  assert.equal(h.jobs.create(third, 'appliance-repair', CUSTOMER)!.state, 'unassigned');
  const entry = timeline(h, third.id)
    .filter((e) => e.kind === 'job')
    .at(-1)!.detail;
  assert.deepEqual(
    [entry.why, entry.excluded],
    ['nobody', { unavailable: ['tech-hugo'], busy: ['tech-lea'], skill: ['tech-marc'] }],
  );

  assert.throws(() => h!.jobs.setAvailable('tech-nobody', true), { code: 'VIGIE_ERR_NOT_FOUND' });
  assert.throws(() => h!.jobs.setLocation('tech-hugo', 91, 0), { code: 'VIGIE_ERR_BAD_REQUEST' });
});

test('jobs - a fault code the profile does not know goes to the dispatchers; no customer, no customer messages', () => {
  h = dispatchHarness({ site: dispatchSite({ skills: { E21: ['plumbing'] } }) });
  const i = h.open('E99');
  const job = h.jobs.create(i, 'appliance-repair')!;
  assert.equal(job.state, 'unassigned');
  assert.deepEqual(kinds(h), ['unassigned']);
  assert.match(h.deliveries()[0].body.message, /no skill is listed for fault E99/);
  assert.equal(h.deliveries().filter((d) => d.body.tag === 'job-offer').length, 0);

  // Without a customer the device's location is the place; the customer is told nothing.
  const j = h.open('E21');
  const offered = h.jobs.create(j, 'appliance-repair')!;
  assert.equal(offered.customerId, undefined);
  assert.match(h.deliveries().at(-1)!.body.message, /Lounge bar, hall-b/);
  assert.ok(h.jobs.act(h.link('job-offer', 'technician:tech-hugo'), 'accept').ok);
  assert.equal(h.deliveries().filter((d) => d.body.tag.startsWith('customer-')).length, 0);
  const entry = timeline(h, j.id).find((e) => e.kind === 'customer')!;
  assert.deepEqual([entry.detail.told, entry.detail.skipped], ['eta', 'no customer record']);

  assert.equal(h.jobs.create(h.open(), 'no-such-profile'), undefined);
});

test('jobs - each change is one transaction: a failing step leaves nothing behind', () => {
  let failOn = '';
  h = dispatchHarness({
    emit: (e) => {
      if (e.subject.endsWith(`.${failOn}`)) throw new Error('outbox full');
      h!.events.push(e);
    },
  });
  const count = (table: string) =>
    (h!.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

  failOn = 'offered';
  const i = h.open();
  const before = { timeline: count('timeline'), deliveries: count('deliveries') };
  assert.throws(() => h!.jobs.create(i, 'appliance-repair', CUSTOMER), /outbox full/);
  assert.deepEqual([count('jobs'), count('job_offers')], [0, 0]);
  assert.deepEqual({ timeline: count('timeline'), deliveries: count('deliveries') }, before);
  assert.equal(h.incidents.get(i.id)!.context.job, undefined);

  // Nested in the caller's transaction, the job goes when the caller's work fails after it.
  failOn = '';
  assert.throws(() =>
    h!.db.transaction(() => {
      h!.jobs.create(i, 'appliance-repair', CUSTOMER);
      throw new Error('the caller failed');
    })(),
  );
  assert.equal(count('jobs'), 0);

  h.jobs.create(i, 'appliance-repair', CUSTOMER);
  const token = h.link('job-offer', 'technician:tech-hugo');
  const mid = { timeline: count('timeline'), deliveries: count('deliveries'), events: h.events.length };
  failOn = 'accepted';
  assert.throws(() => h!.jobs.act(token, 'accept'), /outbox full/);
  assert.deepEqual(
    { timeline: count('timeline'), deliveries: count('deliveries'), events: h.events.length },
    mid,
  );
  assert.equal(h.jobs.summary(i.id)!.state, 'offered');
  assert.equal((h.incidents.get(i.id)!.context.job as { state: string }).state, 'offered');
  assert.equal((h.db.prepare('SELECT state FROM job_offers').get() as { state: string }).state, 'pending');

  failOn = '';
  assert.ok(h.jobs.act(token, 'accept').ok, 'the same tap works once the outbox does');
});

test('jobs - committed fires after changes it owns; state lives in the database', () => {
  let commits = 0;
  h = dispatchHarness({ committed: () => commits++ });
  const i = h.open();
  h.db.transaction(() => h!.jobs.create(i, 'appliance-repair', CUSTOMER))();
  assert.equal(commits, 0, 'nested: the caller commits');
  const token = h.link('job-offer', 'technician:tech-hugo');

  // Another service on the same database (a restart) picks the job up where it was.
  const again = new JobService({
    db: h.db,
    clock: h.clock,
    site: h.site,
    logger: memoryLogger(),
    incidents: h.incidents,
    messages: new ServiceMessages(h.db),
    linkBase: 'https://gw.example.com',
    linkTtlMs: 86_400_000,
    committed: () => commits++,
  });
  assert.equal(again.nextDue(), T0 + 10 * MIN);
  assert.ok(again.act(token, 'accept').ok);
  assert.equal(commits, 1);
  assert.equal(again.act(token, 'accept').ok, true);
  assert.equal(commits, 1, 'nothing changed, nothing to wake');
  assert.equal(again.act('garbage', 'accept').ok, false);
  assert.deepEqual(
    again.jobs().map((j) => [j.incidentId, j.state]),
    [[i.id, 'accepted']],
  );
});
