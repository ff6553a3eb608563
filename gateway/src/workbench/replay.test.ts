import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Scalar } from '../../../rules/src/model.js';
import { loadConfig } from '../config/load.js';
import type { RecordedAction, RecordedEvent, RecordedItem, ReplayResult } from './model.js';
import { encodeAction, encodeEnd, encodeEvent, encodeHeader } from './recording.js';
import { replayFile, replayItems } from './replay.js';
import { loadWorkbench, type Workbench } from './setup.js';

// Replays through the example airport rules and site, on the virtual clock. Tuesday 6 January 2026,
// 10:00 in Paris: the security-duty rotation (weekly from Monday 5 January 08:00) has Amina on call.

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '../../../..');
const EXAMPLES = join(ROOT, 'rules/examples');
const SITE = join(EXAMPLES, 'site.yaml');
const T0 = Date.UTC(2026, 0, 6, 9, 0, 0);
const s = (n: number) => T0 + n * 1000;

function ev(at: number, deviceId: string, values: Record<string, Scalar>): RecordedEvent {
  return { type: 'event', receivedAt: at, ts: at, deviceId, values };
}
function act(at: number, action: RecordedAction['action'], ruleId: string, deviceId: string): RecordedAction {
  return { type: 'action', at, action, ruleId, deviceId, by: 'person:sec-amina' };
}

async function workbench(channels: string[] = [], configFile?: string): Promise<Workbench> {
  const config = configFile ? loadConfig({ file: configFile, env: {} }) : undefined;
  const { workbench: wb, problems } = await loadWorkbench({
    rulesDir: EXAMPLES,
    siteFile: SITE,
    channels,
    ...(config ? { config } : {}),
  });
  assert.deepEqual(problems, []);
  return wb!;
}

const replay = (wb: Workbench, items: RecordedItem[], end: number) =>
  replayItems(wb, items, { site: 'airport', startedAt: T0, end });

const of = (r: ReplayResult, ruleId: string) => r.incidents.filter((i) => i.ruleId === ruleId);

let plain: Workbench;
let phones: Workbench;
before(async () => {
  plain = await workbench();
  phones = await workbench(['voice', 'sms']);
});

