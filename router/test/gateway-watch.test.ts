import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { TokenAuth } from '../../gateway/src/api/auth.js';
import { systemClock } from '../../gateway/src/core/clock.js';
import { memoryLogger } from '../../gateway/src/core/log.js';
import { Registry } from '../../gateway/src/core/metrics.js';
import { harness, type Harness } from '../../gateway/src/route/testing.js';
import {
  createUplink,
  GATEWAYS_STREAM,
  type CloudEvent,
  type Uplink,
} from '../../gateway/src/route/uplink/index.js';
import { HeartbeatPublisher } from '../../gateway/src/watch/heartbeat.js';
import type { Heartbeat } from '../../gateway/src/watch/model.js';
import { NatsServer } from '../../gateway/test/support/nats-server.js';
import { silenceIncidentId } from '../src/gateway-watch.js';
import { exampleConfig, ROOT, RouterProcess } from './support/router-process.js';

// A gateway's heartbeats through its real uplink, routers following them on a real nats-server:
// the silence is noticed once however many routers run, routed like any work item, its end
// announced, and a router started later still knows what happened before it.

const SITE = 'airport';
const GATEWAY = 'pi-hall-b';
const INTERVAL_MS = 200;
const SILENT_AFTER_MS = 3 * INTERVAL_MS;
const WORK_ITEMS = `cc.interactions.${SITE}`;

let nats: NatsServer;
let dir: string;
let h: Harness;
let uplink: Uplink;
let nc: NatsConnection;
let jsm: JetStreamManager;
const routers: RouterProcess[] = [];
/** Every publish seen on the wire (core subscriptions): duplicates the streams dropped included. */
const wire = {
  workItems: [] as CloudEvent<any>[],
  assignments: [] as CloudEvent<any>[],
  back: [] as CloudEvent<any>[],
};

// ajv has no date-time format without a plugin; route-appliance.test.ts checks `time` instead.
const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
const schema = JSON.parse(readFileSync(join(ROOT, 'router/schema/vigie-events.schema.json'), 'utf8'));
const checkEvent = ajv.compile(schema);
const checkHeartbeat = ajv.compile({ $ref: `${schema.$id}#/$defs/heartbeat` });
/** The schema's complaints about `x`, '' when it follows it. */
const problems = (check: typeof checkEvent, x: unknown) => (check(x) ? '' : JSON.stringify(check.errors));

function routerConfig(): Record<string, unknown> {
  const base = exampleConfig({});
  return exampleConfig({
    nats: { servers: [nats.url] },
    gateways: { checkEvery: '100ms' },
    intents: {
      ...(base.intents as Record<string, unknown>),
      'gateway-silent': { intent: 'gateway-offline', skill: 'it-devices' },
    },
  });
}

async function startRouter(name: string): Promise<RouterProcess> {
  const r = await RouterProcess.start(dir, name, routerConfig());
  routers.push(r);
  return r;
}

