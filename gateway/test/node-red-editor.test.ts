import assert from 'node:assert/strict';
import { copyFileSync, cpSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { hashPassword } from '../src/listen/credentials.js';
import {
  ADMIN_TOKEN,
  EXAMPLE_RULES,
  eventually,
  GatewayProcess,
  tempDir,
} from './support/gateway-process.js';

// The Node-RED editor as an integrator sees it, in a real headless Chromium: log in to the
// gateway's /red, find the five example flows running (every node valid, every rule's status
// badge green), and see bad input flagged in the edit dialog before any deploy.
// `VIGIE_SCREENSHOT=docs/node-red-example-flow.png npm test -- node-red-editor` refreshes the
// README's picture from this very test.

const EXAMPLES = join(EXAMPLE_RULES, '../node-red/examples');
const USER = { username: 'integrator', password: 'editor-password-for-tests' };

type FlowNode = Record<string, unknown> & { id: string; type: string; z?: string };

function exampleFlows(): FlowNode[] {
  const byId = new Map<string, FlowNode>();
  for (const f of readdirSync(EXAMPLES).sort()) {
    for (const n of JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[]) byId.set(n.id, n);
  }
  return [...byId.values()];
}

describe('Node-RED editor in a real browser', () => {
  const dir = tempDir('vigie-nr-editor-');
  const rules = join(dir, 'rules');
  const flows = exampleFlows();
  let gw: GatewayProcess;
  let browser: Browser;
  let page: Page;

  before(async () => {
    // The five example flows author every example rule: the rule directory keeps only the site.
    cpSync(EXAMPLE_RULES, rules, { recursive: true });
    for (const f of readdirSync(rules)) if (f !== 'site.yaml' && f.endsWith('.yaml')) rmSync(join(rules, f));
    gw = new GatewayProcess(dir, {
      rules,
      site: join(rules, 'site.yaml'),
      channels: {
        'ops-webhook': { type: 'webhook', url: 'http://127.0.0.1:9/unused', secret: 'x'.repeat(32) },
      },
      nodeRed: {
        enabled: true,
        users: [{ username: USER.username, passwordHash: await hashPassword(USER.password) }],
      },
    });
    await gw.start(60_000);
    const res = await eventually(
      'the example flows deployed',
      async () => {
        const r = await fetch(`http://127.0.0.1:${gw.httpPort}/red/flows`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${ADMIN_TOKEN}`,
            'content-type': 'application/json',
            'node-red-deployment-type': 'full',
          },
          body: JSON.stringify(flows),
        });
        return r.status === 200 || r.status === 204 ? r : undefined;
      },
      60_000,
      500,
    );
    assert.ok(res);
    await eventually('the nine example rules from the flows', async () => {
      const l = ((await gw.get('/rules')).rules as any[]).filter((r) =>
        String(r.file).startsWith('node-red:'),
      );
      return l.length === 9;
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1900, height: 700 } });
  });

  after(async () => {
    await browser?.close();
    await gw.stop();
  });

  test('the editor asks for a login, then shows the door flow with every node valid and running', async () => {
    await page.goto(`http://127.0.0.1:${gw.httpPort}/red/`);
    await page.fill('#node-dialog-login-username', USER.username);
    await page.fill('#node-dialog-login-password', 'not the password');
    await page.click('#node-dialog-login-submit');
    await page.waitForSelector('#node-dialog-login-failed', { state: 'visible' });
    await page.fill('#node-dialog-login-password', USER.password);
    await page.click('#node-dialog-login-submit');
    await page.waitForSelector('#red-ui-tab-vigie-example-doors', { timeout: 30_000 });
    await page.click('#red-ui-tab-vigie-example-doors');
    const doorNodes = flows.filter((n) => n.z === 'vigie-example-doors' && n.type !== 'comment');
    for (const n of doorNodes) await page.waitForSelector(`g[id="${n.id}"]`, { timeout: 10_000 });
    // The red triangle Node-RED draws on a node whose configuration does not validate.
    const invalid = await page.$$eval('.red-ui-flow-node-error', (els) =>
      els.filter((e) => !e.classList.contains('hide')).map((e) => e.closest('g[id]')?.id),
    );
    assert.deepEqual(invalid, [], `nodes flagged invalid: ${invalid.join(', ')}`);
    // The status badge under each rule's condition node, set by the gateway's answer to the deploy.
    for (const id of ['door-held-open', 'door-forced', 'door-outside-hours']) {
      const sel = `g[id="${id}-condition"] .red-ui-flow-node-status-label`;
      await page.waitForFunction(
        `document.querySelector('${sel}')?.textContent?.includes('running') === true`,
        undefined,
        {
          timeout: 10_000,
        },
      );
    }
    const shot = join(dir, 'node-red-example-flow.png');
    // The whole flow, without the sidebar: what the README shows.
    await page.keyboard.press('Control+Space');
    const box = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
    await page.screenshot({ path: shot, clip: { x: box.x, y: box.y, width: box.width, height: 340 } });
    assert.ok(statSync(shot).size > 10_000, 'the screenshot has content');
    if (process.env.VIGIE_SCREENSHOT) copyFileSync(shot, process.env.VIGIE_SCREENSHOT);
  });

  test('the edit dialog flags a bad duration, a bad threshold and an unknown device before deploy', async () => {
    const edit = async (nodeId: string) => {
      await page.dblclick(`g[id="${nodeId}"] .red-ui-flow-node`);
      await page.waitForSelector('#node-dialog-ok', { state: 'visible' });
    };
    // Plain inputs are typed into; typed inputs (numbers) hide theirs behind a visible one and
    // carry the error mark on their container.
    const flagged = async (input: string, value: string) => {
      const typed = await page.$eval(input, (e) => e.getAttribute('type') === 'hidden');
      const container = `${input} + .red-ui-typedInput-container`;
      const field = typed ? `${container} input.red-ui-typedInput-input` : input;
      await page.fill(field, value);
      await page.press(field, 'Tab');
      return page.$eval(typed ? container : input, (e) => e.classList.contains('input-error'));
    };
    await edit('door-held-open-condition');
    assert.equal(await flagged('#node-input-for', 'thirty seconds'), true, 'a bad duration is flagged');
    assert.equal(await flagged('#node-input-for', '45s'), false, 'a good duration is not');
    await page.click('#node-dialog-cancel');

    await page.click('#red-ui-tab-vigie-example-temperature');
    await edit('temperature-out-of-range-condition');
    assert.equal(await flagged('#node-input-above', 'warm'), true, 'a threshold that is not a number');
    assert.equal(await flagged('#node-input-above', '28'), false);
    await page.click('#node-dialog-cancel');

    await edit('public-areas-listen');
    assert.equal(await flagged('#node-input-ids', 'temp-nowhere'), true, 'a device the site does not have');
    assert.equal(await flagged('#node-input-ids', 'temp-hall-b'), false, 'a device of the site');
    await page.click('#node-dialog-cancel');
  });
});