describe('workbench replay - the example rules on a virtual clock', () => {
  test('a door held open 45 s opens door-held-open 30 s after it opened, and clears when it closes', async () => {
    const r = await replay(
      plain,
      [ev(s(5), 'door-g12', { open: true }), ev(s(50), 'door-g12', { open: false })],
      s(60),
    );
    const [held, ...more] = of(r, 'door-held-open');
    assert.equal(more.length, 0);
    assert.equal(held.key, 'door-held-open/door-g12#1');
    assert.equal(held.openedAt, s(35));
    assert.equal(held.clearedAt, s(50));
    assert.equal(held.state, 'cleared');
    assert.equal(held.severity, 'major');
    const kinds = r.timeline.filter((l) => l.kind !== 'notification').map((l) => [l.kind, l.at]);
    assert.deepEqual(kinds, [
      ['opened', s(35)],
      ['cleared', s(50)],
    ]);
    assert.equal(r.events, 2);
    assert.equal(r.from, T0);
    assert.equal(r.to, s(60));
  });

  test('a door closed before 30 s opens nothing', async () => {
    const r = await replay(
      plain,
      [ev(s(5), 'door-g12', { open: true }), ev(s(30), 'door-g12', { open: false })],
      s(60),
    );
    assert.deepEqual(of(r, 'door-held-open'), []);
  });

  test('with voice and sms, the on-call person is called and texted at once, the supervisors 20 s later', async () => {
    const r = await replay(
      phones,
      [ev(s(5), 'door-g12', { open: true }), ev(s(90), 'door-g12', { open: false })],
      s(100),
    );
    const [held] = of(r, 'door-held-open');
    assert.deepEqual(held.escalations, [{ at: s(55), step: 1, repeat: false }]);
    const sent = r.notifications
      .filter((n) => n.ruleId === 'door-held-open' && n.outcome === 'sent')
      .map((n) => `${n.at - T0} ${n.step} ${n.channel} ${n.to}`)
      .sort();
    assert.deepEqual(sent, [
      '35000 0 sms person:sec-amina',
      '35000 0 voice person:sec-amina',
      '55000 1 console team:security-supervisors',
      '55000 1 sms person:sec-claire',
      '55000 1 voice person:sec-claire',
    ]);
    const amina = r.notifications.find((n) => n.channel === 'sms' && n.to === 'person:sec-amina')!;
    assert.equal(amina.toName, 'Amina Diallo');
    assert.equal(amina.channelType, 'sms');
    // Rendered as the live channel would send it: the site's French door-held SMS template.
    assert.match(
      amina.message,
      /^Porte Door G12 \(jet bridge\) \(Gate G12\) ouverte depuis .*Caméra : rtsp:/,
    );
    assert.match(amina.message, /ACK \d{4}/);
  });

  test('an AED taken out of its cabinet is critical at once', async () => {
    const r = await replay(plain, [ev(s(7), 'aed-hall-b', { present: false })], s(10));
    const [aed] = of(r, 'aed-removed');
    assert.equal(aed.severity, 'critical');
    assert.equal(aed.openedAt, s(7));
    assert.equal(aed.state, 'open');
    assert.ok(r.notifications.some((n) => n.incidentKey === aed.key && n.at === s(7)));
  });

  test('an acknowledge action stops the escalation; without it, step 1 goes out 30 s later', async () => {
    const removed = ev(s(7), 'aed-hall-b', { present: false });
    const without = await replay(phones, [removed], s(60));
    assert.deepEqual(
      of(without, 'aed-removed')[0].escalations.map((e) => e.at),
      [s(37)],
    );
    const r = await replay(phones, [removed, act(s(20), 'acknowledge', 'aed-removed', 'aed-hall-b')], s(60));
    const [aed] = of(r, 'aed-removed');
    assert.equal(aed.state, 'acknowledged');
    assert.equal(aed.acknowledgedAt, s(20));
    assert.equal(aed.acknowledgedBy, 'person:sec-amina');
    assert.deepEqual(aed.escalations, []);
    assert.ok(!r.notifications.some((n) => n.step > 0));
    assert.ok(r.timeline.some((l) => l.kind === 'acknowledged' && l.at === s(20)));
    assert.equal(r.actions, 1);
  });

  test('a resolve closes out an incident that cleared by itself', async () => {
    const r = await replay(
      plain,
      [
        ev(s(5), 'door-g12', { open: true }),
        ev(s(50), 'door-g12', { open: false }),
        act(s(70), 'resolve', 'door-held-open', 'door-g12'),
      ],
      s(80),
    );
    const [held] = of(r, 'door-held-open');
    assert.equal(held.state, 'resolved');
    assert.equal(held.resolvedAt, s(70));
    assert.equal(held.resolvedBy, 'person:sec-amina');
    assert.deepEqual(r.problems, []);
  });

  test('an action with no active incident is counted as a problem', async () => {
    const r = await replay(plain, [act(s(3), 'resolve', 'aed-removed', 'aed-hall-b')], s(10));
    assert.equal(r.actions, 1);
    assert.deepEqual(r.incidents, []);
    assert.match(r.problems.join('\n'), /resolve at .*: no active incident of aed-removed on aed-hall-b/);
  });

  test('events of devices the site file does not declare are skipped and counted', async () => {
    const r = await replay(
      plain,
      [
        ev(s(1), 'door-zz9', { open: true }),
        ev(s(2), 'door-zz9', { open: true }),
        ev(s(3), 'aed-hall-b', { present: true }),
      ],
      s(60),
    );
    assert.equal(r.skipped, 2);
    assert.equal(r.events, 1);
    assert.deepEqual(r.incidents, []);
    assert.match(r.problems[0], /2 event\(s\) of 1 device\(s\) not in the site file skipped: door-zz9/);
  });

  test('the same items replayed twice give the same incidents and notifications', async () => {
    const items = [
      ev(s(1), 'door-g12', { open: true }),
      ev(s(2), 'aed-gate-g', { present: false }),
      ev(s(3), 'temp-hall-b', { celsius: 29.5 }),
      ev(s(45), 'door-g12', { open: false }),
      act(s(50), 'acknowledge', 'aed-removed', 'aed-gate-g'),
      ev(s(70), 'temp-hall-b', { celsius: 21 }),
    ];
    const shape = (r: ReplayResult) => ({
      incidents: r.incidents.map(({ id: _id, ...rest }) => rest),
      notifications: r.notifications.map(({ incidentId: _i, message, ...rest }) => ({
        ...rest,
        // The acknowledgement code is drawn at random, as live.
        message: message.replace(/\d{4}/g, 'NNNN'),
      })),
      timeline: r.timeline,
    });
    const a = shape(await replay(phones, items, s(100)));
    const b = shape(await replay(phones, items, s(100)));
    assert.ok(a.incidents.length >= 3);
    assert.deepEqual(a, b);
  });

  test('the clock runs to the end, so a `for` window and an escalation due before it fire', async () => {
    const items = [ev(s(5), 'door-g12', { open: true })];
    const short = await replay(phones, items, s(20));
    assert.deepEqual(of(short, 'door-held-open'), []);
    const long = await replay(phones, items, s(56));
    assert.equal(of(long, 'door-held-open')[0].openedAt, s(35));
    assert.deepEqual(
      of(long, 'door-held-open')[0].escalations.map((e) => e.at),
      [s(55)],
    );
  });

  test('onChange hears each line as it happens, in time order', async () => {
    const heard: string[] = [];
    const r = await replayItems(
      plain,
      [ev(s(5), 'door-g12', { open: true }), ev(s(50), 'door-g12', { open: false })],
      { startedAt: T0, end: s(60) },
      { onChange: (l) => heard.push(`${l.at - T0} ${l.kind}`) },
    );
    assert.deepEqual(
      heard,
      r.timeline.map((l) => `${l.at - T0} ${l.kind}`),
    );
    assert.deepEqual(
      heard.filter((h) => !h.includes('notification')),
      ['35000 opened', '50000 cleared'],
    );
  });

  test('at 20x real time a 2 s recording takes about 100 ms', async () => {
    const t = performance.now();
    const r = await replayItems(
      plain,
      [ev(s(0.5), 'door-g12', { open: true }), ev(s(1.5), 'door-g12', { open: false })],
      { startedAt: T0, end: s(2) },
      { speed: 20 },
    );
    const wall = performance.now() - t;
    assert.ok(wall >= 90, `took ${wall} ms`);
    assert.ok(wall < 2000, `took ${wall} ms`);
    assert.equal(r.events, 2);
  });

  test('yieldEveryMs lets timers run during a long replay', async () => {
    const items: RecordedEvent[] = [];
    for (let i = 0; i < 60_000; i++) items.push(ev(T0 + i * 10, 'temp-hall-b', { celsius: 20 + (i % 2) }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await replayItems(plain, items, { startedAt: T0 }, { yieldEveryMs: 1 });
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 0, 'the event loop never got a turn');
  });
});

describe('workbench replay - files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigie-replay-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const header = (site = 'airport', startedAt = T0) =>
    encodeHeader({
      vigie: 'recording',
      version: 1,
      site,
      id: 'rec_test',
      segment: 1,
      startedAt,
      selection: {},
      kinds: { 'door-g12': 'door', 'aed-hall-b': 'aed' },
    });
  const line = (e: RecordedEvent) => encodeEvent({ site: 'airport', kind: 'door', ...e, values: e.values });

  test('bad lines are counted and named, the rest replays; the end line runs the clock', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      header() +
        line(ev(s(5), 'door-g12', { open: true })) +
        'not json\n' +
        '{"t":1}\n' +
        encodeEnd({ stoppedAt: s(40), events: 1 }),
    );
    const r = await replayFile(plain, file);
    assert.equal(r.events, 1);
    assert.equal(r.skipped, 2);
    assert.ok(r.problems.includes('line 3: not JSON'), r.problems.join('\n'));
    assert.ok(r.problems.includes('line 4: no device ("d")'), r.problems.join('\n'));
    // Nothing after +5 s but the end line at +40 s: the 30 s window still ends inside the recording.
    assert.equal(r.to, s(40));
    assert.equal(of(r, 'door-held-open')[0].openedAt, s(35));
  });

  test('without an end line the replay stops at the last item', async () => {
    const r = await replayFile(
      plain,
      Readable.from([
        header() +
          line(ev(s(5), 'door-g12', { open: true })) +
          line(ev(s(20), 'door-g12', { open: true, x: 1 })),
      ]),
    );
    assert.equal(r.from, T0);
    assert.equal(r.to, s(20));
    assert.deepEqual(of(r, 'door-held-open'), []);
  });

  test('a window replays only its items and runs the clock to its end', async () => {
    const file = join(dir, 'window.jsonl');
    writeFileSync(
      file,
      header() +
        line(ev(s(5), 'door-g12', { open: true })) +
        line(ev(s(50), 'door-g12', { open: false })) +
        line(ev(s(100), 'door-g12', { open: true })) +
        encodeAction({
          at: s(140),
          action: 'acknowledge',
          ruleId: 'door-held-open',
          deviceId: 'door-g12',
          by: 'x',
        }) +
        line(ev(s(200), 'door-g12', { open: false })),
    );
    const r = await replayFile(plain, file, { from: s(60), to: s(150) });
    assert.equal(r.from, s(60));
    assert.equal(r.to, s(150));
    assert.equal(r.events, 1);
    assert.equal(r.actions, 1);
    const [held, ...more] = of(r, 'door-held-open');
    assert.equal(more.length, 0);
    assert.equal(held.openedAt, s(130));
    assert.equal(held.state, 'acknowledged');
  });

  test('a recording of another site is replayed, with a problem saying so', async () => {
    const r = await replayFile(
      plain,
      Readable.from([header('harbour') + line(ev(s(2), 'aed-hall-b', { present: false }))]),
    );
    assert.match(r.problems[0], /recorded at site "harbour", replayed with the rules of site "airport"/);
    assert.equal(of(r, 'aed-removed').length, 1);
  });

  test('a file without a header still replays from its first item', async () => {
    const r = await replayFile(plain, Readable.from([line(ev(s(2), 'aed-hall-b', { present: false }))]));
    assert.equal(r.from, s(2));
    assert.match(r.problems.join('\n'), /no header/);
    assert.equal(of(r, 'aed-removed').length, 1);
  });
});

