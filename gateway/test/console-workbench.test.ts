import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { eventually, GatewayProcess, tempDir } from './support/gateway-process.js';

// The rule workbench in the console (issue 8), in a real headless Chromium against a real gateway
// on the airport example: an integrator records a forced door, replays the recording through the
// rules running now and reads the incident and who would have been told; a hand-written recording
// uploaded as a file replays too; an operator is kept out; all of it under the console's CSP.

const INTEGRATOR = 'workbench-integrator-token-0123456789abcdef';
const OPERATOR = 'workbench-operator-token-0123456789abcdef';
const SITE_ZONE = 'Europe/Paris';
/** An integrator's words are shown as text: markup in a recording's name stays letters. */
const NAME = 'forced door test <img src=x onerror="window.__xss = 1">';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** What a `datetime-local` input shows for an instant on the site's clock (the console's choice). */
function siteInput(ms: number): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: SITE_ZONE,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(ms);
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  // As the browser gives an input's value back: no seconds when they are zero.
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}${p.second === '00' ? '' : `:${p.second}`}`;
}

const PAGE_HOOKS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI),
  );
`;

describe('console workbench in a real browser', () => {
  const dir = tempDir('vigie-console-wb-');
  const clients: MqttClient[] = [];
  const pageErrors: string[] = [];
  const contexts: BrowserContext[] = [];
  let gw: GatewayProcess;
  let browser: Browser;
  let page: Page;
  let base: string;
  let recordingId = '';

  const newPage = async () => {
    // The browser's own zone differs from the site's: times must follow the site, as the console does.
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      timezoneId: 'America/New_York',
      acceptDownloads: true,
    });
    contexts.push(context);
    await context.addInitScript(PAGE_HOOKS);
    const p = await context.newPage();
    p.on('pageerror', (err) => pageErrors.push(err.message));
    return p;
  };
  const signIn = async (p: Page, token: string) => {
    await p.goto(`${base}/`);
    await p.fill('[data-testid=login-token]', token);
    await p.click('[data-testid=login-submit]');
    await p.waitForSelector('[data-testid=conn][data-state=live]');
  };
  const row = (text: string) => page.locator('[data-testid=wb-recording]', { hasText: text });
  const lines = (kind?: string) =>
    page.locator(kind ? `[data-testid=wb-line][data-kind=${kind}]` : '[data-testid=wb-line]');
  const replayDone = async () => {
    const status = page.locator('[data-testid=wb-status]');
    await eventually(
      'the replay to finish',
      async () => ['ok', 'warn'].includes((await status.getAttribute('data-tone')) ?? ''),
      30_000,
    );
    assert.equal(await status.getAttribute('data-tone'), 'ok', (await status.textContent()) ?? '');
  };

  before(async () => {
    gw = new GatewayProcess(dir, {
      // An SMS channel, so a replay has people to text (nothing here sends one: it points nowhere).
      channels: {
        sms: {
          type: 'sms',
          baseUrl: 'http://127.0.0.1:9',
          accountSid: 'AC0',
          authToken: 'x',
          from: '+33600000000',
        },
      },
      auth: {
        tokens: [
          { name: 'rules-team', role: 'integrator', sha256: sha256(INTEGRATOR) },
          { name: 'ops-console', role: 'operator', sha256: sha256(OPERATOR) },
        ],
      },
    });
    await gw.start(60_000);
    base = `http://127.0.0.1:${gw.httpPort}`;
    browser = await launchChromium();
    page = await newPage();
  });

  after(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.stop();
  });

  test('an operator has no workbench tab, and the view opened by its address says why', async () => {
    const p = await newPage();
    await signIn(p, OPERATOR);
    assert.equal(await p.isHidden('[data-testid=nav-workbench]'), true);
    await p.goto(`${base}/console/#/workbench`);
    const denied = p.locator('[data-testid=wb-denied]');
    await denied.waitFor();
    assert.match((await denied.textContent()) ?? '', /integrator or admin/);
    assert.equal(await p.locator('[data-testid=wb-start]').isVisible(), false, 'no form to use');
    // The gateway agrees: the console's hiding is a courtesy, not the lock.
    assert.equal((await gw.request('GET', '/recordings', undefined, OPERATOR)).status, 403);
  });

  test('an integrator records a forced door and stops the recording', async () => {
    await signIn(page, INTEGRATOR);
    await page.click('[data-testid=nav-workbench]');
    await page.waitForSelector('[data-testid=workbench]');
    await page.fill('[data-testid=wb-name]', NAME);
    await page.fill('[data-testid=wb-devices]', 'door-staff-b');
    await page.click('[data-testid=wb-start]');
    const rec = row('forced door test');
    await page.waitForSelector('[data-testid=wb-recording][data-state=recording]');
    recordingId = (await rec.getAttribute('data-id')) ?? '';
    assert.match(recordingId, /^rec_/);
    assert.match((await rec.textContent()) ?? '', /door-staff-b/, 'the selection shows');
    assert.ok(((await rec.textContent()) ?? '').includes(NAME), 'the name as it was typed');
    assert.equal(await page.locator('[data-testid=workbench] img').count(), 0, 'no element made from it');
    assert.equal(await page.evaluate('window.__xss'), undefined, 'no script ran');

    const door = await mqtt.connectAsync(gw.mqttUrl, {
      username: 'door-staff-b',
      password: 'demo-door-staff-b',
      reconnectPeriod: 0,
    });
    clients.push(door);
    await door.publishAsync(
      'vigie/airport/door/door-staff-b',
      JSON.stringify({ open: true, ts: Date.now() }),
      {
        qos: 1,
      },
    );
    await eventually('the live incident', async () => {
      const r = await gw.get('/incidents?device=door-staff-b&rule=door-forced&limit=1');
      return r.incidents.length === 1;
    });
    // The list follows a running recording on its own (no reload, no click).
    await eventually(
      'the event counted in the list',
      async () =>
        Number((await rec.locator('[data-testid=wb-events]').textContent())?.match(/\d+/)?.[0]) >= 1,
      15_000,
    );
    await rec.locator('[data-testid=wb-stop]').click();
    await page.waitForSelector(`[data-testid=wb-recording][data-id=${recordingId}][data-state=stopped]`);
    await page.locator('[data-testid=toast][data-tone=ok]', { hasText: 'Recording stopped' }).waitFor();
  });

  test('replaying the recorded window shows the forced door, its opening and its notifications', async () => {
    await row('forced door test').locator('[data-testid=wb-pick]').click();
    assert.equal(await page.inputValue('[data-testid=wb-recording-select]'), recordingId);
    const info = (await gw.get('/recordings')).recordings.find((r: any) => r.id === recordingId);
    assert.ok(info.stoppedAt > info.startedAt);
    // The window defaults to the whole recording, on the site's clock (not the browser's).
    assert.equal(
      await page.inputValue('[data-testid=wb-from]'),
      siteInput(Math.floor(info.startedAt / 1000) * 1000),
    );
    assert.equal(
      await page.inputValue('[data-testid=wb-to]'),
      siteInput(Math.ceil(info.stoppedAt / 1000) * 1000),
    );

    await page.click('[data-testid=wb-replay-run]');
    await replayDone();
    const incident = page.locator(
      '[data-testid=wb-incident][data-rule=door-forced][data-device=door-staff-b]',
    );
    await incident.waitFor();
    assert.equal(await incident.getAttribute('data-severity'), 'major');
    assert.match((await incident.textContent()) ?? '', /Door forced.*Staff corridor B/s);
    assert.match(
      (await page.textContent('[data-testid=wb-sum-incidents]')) ?? '',
      /Incidents\s*1.*Major\s*1/s,
    );

    const opened = lines('opened').filter({ hasText: 'door-forced on door-staff-b' });
    assert.equal(await opened.count(), 1, 'the opening, with the rule and the device');
    assert.equal(await opened.getAttribute('data-severity'), 'major');
    const sent = await lines('notification').allTextContents();
    assert.ok(
      sent.some((l) => /console to Security desk \(team:security\)/.test(l)),
      `the security desk's board: ${sent.join(' | ')}`,
    );
    // The view draws every line the gateway's replay gives, in its order.
    const api = await gw.request('POST', '/replays', { recording: recordingId });
    assert.equal(api.status, 200, JSON.stringify(api.json));
    const shown = await lines().evaluateAll((els: any[]) => els.map((e) => e.dataset.kind));
    assert.deepEqual(
      shown,
      api.json.timeline.map((l: any) => l.kind),
    );
    // Times: the offset from the start of the replay, and the site's clock.
    const first = api.json.timeline[0];
    assert.match((await lines().first().locator('.wb-offset').textContent()) ?? '', /^\+0:00:\d\d$/);
    const clock = new Intl.DateTimeFormat('en', {
      timeZone: SITE_ZONE,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).format(first.at);
    assert.equal(await lines().first().locator('.tl-time').textContent(), clock);

    // Per team or person and channel, with the text each would have received.
    const desk = page.locator(
      '[data-testid=wb-notification-group][data-to="team:security"][data-channel=console]',
    );
    await desk.locator('summary').click();
    assert.match(
      (await desk.locator('[data-testid=wb-message]').first().textContent()) ?? '',
      /Staff corridor B/,
    );
  });

  test('the timeline narrows to one incident and back, from the keyboard', async () => {
    const all = await lines().count();
    const incident = page.locator('[data-testid=wb-incident]').first();
    const key = (await incident.getAttribute('data-key')) ?? '';
    await incident.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector(`[data-testid=wb-incident][data-key="${key}"][aria-pressed=true]`);
    const keys = await lines().evaluateAll((els: any[]) => els.map((e) => e.dataset.incident));
    assert.ok(keys.length > 0 && keys.every((k) => k === key), 'only that incident');
    await page.click('[data-testid=wb-incident-all]');
    await eventually('every line back', async () => (await lines().count()) === all);
  });

  test('the recording downloads as JSON lines without credentials', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row('forced door test').locator('[data-testid=wb-download]').click(),
    ]);
    assert.match(download.suggestedFilename(), /^forced-door-test-img-src-x-onerror[\w.-]*\.jsonl$/);
    const text = readFileSync((await download.path())!, 'utf8');
    const [header, ...rest] = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(header.vigie, 'recording');
    assert.equal(header.site, 'airport');
    assert.ok(
      rest.some((l) => l.d === 'door-staff-b' && l.v?.open === true),
      'the door event',
    );
    assert.doesNotMatch(text, /password|scrypt|demo-door/i);
  });

  test('an uploaded hand-written recording replays: an AED taken out, escalated, the teams called', async () => {
    const t0 = Date.parse('2026-03-14T09:00:00Z');
    const file = join(dir, 'aed-hall-b.jsonl');
    writeFileSync(
      file,
      [
        {
          vigie: 'recording',
          version: 1,
          site: 'airport',
          id: 'rec_hand',
          segment: 1,
          startedAt: t0,
          selection: {},
          kinds: { 'aed-hall-b': 'aed' },
        },
        { t: t0 + 5000, d: 'aed-hall-b', v: { present: false, cabinetOpen: true } },
        { end: t0 + 90_000, events: 1 },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    await page.check('[data-testid=wb-source-file]');
    await page.setInputFiles('[data-testid=wb-file]', file);
    await page.click('[data-testid=wb-replay-run]');
    await replayDone();
    const incident = page.locator('[data-testid=wb-incident][data-rule=aed-removed][data-device=aed-hall-b]');
    await incident.waitFor();
    assert.equal(await incident.getAttribute('data-severity'), 'critical');
    assert.equal(await page.locator('[data-testid=wb-incident]').count(), 1, 'only that incident');
    const opened = lines('opened');
    assert.match((await opened.textContent()) ?? '', /aed-removed on aed-hall-b/);
    assert.equal(await opened.locator('.wb-offset').textContent(), '+0:00:05', 'five seconds in');
    assert.equal(await opened.locator('.tl-time').textContent(), '10:00:05', 'the site is on Paris time');
    assert.ok((await lines('escalated').count()) >= 1, 'nobody acknowledged: it escalates');
    const sent = await lines('notification').allTextContents();
    assert.ok(
      sent.some((l) => l.includes('sms to Fire and rescue desk (person:emergency-desk)')),
      sent.join(' | '),
    );
    // Each person texted, each board shown, and the supervisors once it escalated.
    const group = (to: string, channel: string) =>
      page.locator(`[data-testid=wb-notification-group][data-to="${to}"][data-channel=${channel}]`);
    for (const [to, channel] of [
      ['person:emergency-desk', 'sms'],
      ['person:sec-amina', 'sms'],
      ['person:sec-lucas', 'sms'],
      ['team:emergency', 'console'],
      ['person:sec-claire', 'sms'],
    ]) {
      assert.equal(await group(to, channel).count(), 1, `${channel} to ${to}`);
    }
    const claire = group('person:sec-claire', 'sms');
    await claire.locator('summary').click();
    assert.match(
      (await claire.locator('[data-testid=wb-message]').first().textContent()) ?? '',
      /AED cabinet Hall B/,
    );
    assert.match((await page.textContent('[data-testid=wb-sum-span]')) ?? '', /1 min 30 s/);
  });

  test('a file that is not a recording is refused with the reason', async () => {
    const file = join(dir, 'notes.jsonl');
    writeFileSync(file, 'this is not a recording\n');
    await page.setInputFiles('[data-testid=wb-file]', file);
    await page.click('[data-testid=wb-replay-run]');
    const status = page.locator('[data-testid=wb-status][data-tone=warn]');
    await status.waitFor();
    assert.match((await status.textContent()) ?? '', /cannot be replayed/);
    assert.equal(await status.getAttribute('role'), 'alert');
    // The previous result stays on screen.
    await page.locator('[data-testid=wb-incident][data-rule=aed-removed]').waitFor();
  });

  test('in French', async () => {
    await page.selectOption('[data-testid=lang]', 'fr');
    assert.equal(await page.textContent('[data-testid=nav-workbench]'), 'Atelier');
    await page.locator('h2', { hasText: 'Atelier des règles' }).waitFor();
    await page.locator('h2', { hasText: 'Ce qu’auraient fait les règles' }).waitFor();
    assert.equal(await lines('opened').locator('.wb-kind').textContent(), 'Ouvert');
    assert.match((await row('forced door test').textContent()) ?? '', /arrêté/);
    await page.selectOption('[data-testid=lang]', 'en');
  });

  test('on a phone (360 x 740) the workbench and a replayed timeline fit the width', async () => {
    const context = await browser.newContext({
      viewport: { width: 360, height: 740 },
      isMobile: true,
      hasTouch: true,
      timezoneId: 'America/New_York',
    });
    contexts.push(context);
    const phone = await context.newPage();
    phone.on('pageerror', (err) => pageErrors.push(err.message));
    await signIn(phone, INTEGRATOR);
    await phone.click('[data-testid=nav-workbench]');
    await phone.locator('[data-testid=wb-recording]').first().waitFor();
    await phone.click('[data-testid=wb-replay-run]');
    await phone.locator('[data-testid=wb-line]').first().waitFor();
    const r = (await phone.evaluate(
      '({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })',
    )) as { scroll: number; width: number };
    assert.ok(r.scroll <= r.width, `no sideways scrolling (${r.scroll} > ${r.width})`);
    const run = (await phone.locator('[data-testid=wb-replay-run]').boundingBox())!;
    assert.ok(run.height >= 44, `a thumb-sized button (${run.height} px)`);
  });

  test('deleting a recording takes a second tap', async () => {
    const del = row('forced door test').locator('[data-testid=wb-delete]');
    await del.click();
    assert.match((await del.textContent()) ?? '', /Tap again to delete/);
    assert.equal((await gw.get('/recordings')).recordings.length, 1, 'one tap is not enough');
    await del.click();
    await row('forced door test').waitFor({ state: 'detached' });
    assert.equal((await gw.get('/recordings')).recordings.length, 0);
    await page.locator('[data-testid=wb-no-recordings]').waitFor();
  });

  test('all of it ran under the strict CSP, without a script error', async () => {
    assert.deepEqual(await page.evaluate('window.__cspViolations'), []);
    assert.deepEqual(pageErrors, []);
  });
});
