import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { EXAMPLE_RULES, eventually, GatewayProcess, ROOT, tempDir } from './support/gateway-process.js';

// The live console as the people in the control room use it, in a real headless Chromium against
// a real gateway on the airport example: sign in, see a forced door appear within a second of the
// sensor's message, acknowledge it with your name, an AED taken out of its cabinet at the top with
// a banner and beeps, a viewer refused, devices, the plan, a chart of values sent earlier, French,
// a phone, and a lost connection caught up. `VIGIE_SCREENSHOT_DIR=docs` refreshes the README's
// pictures (docs/console-*.png).

const ARTIFACTS = process.env.VIGIE_ARTIFACTS ?? join(ROOT, '.tmp/artifacts');
const OPERATOR = 'console-operator-token-0123456789abcdef';
const VIEWER = 'console-viewer-token-0123456789abcdef';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Runs in every page before the console's own script: counts the oscillators the alarm starts (the
 * beeps), and lets a test hold the WebSocket down (new sockets go nowhere) to play a lost link.
 */
const PAGE_HOOKS = `
  window.__oscillatorStarts = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__oscillatorStarts++;
    return start.apply(this, args);
  };
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI),
  );
  window.__blockStream = false;
  window.__blockedAttempts = 0;
  window.__sockets = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      // Held down: the gateway answers 404 to an upgrade anywhere but the stream's path.
      if (window.__blockStream) window.__blockedAttempts++;
      super(window.__blockStream ? String(url).replace('/api/v1/stream', '/api/v1/held-down') : url, protocols);
      window.__sockets.push(this);
    }
  };
`;