describe('workbench replay - sends nothing', () => {
  let server: Server;
  let requests = 0;
  let dir: string;
  before(async () => {
    server = createServer((req, res) => {
      requests++;
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(join(tmpdir(), 'vigie-replay-hook-'));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a configured webhook channel gets the alerts in the result, and its server no request', async () => {
    const port = (server.address() as AddressInfo).port;
    const config = join(dir, 'vigie.yaml');
    writeFileSync(
      config,
      [
        'channels:',
        '  ops-webhook:',
        '    type: webhook',
        `    url: http://127.0.0.1:${port}/hook`,
        '    secret: a-secret-of-the-test-webhook',
        '',
      ].join('\n'),
    );
    const wb = await workbench(['voice', 'sms'], config);
    assert.equal(wb.channels.get('ops-webhook'), 'webhook');
    const r = await replay(
      wb,
      [ev(s(2), 'aed-hall-b', { present: false }), ev(s(3), 'door-g12', { open: true })],
      s(120),
    );
    const hooks = r.notifications.filter((n) => n.channel === 'ops-webhook');
    assert.ok(hooks.length >= 4, `${hooks.length} webhook notifications`);
    assert.ok(hooks.every((n) => n.outcome === 'sent' && n.channelType === 'webhook'));
    // Long enough for any stray request to have arrived.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(requests, 0);
  });
});
