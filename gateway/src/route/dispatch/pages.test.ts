import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TokenAuth } from '../../api/auth.js';
import type { ApiPorts } from '../../api/ports.js';
import { createApiServer, type ApiServer } from '../../api/server.js';
import { memoryLogger } from '../../core/log.js';
import { registerJobPages } from './pages.js';
import { CUSTOMER, dispatchHarness, type DispatchHarness } from './testing.js';

// The pages run inside the real API server, fetched and posted to as a phone browser would.

let h: DispatchHarness;
let api: ApiServer;
let base: string;

before(async () => {
  h = dispatchHarness();
  api = createApiServer({
    ports: {} as ApiPorts,
    auth: new TokenAuth({ adminToken: 'admin-token-0123456789', tokens: [] }),
    logger: memoryLogger(),
  });
  registerJobPages(api.router, { jobs: h.jobs, language: 'en' });
  base = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
});

after(async () => {
  await api.close();
  h.close();
});

const get = (path: string) => fetch(base + path, { redirect: 'manual' });
const post = (
  path: string,
  form: Record<string, string> | string,
  type = 'application/x-www-form-urlencoded',
) =>
  fetch(base + path, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': type },
    body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
  });
/** The action buttons a page shows. */
const buttons = (html: string) => [...html.matchAll(/name="action" value="(\w+)"/g)].map((m) => m[1]);

test('pages - the technician sees the offer and can only accept or decline it', async () => {
  const i = h.open('E21');
  h.jobs.create(i, 'appliance-repair', { ...CUSTOMER, address: '12 rue <b>de la Paix</b> & "Co"' });
  const token = h.link('job-offer', 'technician:tech-hugo');
  const res = await get(`/j/${token}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  const html = await res.text();
  assert.match(html, /<html lang="fr">/, "Hugo's language");
  assert.match(html, /<meta name="viewport" content="width=device-width,initial-scale=1">/);
  assert.doesNotMatch(html, /<(script|link|img)\b/, 'no script, no external asset');
  assert.match(html, /Lounge coffee machine/);
  assert.match(html, /Panne <b>E21<\/b>/);
  assert.match(html, /12 rue &#60;b&#62;de la Paix&#60;\/b&#62; &#38; &#34;Co&#34;/, 'escaped');
  assert.match(html, /https:\/\/www\.openstreetmap\.org\/\?mlat=49\.0033&#38;mlon=2\.5703/);
  assert.match(html, /Marie/);
  assert.doesNotMatch(html, /\+33611111111/, 'the phone only once accepted');
  assert.deepEqual(buttons(html), ['accept', 'decline']);
});

test('pages - each tap moves the job on and the page shows the next buttons; a wrong one is a 409', async () => {
  const i = h.open();
  h.jobs.create(i, 'appliance-repair', CUSTOMER);
  const token = h.link('job-offer', 'technician:tech-hugo');
  const page = `/j/${token}`;

  const early = await post(page, { action: 'resolved' });
  assert.equal(early.status, 409);
  assert.match(await early.text(), /Ce n’est pas possible à ce stade/);

  const r = await post(page, { action: 'accept' });
  assert.equal(r.status, 303);
  // Relative to the page, so it also works behind a proxy serving the gateway under a path prefix.
  const next = new URL(r.headers.get('location')!, base + page);
  assert.equal(next.pathname + next.search, `${page}?done=accept`);
  const accepted = await (await get(next.pathname + next.search)).text();
  assert.match(accepted, /class="ok">Acceptée\. Le client est prévenu/);
  assert.match(accepted, /href="tel:\+33611111111"/);
  assert.deepEqual(buttons(accepted), ['enroute', 'arrived']);
  assert.equal(h.jobs.summary(i.id)!.state, 'accepted');
  assert.equal(h.deliveries().filter((d) => d.body.tag === 'customer-eta').length >= 2, true);

  for (const [action, next] of [
    ['enroute', ['arrived']],
    ['arrived', ['resolved']],
    ['resolved', []],
  ] as const) {
    const res = await post(page, { action });
    assert.equal(res.status, 303, action);
    assert.deepEqual(buttons(await (await get(page)).text()), next, action);
  }
  assert.equal(h.incidents.get(i.id)!.state, 'resolved');
  const late = await post(page, { action: 'enroute' });
  assert.equal(late.status, 409);
});

test('pages - a bad, tampered or expired link is a bare 404', async () => {
  const i = h.open();
  h.jobs.create(i, 'appliance-repair', CUSTOMER);
  const token = h.link('job-offer', 'technician:tech-hugo');
  const tampered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
  for (const path of ['/j/nonsense', `/j/${tampered}`, `/s/${token}`]) {
    const res = await get(path);
    assert.equal(res.status, 404, path);
    const html = await res.text();
    assert.match(html, /This link is not valid or has expired\./);
    assert.doesNotMatch(html, /coffee|Marie|expir[ée]d? offer/i, 'nothing about what exists');
  }
  assert.equal((await post(`/j/${tampered}`, { action: 'accept' })).status, 404);
  assert.equal(h.jobs.summary(i.id)!.state, 'offered');

  const now = h.clock.now();
  h.clock.advance(8 * 86_400_000); // past dispatch.linkTtl (7 days)
  try {
    assert.equal((await get(`/j/${token}`)).status, 404);
  } finally {
    h.clock.set(now);
  }
});

test('pages - forms must be small url-encoded forms with a known action', async () => {
  const i = h.open();
  h.jobs.create(i, 'appliance-repair', CUSTOMER);
  const page = `/j/${h.link('job-offer', 'technician:tech-hugo')}`;
  assert.equal((await post(page, { action: 'explode' })).status, 400);
  assert.equal((await post(page, JSON.stringify({ action: 'accept' }), 'application/json')).status, 415);
  assert.equal((await post(page, { action: 'accept', pad: 'x'.repeat(5000) })).status, 413);
  assert.equal(h.jobs.summary(i.id)!.state, 'offered', 'none of them did anything');
});

test('pages - the customer answers the survey once, with a score from 1 to 5', async () => {
  const i = h.open();
  h.jobs.create(i, 'appliance-repair', CUSTOMER);
  const token = h.link('job-offer', 'technician:tech-hugo');
  for (const a of ['accept', 'arrived', 'resolved'] as const) assert.ok(h.jobs.act(token, a).ok);
  const survey = `/s/${h.link('customer-survey', 'customer:cus-1')}`;

  const form = await (await get(survey)).text();
  assert.match(form, /Êtes-vous satisfait de la réparation de votre Lounge coffee machine par Hugo/);
  assert.deepEqual(
    [...form.matchAll(/name="score" value="(\d)"/g)].map((m) => m[1]),
    ['1', '2', '3', '4', '5'],
  );

  assert.equal((await post(survey, { score: '9' })).status, 409);
  const r = await post(survey, { score: '4' });
  assert.equal(r.status, 303);
  assert.equal(new URL(r.headers.get('location')!, base + survey).pathname, survey);
  const thanks = await (await get(survey)).text();
  assert.match(thanks, /Merci pour votre réponse/);
  assert.match(thanks, /4 \/ 5/);
  assert.doesNotMatch(thanks, /name="score"/);

  assert.equal((await post(survey, { score: '1' })).status, 303, 'a second answer is thanked, not counted');
  assert.equal(h.jobs.summary(i.id)!.surveyScore, 4);
  assert.deepEqual(h.incidents.get(i.id)!.context.survey, {
    score: 4,
    at: h.clock.now(),
    job: h.jobs.summary(i.id)!.id,
  });
});
