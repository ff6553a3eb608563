import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { startSmtp } from './support/engage-site.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { eventually, GatewayProcess, ROOT, tempDir } from './support/gateway-process.js';
import { freePort } from './support/ports.js';
import { PASSWORD, PHONES, SITE, writeServiceSite } from './support/service-site.js';

// The technician's side of a dispatch, as the technician lives it: the SMS link opened in a phone
// browser (headless Chromium at 360 x 740), in the console's look, tapped through accept, on my
// way, arrived and resolved. `VIGIE_SCREENSHOT_DIR=docs` refreshes the README's picture.

const ARTIFACTS = process.env.VIGIE_ARTIFACTS ?? join(ROOT, '.tmp/artifacts');

describe('technician job page in a phone browser', () => {
  let twilio: FakeTwilio;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let gw: GatewayProcess;
  let browser: Browser;
  let page: Page;
  let base: string;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    twilio = await FakeTwilio.start();
    smtp = await startSmtp();
    const dir = tempDir('vigie-jobpage-');
    const files = await writeServiceSite(dir, { offerTimeout: '10m' });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gw = new GatewayProcess(dir, {
      site: files.site,
      rules: files.rules,
      http: { port, publicUrl: base },
      channels: {
        sms: {
          type: 'sms',
          baseUrl: twilio.baseUrl,
          accountSid: twilio.accountSid,
          authToken: twilio.authToken,
          from: '+15005550006',
          backoff: '300ms',
        },
        email: {
          type: 'email',
          host: '127.0.0.1',
          port: smtp.port,
          ignoreTLS: true,
          from: 'vigie@mall.example',
        },
      },
      crm: { type: 'directory', csv: files.csv },
    });
    await gw.start();
    browser = await launchChromium();
    page = await browser.newPage({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
  });

  after(async () => {
    await browser?.close();
    await gw?.stop();
    await twilio?.close();
    await smtp?.close();
  });

  test('the SMS link opens a phone-sized page in the console look, and every step is one tap', async () => {
    const device = await mqtt.connectAsync(gw.mqttUrl, { username: 'sensors', password: PASSWORD });
    await device.publishAsync(
      `vigie/${SITE}/appliance/coffee-1`,
      JSON.stringify({ serial: 'WM-0042', status: 'fault', code: 'E21' }),
      { qos: 1 },
    );
    await device.endAsync();
    const offer = await eventually('the job offer by SMS', () =>
      twilio.messages.find((m) => m.to === PHONES.near),
    );
    const m = new RegExp(`${base}/j/[A-Za-z0-9_.-]+`).exec(offer.body);
    assert.ok(m, `a job link in: ${offer.body}`);

    await page.goto(m[0]);
    // The console's own stylesheet, inlined: one request on a weak signal, the same look.
    const css = await page.locator('style').textContent();
    assert.equal(css, readFileSync(join(ROOT, 'dashboards/console/theme.css'), 'utf8'));
    assert.equal(await page.locator('body').getAttribute('class'), 'job');
    assert.match((await page.locator('h1').textContent()) ?? '', /Espresso machine/);

    const fits = async () => {
      // Runs in the page (a string: this file is compiled without the DOM's types).
      const r = (await page.evaluate(`({
        scroll: document.documentElement.scrollWidth,
        width: window.innerWidth,
        buttons: [...document.querySelectorAll('button')].map((b) => {
          const box = b.getBoundingClientRect();
          return { h: box.height, w: box.width, font: parseFloat(getComputedStyle(b).fontSize) };
        }),
      })`)) as { scroll: number; width: number; buttons: { h: number; w: number; font: number }[] };
      assert.ok(r.scroll <= r.width, `no sideways scrolling (${r.scroll} > ${r.width})`);
      for (const b of r.buttons) {
        assert.ok(b.h >= 44, `a thumb-sized button (${b.h} px high)`);
        assert.ok(b.font >= 16, `readable at arm's length (${b.font} px)`);
      }
      return r.buttons.length;
    };
    assert.equal(await fits(), 2, 'accept and decline');
    const shot = join(ARTIFACTS, 'technician-job-phone.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, 'the screenshot has content');
    if (process.env.VIGIE_SCREENSHOT_DIR)
      copyFileSync(shot, join(ROOT, process.env.VIGIE_SCREENSHOT_DIR, 'technician-job-phone.png'));

    for (const action of ['accept', 'enroute', 'arrived', 'resolved'] as const) {
      await page.locator(`button.${action}`).click();
      await page.waitForURL(new RegExp(`\\?done=${action}$`));
      assert.ok(await page.locator('p.ok').isVisible(), `a confirmation after ${action}`);
      await fits();
    }
    assert.equal(await page.locator('button').count(), 0, 'nothing left to tap once resolved');
    const job = await eventually('the job resolved on the API', async () => {
      const [j] = (await gw.get('/jobs')).jobs;
      return j?.state === 'resolved' ? j : undefined;
    });
    assert.equal(job.technician.id, 'tech-near');
  });
});