/** A camera's snapshot URL answered with a picture, so the detail shows what a guard would see. */
function cameraServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const name = (req.url ?? '').replace(/[^a-z0-9-]/gi, ' ').trim();
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360" viewBox="0 0 640 360">` +
      `<rect width="640" height="360" fill="#2b3440"/><rect x="40" y="60" width="200" height="260" fill="#3d4a5a"/>` +
      `<rect x="300" y="120" width="120" height="200" fill="#c62828"/><circle cx="360" cy="190" r="28" fill="#fff"/>` +
      `<text x="20" y="34" fill="#e7ecf2" font-family="monospace" font-size="22">${name} · REC</text></svg>`;
    res.writeHead(200, { 'Content-Type': 'image/svg+xml', 'Content-Length': Buffer.byteLength(svg) });
    res.end(svg);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('live console in a real browser', () => {
  const dir = tempDir('vigie-console-');
  const rules = join(dir, 'rules');
  const clients: MqttClient[] = [];
  let gw: GatewayProcess;
  let camera: Server;
  let browser: Browser;
  let page: Page;
  let base: string;

  const device = async (id: string) => {
    const c = await mqtt.connectAsync(gw.mqttUrl, {
      username: id,
      password: `demo-${id}`,
      reconnectPeriod: 0,
    });
    clients.push(c);
    return c;
  };
  const publish = (c: MqttClient, topic: string, body: unknown) =>
    c.publishAsync(topic, JSON.stringify(body), { qos: 1 });
  const shot = async (p: Page, name: string, fullPage = false) => {
    const path = join(ARTIFACTS, name);
    // Down to the last card when the page is shorter than the window: no empty band in the README.
    const bottom = (await p.evaluate(
      `Math.max(...[...document.querySelectorAll('main *')].map((e) => e.getBoundingClientRect().bottom)) + 16`,
    )) as number;
    const size = p.viewportSize()!;
    const clip = fullPage
      ? undefined
      : { x: 0, y: 0, width: size.width, height: Math.min(size.height, bottom) };
    await p.screenshot({ path, fullPage, clip, animations: 'disabled' });
    assert.ok(statSync(path).size > 10_000, `${name} has content`);
    if (process.env.VIGIE_SCREENSHOT_DIR)
      copyFileSync(path, join(ROOT, process.env.VIGIE_SCREENSHOT_DIR, name));
  };
  const card = (p: Page, text: string) => p.locator('[data-testid=incident-card]', { hasText: text });
  const incidentOf = async (deviceId: string, rule: string) =>
    (await gw.get(`/incidents?device=${deviceId}&rule=${rule}&limit=1`)).incidents[0];
  const signIn = async (p: Page, token: string, name?: string) => {
    await p.goto(`${base}/`);
    await p.fill('[data-testid=login-token]', token);
    if (name) await p.fill('[data-testid=login-operator]', name);
    await p.click('[data-testid=login-submit]');
    await p.waitForSelector('[data-testid=conn][data-state=live]');
  };
  const pageErrors: string[] = [];
  const newPage = async (opts: Parameters<Browser['newContext']>[0] = {}) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...opts });
    await context.addInitScript(PAGE_HOOKS);
    const p = await context.newPage();
    p.on('pageerror', (err) => pageErrors.push(err.message));
    return { context, page: p };
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    camera = await cameraServer();
    const cam = `http://127.0.0.1:${(camera.address() as AddressInfo).port}/`;
    cpSync(EXAMPLE_RULES, rules, { recursive: true });
    const site = join(rules, 'site.yaml');
    writeFileSync(site, readFileSync(site, 'utf8').replaceAll('http://127.0.0.1:8554/', cam));
    gw = new GatewayProcess(dir, {
      rules,
      site,
      auth: {
        tokens: [
          { name: 'ops-console', role: 'operator', sha256: sha256(OPERATOR) },
          { name: 'night-watch', role: 'viewer', sha256: sha256(VIEWER) },
        ],
      },
      // Every reading kept, so the chart has all the values the test sent.
      telemetry: { history: { minInterval: '1ms' } },
      crm: { type: 'directory', csv: join(rules, 'customers.csv') },
    });
    await gw.start(60_000);
    base = `http://127.0.0.1:${gw.httpPort}`;
    // Readings from the last few minutes, before anyone opens the console: the chart must show them.
    const temp = await device('temp-hall-b');
    const now = Date.now();
    for (let k = 11; k >= 0; k--) {
      const celsius = Math.round((21 + 1.5 * Math.sin(k / 2)) * 10) / 10;
      await publish(temp, 'vigie/airport/temperature/temp-hall-b', {
        celsius,
        battery: 14,
        ts: now - k * 15_000,
      });
    }
    browser = await launchChromium();
    ({ page } = await newPage());
  });

  after(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    await browser?.close();
    await gw?.stop();
    await new Promise((r) => camera?.close(r));
  });

  test('an operator signs in and a forced door is on the board within a second of the sensor message', async () => {
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/console\/$/, 'the gateway sends a browser to the console');
    await page.fill('[data-testid=login-token]', 'not-a-token-of-this-gateway');
    await page.click('[data-testid=login-submit]');
    await page.waitForSelector('[data-testid=login-error]:visible');
    await signIn(page, OPERATOR, 'Alice');
    assert.equal(await page.textContent('[data-testid=site-name]'), 'Airport Terminal 2');
    assert.match((await page.textContent('[data-testid=who]')) ?? '', /ops-console.*operator.*Alice/s);

    const door = await device('door-staff-b');
    // The page notes when the card shows up, on its own clock (the same machine's).
    // (The comma: evaluate would otherwise wait for the promise itself.)
    await page.evaluate(`(window.__seen = new Promise((resolve) => {
      const check = () => [...document.querySelectorAll('[data-testid=incident-card]')]
        .some((c) => c.textContent.includes('Door forced')) && resolve(Date.now());
      new MutationObserver(check).observe(document.body, { childList: true, subtree: true });
    }), true)`);
    const sent = Date.now();
    await publish(door, 'vigie/airport/door/door-staff-b', { open: true, ts: sent });
    const shown = (await page.evaluate('window.__seen')) as number;
    const latency = shown - sent;
    console.log(`# forced door: MQTT publish to card in the DOM in ${latency} ms`);
    assert.ok(latency < 1000, `the card appeared ${latency} ms after the publish`);
    const c = card(page, 'Door forced');
    assert.equal(await c.getAttribute('data-severity'), 'major');
    assert.equal(await c.getAttribute('data-state'), 'open');
    assert.match((await c.textContent()) ?? '', /Staff corridor B/);
  });

  test('acknowledging from the detail updates the card and the timeline, with the operator name, without a reload', async () => {
    await page.evaluate('window.__samePage = true');
    await card(page, 'Door forced').locator('[data-testid=incident-open]').click();
    const detail = page.locator('[data-testid=detail]');
    await detail.locator('[data-testid=timeline-entry][data-kind=opened]').waitFor();
    assert.match(
      (await detail.locator('[data-testid=detail-title]').textContent()) ?? '',
      /Staff corridor B/,
    );
    // Every notification attempt: channel, person, outcome, latency.
    const note = detail.locator('[data-testid=timeline-entry][data-kind=notification]').first();
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /console to .+: delivered.*\d+(\.\d+)? ms/s);
    assert.ok(
      (await detail.locator('[data-testid=delivery]').count()) >= 1,
      'the deliveries with their status',
    );

    // Operators' text is shown as text: markup in a note stays letters on the screen.
    const xss = '<img src=x onerror="window.__xss = 1">';
    await detail.locator('[data-testid=action-note]').fill(`Guard sent to the corridor ${xss}`);
    await detail.locator('[data-testid=ack]').click();
    const ack = detail.locator('[data-testid=timeline-entry][data-kind=acknowledged]');
    await ack.waitFor();
    assert.match(
      (await ack.textContent()) ?? '',
      /Acknowledged by Alice \(ops-console\).*Guard sent to the corridor <img src=x onerror/s,
    );
    assert.equal(await ack.locator('img').count(), 0, 'no element made from the note');
    assert.equal(await page.evaluate('window.__xss'), undefined, 'no script ran');
    await page.waitForSelector('[data-testid=incident-card][data-state=acknowledged]');
    assert.match((await card(page, 'Door forced').textContent()) ?? '', /Acknowledged by Alice/);
    assert.equal(await page.evaluate('window.__samePage'), true, 'no reload');
    const inc = await incidentOf('door-staff-b', 'door-forced');
    assert.equal(inc.state, 'acknowledged');
    assert.equal(
      inc.acknowledgedBy,
      'token:ops-console/Alice',
      'the audit trail names the token and the person',
    );
  });

  test('an AED taken out goes to the top with a banner naming it and beeps until acknowledged', async () => {
    await page.click('[data-testid=nav-board]');
    const startCount = (await page.evaluate('window.__oscillatorStarts')) as number;
    const aed = await device('aed-hall-b');
    await publish(aed, 'vigie/airport/aed/aed-hall-b', { present: false, cabinetOpen: true, ts: Date.now() });
    const banner = page.locator('[data-testid=critical-banner]');
    await banner.waitFor({ state: 'visible' });
    await eventually('the banner to name the cabinet', async () =>
      /CRITICAL.*AED removed from its cabinet.*AED cabinet Hall B.*Hall B, pillar 14/s.test(
        (await banner.textContent()) ?? '',
      ),
    );
    const first = page.locator('[data-testid=incident-card]').first();
    assert.equal(
      await first.getAttribute('data-severity'),
      'critical',
      'the critical incident is at the top',
    );
    assert.match((await first.textContent()) ?? '', /AED cabinet Hall B/);
    assert.equal(await page.isHidden('[data-testid=sound-blocked]'), true, 'the sign-in click allowed sound');
    const beeps = await eventually('beeps', async () => {
      const n = (await page.evaluate('window.__oscillatorStarts')) as number;
      return n - startCount >= 6 ? n : undefined; // two rounds of three tones
    });
    // Muted: no more beeps; the banner stays.
    await page.click('[data-testid=sound]');
    const muted = (await page.evaluate('window.__oscillatorStarts')) as number;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await page.evaluate('window.__oscillatorStarts'), muted, 'silent once muted');
    assert.ok(muted >= beeps);
    await page.click('[data-testid=sound]');
    await eventually('beeps again once unmuted', async () =>
      ((await page.evaluate('window.__oscillatorStarts')) as number) > muted ? true : undefined,
    );
    await shot(page, 'console-board.png');
  });

  test('a viewer sees acknowledge disabled with the reason, and the gateway refuses it anyway', async () => {
    const viewer = await newPage();
    try {
      await signIn(viewer.page, VIEWER);
      const aed = card(viewer.page, 'AED cabinet Hall B');
      await aed.waitFor();
      const ack = aed.locator('[data-testid=ack]');
      assert.equal(await ack.isDisabled(), true);
      assert.match(
        (await viewer.page.textContent('[data-testid=role-reason]')) ?? '',
        /viewer.*operator token/s,
      );
      // A console that thinks otherwise (a role changed under it) gets the gateway's refusal shown.
      await ack.evaluate((b: any) => {
        b.disabled = false;
      });
      await ack.click();
      const toast = viewer.page.locator('[data-testid=toast][data-tone=error]');
      await toast.waitFor();
      assert.match((await toast.textContent()) ?? '', /Refused by the gateway: .*operator/);
      assert.equal((await incidentOf('aed-hall-b', 'aed-removed')).state, 'open');
    } finally {
      await viewer.context.close();
    }
  });

  test('the AED detail: camera, stream, talk link, location, chart; an acknowledgement by SMS shows live', async () => {
    await card(page, 'AED cabinet Hall B').locator('[data-testid=incident-open]').click();
    const detail = page.locator('[data-testid=detail]');
    await detail.locator('[data-testid=timeline-entry][data-kind=opened]').waitFor();
    const img = detail.locator('[data-testid=snapshot]');
    await eventually('the camera snapshot to load', async () =>
      ((await img.evaluate((i: any) => (i.complete ? i.naturalWidth : 0))) as number) > 0 ? true : undefined,
    );
    assert.equal(
      await detail.locator('[data-testid=stream-link]').getAttribute('href'),
      'rtsp://127.0.0.1:8554/cam-hall-b',
    );
    assert.equal(
      await detail.locator('[data-testid=sip-link]').getAttribute('href'),
      'sip:aed-hall-b@pbx.airport.example',
    );
    assert.match(
      (await detail.locator('[data-testid=location]').textContent()) ?? '',
      /Hall B, pillar 14.*Floor 0/s,
    );
    await detail.locator('[data-testid=chart][data-field=present]').waitFor();

    // Someone else acknowledges (here through the API, as a reply to an SMS would): the detail
    // follows from the stream alone, and the beeps stop.
    const inc = await incidentOf('aed-hall-b', 'aed-removed');
    await page.evaluate('window.__samePage = "aed"');
    const r = await gw.request('POST', `/incidents/${inc.id}/acknowledge`, { by: 'Bob' }, OPERATOR);
    assert.equal(r.status, 200);
    await detail
      .locator('[data-testid=timeline-entry][data-kind=acknowledged]', { hasText: 'Bob' })
      .waitFor();
    assert.match(
      (await detail.locator('[data-testid=detail-ack]').textContent()) ?? '',
      /Acknowledged by Bob \(ops-console\)/,
    );
    await page.locator('[data-testid=critical-banner]').waitFor({ state: 'hidden' });
    const quiet = (await page.evaluate('window.__oscillatorStarts')) as number;
    await new Promise((r2) => setTimeout(r2, 3000));
    assert.equal(await page.evaluate('window.__oscillatorStarts'), quiet, 'no beep once acknowledged');
    assert.equal(await page.evaluate('window.__samePage'), 'aed', 'no reload');
    await shot(page, 'console-incident.png', true);
  });

  test('the device view and the plan show every device; the chart shows the temperatures sent earlier', async () => {
    const devices = (await gw.get('/devices')).devices as any[];
    await page.click('[data-testid=nav-devices]');
    await page.waitForSelector('[data-testid=device]');
    assert.equal(await page.locator('[data-testid=device]').count(), devices.length, 'every device');
    const zones = await page
      .locator('[data-testid=zone]')
      .evaluateAll((els: any[]) => els.map((e) => e.dataset.zone));
    assert.deepEqual(zones, [...new Set(devices.map((d) => d.zone))].sort(), 'grouped by zone');
    const temp = page.locator('[data-testid=device][data-id=temp-hall-b]');
    assert.match((await temp.textContent()) ?? '', /Battery low: 14 %/);
    assert.equal(await temp.getAttribute('data-online'), 'true');
    assert.match(
      (await page.locator('[data-testid=device][data-id=door-g12]').textContent()) ?? '',
      /Offline/,
      'a device that never reported',
    );
    const door = page.locator('[data-testid=device][data-id=door-staff-b]');
    assert.match(
      (await door.getAttribute('data-status')) ?? '',
      /incident-major/,
      'coloured by its incident',
    );
    assert.match((await door.textContent()) ?? '', /Online.*Door open.*open incident/s, 'its last value');

    await temp.click();
    const chart = page.locator('[data-testid=device-panel] [data-testid=chart][data-field=celsius]');
    await chart.waitFor();
    const history = await gw.get('/devices/temp-hall-b/history?field=celsius');
    assert.ok(history.points.length >= 12, `the gateway kept the readings (${history.points.length})`);
    assert.equal(
      await chart.getAttribute('data-points'),
      String(history.points.length),
      'every reading drawn',
    );
    const values = history.points.map((p: [number, number]) => p[1]);
    assert.equal(Number(await chart.getAttribute('data-max')), Math.max(...values));
    assert.equal(Number(await chart.getAttribute('data-min')), Math.min(...values));
    assert.match(
      (await page.textContent('[data-testid=device-panel] [data-testid=chart-source]')) ?? '',
      history.source === 'influx' ? /InfluxDB/ : /gateway/,
    );
    await shot(page, 'console-devices.png');

    await page.click('[data-testid=nav-plan]');
    await page.waitForSelector('[data-testid=plan] [data-testid=plan-device]');
    const floor0 = devices
      .filter((d) => d.location?.floor === 0)
      .map((d) => d.id)
      .sort();
    const placed = await page
      .locator('[data-testid=plan] [data-testid=plan-device]')
      .evaluateAll((els: any[]) => els.map((e) => e.dataset.id).sort());
    assert.deepEqual(placed, floor0, 'floor 0 shows its devices');
    assert.equal(
      await page.getAttribute('[data-testid=plan-device][data-id=aed-hall-b]', 'data-status'),
      'incident-critical',
    );
    await page.click('[data-testid=plan-floor-1]');
    await page.waitForSelector('[data-testid=plan][data-floor="1"]');
    const floor1 = devices.filter((d) => d.location?.floor === 1).length;
    assert.equal(await page.locator('[data-testid=plan] [data-testid=plan-device]').count(), floor1);
    await page.click('[data-testid=plan-floor-0]');
    await page.click('[data-testid=plan-device][data-id=aed-hall-b]');
    await page.waitForSelector('[data-testid=device-panel-name]:has-text("AED cabinet Hall B")');
  });

  test('an appliance fault: the customer from the CRM and the technician offered the job join the detail live', async () => {
    await page.click('[data-testid=nav-board]');
    const coffee = await device('coffee-lounge-1');
    await publish(coffee, 'vigie/airport/appliance/coffee-lounge-1', {
      serial: 'WM-0042',
      status: 'fault',
      code: 'E21',
      ts: Date.now(),
    });
    await card(page, 'Appliance fault').locator('[data-testid=incident-open]').click();
    const detail = page.locator('[data-testid=detail]');
    // The CRM answer and the job offer come after the opening: only the stream brings them here.
    const customer = detail.locator('[data-testid=customer]');
    await customer.waitFor();
    assert.match((await customer.textContent()) ?? '', /Horizon Lounge Services.*\+33612345690.*premium/s);
    assert.equal(await customer.locator('a[href^="tel:"]').getAttribute('href'), 'tel:+33612345690');
    const tech = detail.locator('[data-testid=technician]');
    await tech.waitFor();
    assert.match((await tech.textContent()) ?? '', /Hugo.*offered/s);
    await detail
      .locator('[data-testid=timeline-entry][data-kind=crm]', { hasText: 'Customer found' })
      .waitFor();
    await detail.locator('[data-testid=timeline-entry][data-kind=job]').first().waitFor();
  });

  test('the indicator tiles: open now, time to acknowledge and to resolve, per zone, with their source', async () => {
    await page.click('[data-testid=nav-kpis]');
    const tiles = page.locator('[data-testid=kpis]');
    await tiles.waitFor();
    const k = await gw.get('/kpis');
    assert.equal(await page.textContent('[data-testid=kpi-open] .tile-value'), String(k.open));
    assert.ok(k.mttaMs > 0, 'two acknowledgements so far');
    assert.match(
      (await page.textContent('[data-testid=kpi-mtta] .tile-value')) ?? '',
      /^\d+ (ms|s|min \d+ s)$/,
    );
    assert.equal(await page.getAttribute('[data-testid=kpi-source]', 'data-source'), k.source);
    const zones = await page
      .locator('[data-testid=kpi-zones] tbody tr')
      .evaluateAll((rows: any[]) => rows.map((r) => r.dataset.zone).sort());
    assert.deepEqual(zones, k.zones.map((z: any) => z.zone).sort());
  });

  test('French: the whole console switches, the choice is kept', async () => {
    const missing = (await page.evaluate(`import('./i18n.js').then(({ STRINGS: { en, fr } }) => [
      ...Object.keys(en).filter((k) => !(k in fr)).map((k) => 'fr: ' + k),
      ...Object.keys(fr).filter((k) => !(k in en)).map((k) => 'en: ' + k),
    ])`)) as string[];
    assert.deepEqual(missing, [], 'every text in both languages');
    await page.click('[data-testid=nav-board]');
    await page.selectOption('[data-testid=lang]', 'fr');
    assert.equal(await page.textContent('[data-testid=nav-devices]'), 'Équipements');
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
    await eventually('the cards in French', async () =>
      /Acquitté par Alice/.test((await card(page, 'Door forced').textContent()) ?? ''),
    );
    assert.match((await page.textContent('[data-testid=conn]')) ?? '', /En direct/);
    await page.reload();
    await page.waitForSelector('[data-testid=conn][data-state=live]');
    assert.equal(await page.textContent('[data-testid=nav-board]'), 'Incidents');
    assert.equal(await page.textContent('[data-testid=nav-kpis]'), 'Indicateurs');
    // After a reload the browser wants a new gesture before it plays any sound: the console asks.
    const blocked = page.locator('[data-testid=sound-blocked]');
    await blocked.waitFor({ state: 'visible' });
    assert.match((await blocked.textContent()) ?? '', /Son bloqué/);
    await blocked.click();
    await blocked.waitFor({ state: 'hidden' });
    await page.selectOption('[data-testid=lang]', 'en');
  });

  test('on a phone (360 x 740) the board and the detail fit the width', async () => {
    const phone = await newPage({
      viewport: { width: 360, height: 740 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    try {
      await signIn(phone.page, OPERATOR, 'Alice');
      await card(phone.page, 'AED cabinet Hall B').waitFor();
      const fits = async () => {
        const r = (await phone.page.evaluate(
          '({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })',
        )) as { scroll: number; width: number };
        assert.ok(r.scroll <= r.width, `no sideways scrolling (${r.scroll} > ${r.width})`);
      };
      await fits();
      const ack = card(phone.page, 'AED cabinet Hall B').locator('[data-testid=resolve]');
      const box = (await ack.boundingBox())!;
      assert.ok(box.height >= 44, `a thumb-sized button (${box.height} px)`);
      await shot(phone.page, 'console-phone.png');
      await card(phone.page, 'AED cabinet Hall B').locator('[data-testid=incident-open]').click();
      await phone.page.locator('[data-testid=detail] [data-testid=timeline-entry]').first().waitFor();
      await fits();
      for (const view of ['devices', 'plan', 'kpis']) {
        await phone.page.click(`[data-testid=nav-${view}]`);
        await phone.page.waitForTimeout(300);
        await fits();
      }
    } finally {
      await phone.context.close();
    }
  });

  test('a lost connection shows, and once back the board catches up with what it missed', async () => {
    await page.click('[data-testid=nav-board]');
    await card(page, 'Door forced').waitFor();
    await page.evaluate('window.__blockStream = true; window.__sockets.forEach((s) => s.close())');
    await page.waitForSelector('[data-testid=conn][data-state=reconnecting]');
    // While the console is away: the door is resolved elsewhere and another AED is taken out.
    const inc = await incidentOf('door-staff-b', 'door-forced');
    assert.equal(
      (await gw.request('POST', `/incidents/${inc.id}/resolve`, { by: 'Carol' }, OPERATOR)).status,
      200,
    );
    const gates = await device('aed-gate-g');
    await publish(gates, 'vigie/airport/aed/aed-gate-g', { present: false, ts: Date.now() });
    await eventually(
      'the AED incident',
      async () => (await incidentOf('aed-gate-g', 'aed-removed'))?.state === 'open',
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await card(page, 'Door forced').count(), 1, 'the console cannot know yet');
    assert.equal(await card(page, 'AED cabinet Gates G').count(), 0);
    // At least one reconnection attempt failed while held down: the console kept trying.
    await eventually('a refused reconnection', async () =>
      ((await page.evaluate('window.__blockedAttempts')) as number) > 0 ? true : undefined,
    );
    assert.notEqual(await page.getAttribute('[data-testid=conn]', 'data-state'), 'live');
    await page.evaluate('window.__blockStream = false');
    await page.waitForSelector('[data-testid=conn][data-state=live]', { timeout: 20_000 });
    await card(page, 'Door forced').waitFor({ state: 'detached' });
    await card(page, 'AED cabinet Gates G').waitFor();
    // And live frames flow again on the new socket: the Hall B AED back in its cabinet clears.
    const hall = await device('aed-hall-b');
    await publish(hall, 'vigie/airport/aed/aed-hall-b', { present: true, ts: Date.now() });
    await card(page, 'AED cabinet Hall B').waitFor({ state: 'detached' });
  });

  test('filters by zone, severity and state live in the URL; resolve takes a second tap', async () => {
    await page.click('[data-testid=nav-board]');
    await page.click('[data-testid=filter-severity-critical]');
    await page.waitForURL(/severity=critical/);
    const severities = () =>
      page
        .locator('[data-testid=incident-card]')
        .evaluateAll((els: any[]) => els.map((e) => e.dataset.severity));
    await eventually('critical cards only', async () => {
      const l = await severities();
      return l.length > 0 && l.every((x) => x === 'critical');
    });
    await page.selectOption('[data-testid=filter-zone]', 'gates-g');
    await page.waitForURL(/zone=gates-g/);
    await page.click('[data-testid=filter-state-resolved]');
    await page.waitForURL(/state=open%2Cacknowledged%2Cresolved|state=open,acknowledged,resolved/);
    await page.reload();
    await page.waitForSelector('[data-testid=conn][data-state=live]');
    assert.equal(await page.getAttribute('[data-testid=filter-severity-critical]', 'aria-pressed'), 'true');
    assert.equal(await page.inputValue('[data-testid=filter-zone]'), 'gates-g');
    const gates = card(page, 'AED cabinet Gates G');
    await gates.waitFor();
    // The critical cue is up (and the page has stopped moving) before anyone taps.
    await page.locator('[data-testid=critical-banner]').waitFor({ state: 'visible' });
    assert.equal(await card(page, 'AED cabinet Hall B').count(), 0, 'another zone');

    const resolve = gates.locator('[data-testid=resolve]');
    await resolve.click();
    assert.match((await resolve.textContent()) ?? '', /Tap again to resolve/);
    assert.equal((await incidentOf('aed-gate-g', 'aed-removed')).state, 'open', 'one tap is not enough');
    await resolve.click();
    await page.waitForSelector('[data-testid=incident-card][data-state=resolved]');
    const inc = await incidentOf('aed-gate-g', 'aed-removed');
    assert.equal(inc.state, 'resolved');
    assert.equal(inc.resolvedBy, 'token:ops-console/Alice');
    await page.click('[data-testid=filter-clear]');
    await page.waitForURL(/#\/board$/);
    await card(page, 'AED cabinet Gates G').waitFor({ state: 'detached' });
  });

  test('signing out forgets the token', async () => {
    await page.click('[data-testid=logout]');
    await page.waitForSelector('[data-testid=login-form]:visible');
    assert.equal(await page.evaluate("sessionStorage.getItem('vigie.console.session')"), null);
    await page.reload();
    await page.waitForSelector('[data-testid=login-form]:visible');
  });

  test('all of it ran under the strict CSP, without a script error', async () => {
    const res = await fetch(`${base}/console/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.deepEqual(await page.evaluate('window.__cspViolations'), [], 'nothing blocked by the CSP');
    assert.deepEqual(pageErrors, [], 'no uncaught error in any page');
  });
});