/** The gateway's side: its heartbeat on the uplink's connection, as gateway.ts wires it. */
function gatewayHeartbeat(): HeartbeatPublisher {
  return new HeartbeatPublisher({
    site: SITE,
    gateway: GATEWAY,
    intervalMs: INTERVAL_MS,
    clock: systemClock,
    logger: memoryLogger(),
    snapshot: () => ({ ready: true, problems: [], rssBytes: 1e6, eventsIn: 0, incidentsActive: 0 }),
    publishNats: (subject, data) => void uplink.publishCore(subject, data),
    publishMqtt: () => {},
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many messages a stream holds on one subject. */
async function stored(stream: string, subject: string): Promise<number> {
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

async function lastStored<T = CloudEvent<any>>(stream: string, subject: string): Promise<T> {
  return (await jsm.streams.getMessage(stream, { last_by_subj: subject })).json<T>();
}

async function gatewayOn(r: RouterProcess): Promise<any> {
  const body = (await r.json('/api/v1/gateways')).body as { gateways: any[] };
  return body.gateways.find((g) => g.site === SITE && g.gateway === GATEWAY);
}

async function metricSum(name: string, rs: RouterProcess[], labels: Record<string, string> = {}) {
  let n = 0;
  for (const r of rs) n += await r.metric(name, labels);
  return n;
}

describe('router - gateways watched through their heartbeats', () => {
  let lastBeforeSilence: Heartbeat;
  let firstIncident: string;
  let resumed: HeartbeatPublisher;

  before(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(join(tmpdir(), 'vigie-gw-watch-'));
    h = harness();
    uplink = createUplink(
      {
        servers: [nats.url],
        streams: { events: 'VIGIE', contactCenter: 'CC', gateways: 'VIGIE_GATEWAYS' },
        duplicateWindow: 600_000,
        batch: 64,
        commands: false,
        workItems: true,
      },
      {
        db: h.db,
        site: SITE,
        incidents: h.service,
        auth: new TokenAuth({ tokens: [] }),
        metrics: new Registry(),
        logger: memoryLogger(),
        clock: h.clock,
        tuning: { backoff: { minMs: 50, maxMs: 500 }, retryDelayMs: 200 },
      },
    );
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    for (const [subject, list] of [
      [WORK_ITEMS, wire.workItems],
      [`cc.assignments.${SITE}`, wire.assignments],
      [`vigie.${SITE}.gateway.back`, wire.back],
    ] as const)
      nc.subscribe(subject, { callback: (_e, m) => list.push(m.json()) });
    await nc.flush();
  });

  after(async () => {
    resumed?.stop();
    await Promise.allSettled(routers.map((r) => r.stop()));
    await uplink?.stop();
    h?.close();
    await nc?.close();
    await nats?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the uplink creates a stream keeping the last message of each gateway subject', async () => {
    assert.equal(
      uplink.publishCore(`vigie.${SITE}.gateway.heartbeat`, new Uint8Array()),
      false,
      'not connected',
    );
    uplink.start();
    const info = await until('the gateways stream', () =>
      jsm.streams.info(GATEWAYS_STREAM.name).catch(() => undefined),
    );
    assert.deepEqual(info.config.subjects, ['vigie.*.gateway.>']);
    assert.equal(info.config.max_msgs_per_subject, 1);
    await until('the uplink connected', () => uplink.status().connected || undefined);
  });

  it('two routers list a beating gateway as up; the stream holds only its last heartbeat', async () => {
    const [r1, r2] = await Promise.all([startRouter('r1'), startRouter('r2')]);
    await Promise.all([r1.waitReady(), r2.waitReady()]);
    const hb = gatewayHeartbeat();
    hb.start();
    try {
      for (const r of [r1, r2]) {
        const g = await until(`${r.name} lists the gateway`, async () => {
          const g = await gatewayOn(r);
          return g?.lastHeartbeat.seq >= 3 ? g : undefined;
        });
        assert.equal(g.state, 'up');
        assert.equal(g.silentAfterMs, SILENT_AFTER_MS);
        assert.equal(g.incidentId, undefined);
      }
      assert.equal(await stored(GATEWAYS_STREAM.name, `vigie.${SITE}.gateway.heartbeat`), 1);
      assert.equal(await r1.metric('router_gateways', { state: 'up' }), 1);
    } finally {
      hb.stop();
    }
    lastBeforeSilence = await lastStored<Heartbeat>(GATEWAYS_STREAM.name, `vigie.${SITE}.gateway.heartbeat`);
    assert.equal(problems(checkHeartbeat, lastBeforeSilence), '');
    assert.equal(lastBeforeSilence.gateway, GATEWAY);
  });

  it('the gateway goes quiet: one work item for two routers, routed once, `silent` stored', async () => {
    const [r1, r2] = routers;
    firstIncident = silenceIncidentId(SITE, lastBeforeSilence);
    const item = await until('the work item', async () =>
      (await stored('CC', WORK_ITEMS)) > 0 ? await lastStored<CloudEvent<any>>('CC', WORK_ITEMS) : undefined,
    );
    const assignment = await until('its assignment', () =>
      wire.assignments.find((a) => a.data.workItemId === `wi_${firstIncident}`),
    );
    // Several check periods later, still one of each.
    await sleep(1500);
    assert.equal(await stored('CC', WORK_ITEMS), 1, 'one work item stored');
    assert.equal(wire.assignments.filter((a) => a.data.workItemId === `wi_${firstIncident}`).length, 1);
    assert.equal(await metricSum('router_gateway_silences_total', [r1, r2], { site: SITE }), 1);

    assert.equal(problems(checkEvent, item), '');
    assert.equal(item.id, `evt_wi_${firstIncident}`);
    assert.equal(item.type, 'com.vigie.workitem.created');
    const d = item.data;
    assert.equal(d.workItemId, `wi_${firstIncident}`);
    assert.deepEqual(d.device, { id: 'gateway', kind: 'gateway', name: `Gateway ${GATEWAY}`, zone: '' });
    assert.deepEqual(d.intent, { rule: 'gateway-silent', category: 'gateway-offline' });
    assert.equal(d.priority, 'critical');
    assert.deepEqual(
      [
        d.incident.id,
        d.incident.site,
        d.incident.rule,
        d.incident.device,
        d.incident.severity,
        d.incident.state,
      ],
      [firstIncident, SITE, 'gateway-silent', 'gateway', 'critical', 'open'],
    );
    const lateMs = d.incident.openedAt - d.incident.values.lastSeenAt;
    assert.ok(
      lateMs > SILENT_AFTER_MS && lateMs < SILENT_AFTER_MS + 1500,
      `noticed ${lateMs} ms after the last beat`,
    );

    assert.equal(assignment.data.objective.intent, 'gateway-offline');
    assert.equal(assignment.data.queue, 'facilities');

    const silent = await lastStored(GATEWAYS_STREAM.name, `vigie.${SITE}.gateway.silent`);
    assert.equal(problems(checkEvent, silent), '');
    assert.equal(silent.data.incidentId, firstIncident);
    assert.deepEqual(silent.data.lastHeartbeat, lastBeforeSilence);
    for (const r of [r1, r2]) {
      const g = await until(`${r.name} knows it silent`, async () => {
        const g = await gatewayOn(r);
        return g?.incidentId ? g : undefined;
      });
      assert.equal(g.state, 'silent');
      assert.equal(g.incidentId, firstIncident);
      assert.equal(await r.metric('router_gateways', { state: 'silent' }), 1);
    }
  });

  it('heartbeats resume (the gateway restarted): `back` is announced once, the gateway is up', async () => {
    const [r1, r2] = routers;
    resumed = gatewayHeartbeat();
    resumed.start();
    const back = await until('back', () => wire.back.find((b) => b.data.incidentId === firstIncident));
    assert.equal(problems(checkEvent, back), '');
    assert.deepEqual(back.data.lastHeartbeat, lastBeforeSilence);
    assert.equal(back.data.heartbeat.seq, 1);
    assert.ok(back.data.heartbeat.startedAt > lastBeforeSilence.startedAt);
    assert.ok(back.data.silentForMs >= SILENT_AFTER_MS, String(back.data.silentForMs));
    for (const r of [r1, r2]) {
      const g = await until(`${r.name} lists it up`, async () => {
        const g = await gatewayOn(r);
        return g?.state === 'up' && g.incidentId === undefined ? g : undefined;
      });
      assert.equal(g.lastHeartbeat.startedAt, back.data.heartbeat.startedAt);
    }
    await sleep(500);
    assert.equal(await metricSum('router_gateway_back_total', [r1, r2], { site: SITE }), 1);
    assert.equal((await lastStored(GATEWAYS_STREAM.name, `vigie.${SITE}.gateway.back`)).id, back.id);
    assert.equal(await stored('CC', WORK_ITEMS), 1, 'no new work item');
  });

  it('a router started after the gateway went silent raises it from the stream; the next one does not again', async () => {
    await Promise.all(routers.map((r) => r.stop()));
    resumed.stop();
    await sleep(SILENT_AFTER_MS + 600);
    const last = await lastStored<Heartbeat>(GATEWAYS_STREAM.name, `vigie.${SITE}.gateway.heartbeat`);
    const second = silenceIncidentId(SITE, last);
    assert.notEqual(second, firstIncident);

    const r3 = await startRouter('r3');
    await r3.waitReady();
    await until('the second work item', async () =>
      (await stored('CC', WORK_ITEMS)) === 2 ? true : undefined,
    );
    assert.equal((await lastStored('CC', WORK_ITEMS)).data.incident.id, second);
    const a = await until('its assignment', () =>
      wire.assignments.find((x) => x.data.workItemId === `wi_${second}`),
    );
    assert.equal(a.data.routedBy, 'r3');
    assert.equal(await r3.metric('router_gateway_silences_total', { site: SITE }), 1);
    await r3.stop();

    const publishedBefore = wire.workItems.length;
    const r4 = await startRouter('r4');
    await r4.waitReady();
    const g = await until('r4 knows the silence', async () => {
      const g = await gatewayOn(r4);
      return g?.incidentId ? g : undefined;
    });
    assert.equal(g.incidentId, second);
    assert.equal(g.state, 'silent');
    await sleep(1000);
    assert.equal(wire.workItems.length, publishedBefore, 'r4 did not even try to raise it again');
    assert.equal(await r4.metric('router_gateway_silences_total'), 0);
    assert.equal(await stored('CC', WORK_ITEMS), 2);
  });
});

describe('router - gateways watched through an operator stream that takes vigie.>', () => {
  let server: NatsServer;
  let client: NatsConnection;
  let router: RouterProcess;
  let beats: HeartbeatPublisher;
  let own: string;

  before(async () => {
    own = mkdtempSync(join(tmpdir(), 'vigie-gw-watch-op-'));
    server = await NatsServer.start();
    client = await connect({ servers: server.url });
    // JetStream refuses VIGIE_GATEWAYS beside it (overlapping subjects).
    await (await client.jetstreamManager()).streams.add({ name: 'VIGIE', subjects: ['vigie.>'] });
  });

  after(async () => {
    beats?.stop();
    await router?.stop();
    await client?.close();
    await server?.dispose();
    if (own) rmSync(own, { recursive: true, force: true });
  });

  it('the router follows that stream instead, and still raises a silence', async () => {
    router = await RouterProcess.start(own, 'r-op', { ...routerConfig(), nats: { servers: [server.url] } });
    await router.waitReady();
    beats = new HeartbeatPublisher({
      site: SITE,
      gateway: GATEWAY,
      intervalMs: INTERVAL_MS,
      clock: systemClock,
      logger: memoryLogger(),
      snapshot: () => ({ ready: true, problems: [], rssBytes: 1e6, eventsIn: 0, incidentsActive: 0 }),
      publishNats: (subject, data) => client.publish(subject, data),
      publishMqtt: () => {},
    });
    beats.start();
    await until('the gateway up', async () => ((await gatewayOn(router))?.state === 'up' ? true : undefined));
    beats.stop();
    const g = await until('the silence raised', async () => {
      const g = await gatewayOn(router);
      return g?.incidentId ? g : undefined;
    });
    const ops = await client.jetstreamManager();
    const item = await until('the work item', () =>
      ops.streams.getMessage('CC', { last_by_subj: WORK_ITEMS }).then(
        (m) => m.json<CloudEvent<any>>(),
        () => undefined,
      ),
    );
    assert.equal(item.data.incident.id, g.incidentId);
    const silent = await ops.streams.getMessage('VIGIE', { last_by_subj: `vigie.${SITE}.gateway.silent` });
    assert.equal(silent.json<CloudEvent<any>>().data.incidentId, g.incidentId);
    assert.ok(router.logs.some((l) => l.includes('following the stream that captures gateway subjects')));
  });
});
