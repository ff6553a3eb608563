import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { connect, headers, type NatsConnection } from 'nats';
import { sha256Hex, TokenAuth } from '../src/api/auth.js';
import type { UplinkConfig } from '../src/config/schema.js';
import { memoryLogger } from '../src/core/log.js';
import { Registry } from '../src/core/metrics.js';
import type { Incident } from '../src/route/model.js';
import { harness, openT, T0, type Harness } from '../src/route/testing.js';
import {
  cloudEvent,
  createUplink,
  type CloudEvent,
  type Uplink,
  type UplinkDeps,
} from '../src/route/uplink/index.js';
import { eventually } from './support/gateway-process.js';
import { NatsServer } from './support/nats-server.js';

// The contact-center uplink against a real nats-server with JetStream: what reaches the stream,
// what survives an outage, what a replay does, the downlink commands and the router's assignments.

const SITE = 'cdg-t2';
const OPERATOR_TOKEN = 'operator-token-0123456789abcdefghij';
const VIEWER_TOKEN = 'viewer-token-0123456789abcdefghijkl';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  server: NatsServer;
  h: Harness;
  uplink: Uplink;
  metrics: Registry;
  client: NatsConnection;
  applied: Incident[];
  logs: string[];
  /** Starts another uplink on the same database (a restarted gateway); the first must be stopped. */
  restart(): Promise<Uplink>;
}

async function setup(
  o: { batch?: number; incidents?: UplinkDeps['incidents']; started?: boolean } = {},
): Promise<Setup> {
  const server = await NatsServer.start();
  cleanups.push(() => server.dispose());
  const h = harness();
  cleanups.push(() => h.close());
  const config: UplinkConfig = {
    servers: [server.url],
    streams: { events: 'VIGIE', contactCenter: 'CC', gateways: 'VIGIE_GATEWAYS' },
    duplicateWindow: 600_000,
    batch: o.batch ?? 256,
    commands: true,
    workItems: true,
  };
  const metrics = new Registry();
  const applied: Incident[] = [];
  const logger = memoryLogger();
  const make = () => {
    const u = createUplink(config, {
      db: h.db,
      site: SITE,
      incidents: o.incidents ?? h.service,
      auth: new TokenAuth({
        tokens: [
          { name: 'ops-console', role: 'operator', sha256: sha256Hex(OPERATOR_TOKEN) },
          { name: 'wallboard', role: 'viewer', sha256: sha256Hex(VIEWER_TOKEN) },
        ],
      }),
      metrics,
      logger,
      clock: h.clock,
      onAssignment: (i) => applied.push(i),
      tuning: {
        publishTimeoutMs: 2000,
        backoff: { minMs: 50, maxMs: 500 },
        connectOptions: { reconnectTimeWait: 200, reconnectJitter: 0 },
        retryDelayMs: 200,
      },
    });
    cleanups.push(() => u.stop());
    return u;
  };
  const uplink = make();
  let current = uplink;
  h.service.addRecorder((changes, now) => current.recorder(changes, now));
  if (o.started !== false) uplink.start();
  const client = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  cleanups.push(() => client.close());
  return {
    server,
    h,
    uplink,
    metrics,
    client,
    applied,
    logs: logger.lines,
    async restart() {
      current = make();
      current.start();
      return current;
    },
  };
}

interface Stored {
  seq: number;
  subject: string;
  msgId: string;
  event: CloudEvent<any>;
}

/**
 * Runs `fn` on a connection of its own: the shared client may still be reconnecting after a server
 * restart, and nats.js loses a request sent in that moment (its reply comes before the resubscription).
 */
async function fresh<T>(s: Setup, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: s.server.url });
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/** Every message of the stream, in stream order, read with an ordered consumer. */
function readStream(s: Setup, stream: string): Promise<Stored[]> {
  return fresh(s, (nc) => readAll(nc, stream));
}

async function readAll(nc: NatsConnection, stream: string): Promise<Stored[]> {
  const jsm = await nc.jetstreamManager();
  const total = (await jsm.streams.info(stream)).state.messages;
  const consumer = await nc.jetstream().consumers.get(stream);
  const out: Stored[] = [];
  while (out.length < total) {
    const batch = await consumer.fetch({ max_messages: Math.min(1000, total - out.length), expires: 2000 });
    let got = 0;
    for await (const m of batch) {
      out.push({
        seq: m.seq,
        subject: m.subject,
        msgId: m.headers?.get('Nats-Msg-Id') ?? '',
        event: m.json(),
      });
      got++;
    }
    if (got === 0) throw new Error(`stream ${stream} has ${total} messages, read ${out.length}`);
  }
  return out;
}

function streamCount(s: Setup, stream: string): Promise<number> {
  return fresh(s, async (nc) => (await (await nc.jetstreamManager()).streams.info(stream)).state.messages);
}

/** Numbered events appended straight to the outbox, `perTx` per transaction. */
function appendNumbered(s: Setup, from: number, count: number, perTx = 7): CloudEvent<{ n: number }>[] {
  const events: CloudEvent<{ n: number }>[] = [];
  for (let n = from; n < from + count; n += perTx) {
    s.h.db.transaction(() => {
      for (let k = n; k < Math.min(n + perTx, from + count); k++) {
        const e = cloudEvent({
          source: `vigie://${SITE}/gateway`,
          type: 'incident.opened',
          subject: `inc_${k % 13}`,
          site: SITE,
          time: T0 + k,
          data: { n: k },
        });
        s.uplink.outbox.append(`vigie.${SITE}.incident.opened`, e);
        events.push(e);
      }
    })();
  }
  return events;
}

const drained = (u: Uplink, timeoutMs = 30_000) =>
  eventually('the outbox to drain', () => u.status().depth === 0, timeoutMs);

test('uplink - incident transitions reach the stream in commit order as CloudEvents, Nats-Msg-Id = id', async () => {
  const s = await setup();
  const [{ incident: door }] = s.h.apply([openT(T0)]);
  const [{ incident: fridge }] = s.h.apply([openT(T0 + 1000, 'fridge-1')]);
  s.h.clock.advance(60_000);
  s.h.service.acknowledge(door.id, { id: 'person:alice', via: 'api' });
  s.h.service.resolve(door.id, { id: 'person:alice', via: 'api' }, 'door fixed');
  await drained(s.uplink);

  const stored = await readStream(s, 'VIGIE');
  assert.deepEqual(
    stored.map((m) => `${m.subject} ${m.event.subject}`),
    [
      `vigie.${SITE}.incident.opened ${door.id}`,
      `vigie.${SITE}.incident.opened ${fridge.id}`,
      `vigie.${SITE}.incident.acknowledged ${door.id}`,
      `vigie.${SITE}.incident.resolved ${door.id}`,
    ],
  );
  for (const m of stored) {
    assert.equal(m.msgId, m.event.id);
    assert.equal(m.event.specversion, '1.0');
    assert.equal(m.event.source, `vigie://${SITE}/gateway`);
    assert.equal(m.event.datacontenttype, 'application/json');
    assert.equal(m.event.vigiesite, SITE);
    assert.equal(m.event.type, `com.vigie.incident.${m.event.data.transition}`);
  }
  const resolved = stored[3].event;
  assert.equal(resolved.time, new Date(T0 + 60_000).toISOString());
  assert.equal(resolved.data.incident.state, 'resolved');
  assert.equal(resolved.data.incident.rule, 'door-held-open');
  assert.equal(resolved.data.actor, 'person:alice');
  assert.deepEqual(resolved.data.context, door.context);

  // Both streams exist as the gateway created them: on file, with the configured duplicate window.
  const jsm = await s.client.jetstreamManager();
  for (const name of ['VIGIE', 'CC']) {
    const info = await jsm.streams.info(name);
    assert.equal(info.config.storage, 'file');
    assert.equal(info.config.duplicate_window, 600_000 * 1_000_000);
  }
  const connz = await s.server.monitor('/connz');
  assert.ok(connz.connections.some((c: { name?: string }) => c.name === `vigie-gateway-${SITE}`));
  const metrics = s.metrics.render();
  assert.match(metrics, /vigie_uplink_published_total 4\n/);
  assert.match(metrics, /vigie_uplink_connected 1\n/);
  assert.match(metrics, /vigie_uplink_outbox_depth 0\n/);
  assert.deepEqual(s.uplink.status(), { connected: true, depth: 0, oldestAgeMs: 0 });
});

test('uplink - 500 events committed while nats-server is down arrive once each, in order, after it is back', async () => {
  const s = await setup();
  appendNumbered(s, 0, 10);
  await drained(s.uplink);

  await s.server.stop();
  await eventually('the uplink to notice', () => !s.uplink.status().connected);
  const events = appendNumbered(s, 10, 500);
  s.h.clock.advance(30_000);
  await new Promise((r) => setTimeout(r, 500));
  const away = s.uplink.status();
  assert.equal(away.connected, false);
  assert.equal(away.depth, 500);
  assert.equal(away.oldestAgeMs, 30_000);
  assert.match(s.metrics.render(), /vigie_uplink_outbox_depth 500\n/);

  await s.server.restart();
  await drained(s.uplink);
  assert.equal(s.uplink.status().connected, true);
  const stored = await readStream(s, 'VIGIE');
  assert.equal(stored.length, 510);
  assert.deepEqual(
    stored.map((m) => m.event.data.n),
    Array.from({ length: 510 }, (_, i) => i),
  );
  assert.deepEqual(
    stored.slice(10).map((m) => m.msgId),
    events.map((e) => e.id),
  );
  assert.match(s.metrics.render(), /vigie_uplink_outbox_depth 0\n/);
});

test('uplink - events replayed after a crash (published, not yet deleted) are dropped by the duplicate window', async () => {
  const s = await setup();
  const events = appendNumbered(s, 0, 40);
  await drained(s.uplink);
  assert.equal(await streamCount(s, 'VIGIE'), 40);

  // The process "died" after the PubAcks and before the DELETE: a new one finds the rows again.
  await s.uplink.stop();
  s.h.db.transaction(() => {
    for (const e of events) s.uplink.outbox.append(`vigie.${SITE}.incident.opened`, e);
  })();
  assert.equal(s.uplink.status().depth, 40);
  const again = await s.restart();
  await drained(again);
  assert.equal(await streamCount(s, 'VIGIE'), 40);
  appendNumbered(s, 40, 1);
  await drained(again);
  const stored = await readStream(s, 'VIGIE');
  assert.deepEqual(
    stored.map((m) => m.event.data.n),
    Array.from({ length: 41 }, (_, i) => i),
  );
});

test('uplink - drain rate of a 10,000-event backlog', async (t) => {
  const s = await setup({ started: false });
  // Warm the connection and streams first, so the figure is the publishing, not the connect.
  s.uplink.start();
  appendNumbered(s, 0, 1);
  await drained(s.uplink);
  await s.uplink.stop();

  appendNumbered(s, 1, 10_000, 100);
  const again = await s.restart();
  const started = performance.now();
  await drained(again, 120_000);
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round(10_000 / seconds);
  t.diagnostic(`outbox drain: 10000 events in ${seconds.toFixed(2)} s = ${rate} events/s (batch 256)`);
  const stored = await readStream(s, 'VIGIE');
  assert.equal(stored.length, 10_001);
  assert.ok(stored.every((m, i) => m.event.data.n === i));
  assert.ok(rate > 500, `drained at ${rate} events/s`);
});

test('uplink - a gateway started while nats-server is away keeps its events and sends them when it appears', async () => {
  const s = await setup({ started: false });
  await s.server.stop();
  s.uplink.start();
  appendNumbered(s, 0, 25);
  await eventually('a failed connect', () => /^connect: /.test(s.uplink.status().lastError ?? ''));
  assert.equal(s.uplink.status().depth, 25);
  assert.match(s.metrics.render(), /vigie_uplink_publish_errors_total\{stage="connect"\} [1-9]/);

  await s.server.restart();
  await drained(s.uplink);
  const stored = await readStream(s, 'VIGIE');
  assert.deepEqual(
    stored.map((m) => m.event.data.n),
    Array.from({ length: 25 }, (_, i) => i),
  );
  assert.equal(s.uplink.status().lastError, undefined);
});

test('uplink - a stream that already exists is left as it is, with a warning when its subjects differ', async () => {
  const s = await setup({ started: false });
  const jsm = await s.client.jetstreamManager();
  await jsm.streams.add({ name: 'VIGIE', subjects: ['vigie.>'], max_msgs: 1000 });
  s.uplink.start();
  appendNumbered(s, 0, 3);
  await drained(s.uplink);
  const info = await jsm.streams.info('VIGIE');
  assert.deepEqual(info.config.subjects, ['vigie.>']);
  assert.equal(info.config.max_msgs, 1000);
  assert.equal(info.state.messages, 3);
  assert.ok(
    s.logs.some((l) => l.includes('stream exists with other subjects') && l.includes('"stream":"VIGIE"')),
  );
  assert.ok(!s.logs.some((l) => l.includes('other subjects') && l.includes('"stream":"CC"')));
});

test('uplink - events no stream captures stay in the outbox, in order, until a stream takes them', async () => {
  const s = await setup({ started: false, batch: 16 });
  const jsm = await s.client.jetstreamManager();
  // An operator's stream that forgot the incident subjects: job events are stored, incidents refused.
  await jsm.streams.add({
    name: 'VIGIE',
    subjects: ['vigie.*.job.*'],
    duplicate_window: 600_000 * 1_000_000,
  });
  s.uplink.start();
  s.h.db.transaction(() => {
    for (let n = 0; n < 40; n++) {
      const kind = n % 3 === 0 ? 'incident' : 'job';
      const e = cloudEvent({
        source: 'x',
        type: `${kind}.x`,
        subject: 'inc_1',
        site: SITE,
        time: T0,
        data: { n },
      });
      s.uplink.outbox.append(
        kind === 'incident' ? `vigie.${SITE}.incident.opened` : `vigie.${SITE}.job.offered`,
        e,
      );
    }
  })();
  await eventually('a refused publish', () => /^publish: /.test(s.uplink.status().lastError ?? ''));
  // Everything from the first refused event on is still queued, however many later ones were stored.
  assert.equal(s.uplink.status().depth, 40);
  assert.ok(s.uplink.outbox.peek(1)[0].attempts >= 1);

  await jsm.streams.update('VIGIE', { subjects: ['vigie.*.job.*', 'vigie.*.incident.*'] });
  await drained(s.uplink);
  const stored = await readStream(s, 'VIGIE');
  const ns = stored.map((m) => m.event.data.n as number);
  assert.equal(stored.length, 40, 'each event stored once');
  assert.deepEqual(
    [...ns].sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, i) => i),
  );
  const incidents = stored
    .filter((m) => m.subject.includes('.incident.'))
    .map((m) => m.event.data.n as number);
  assert.deepEqual(
    incidents,
    [...incidents].sort((a, b) => a - b),
    'incident events in commit order',
  );
  assert.ok(s.logs.some((l) => l.includes('stream exists with other subjects')));
});

/** A command over core NATS request/reply, as the contact center sends it. */
async function command(
  s: Setup,
  verb: string,
  body: unknown,
  token: string | undefined = OPERATOR_TOKEN,
): Promise<any> {
  const h = headers();
  if (token) h.set('Authorization', `Bearer ${token}`);
  const data = typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  const r = await s.client.request(`vigie.${SITE}.cmd.${verb}`, data, { headers: h, timeout: 5000 });
  return r.json();
}

test('uplink - commands: acknowledge, note and resolve with a good token; refusals get coded errors', async () => {
  const s = await setup();
  const [{ incident }] = s.h.apply([openT(T0)]);
  await eventually('the command subscriptions', async () => {
    try {
      return (await command(s, 'note', { incidentId: 'inc_none', note: 'ping' })).ok === false;
    } catch {
      return false; // no responders yet
    }
  });

  const ack = await command(s, 'acknowledge', { incidentId: incident.id, actor: 'claire', note: 'on it' });
  assert.equal(ack.ok, true);
  assert.equal(ack.incident.state, 'acknowledged');
  assert.equal(ack.incident.acknowledgedBy, 'token:ops-console/claire');
  const noted = await command(s, 'note', { incidentId: incident.id, note: 'customer called back' });
  assert.equal(noted.ok, true);
  const timeline = s.h.service.timeline(incident.id);
  assert.deepEqual(
    timeline.slice(1).map((e) => [e.kind, e.actor, e.detail.via]),
    [
      ['acknowledged', 'token:ops-console/claire', 'nats'],
      ['note', 'token:ops-console', 'nats'],
    ],
  );
  assert.equal(timeline[1].detail.note, 'on it');
  assert.equal(timeline[2].detail.text, 'customer called back');

  const refused = async (verb: string, body: unknown, token?: string) =>
    (await command(s, verb, body, token)).error?.code as string;
  assert.equal(
    await refused('resolve', { incidentId: incident.id }, 'not-a-token-at-all-000000000000'),
    'unauthorized',
  );
  const bare = await s.client.request(
    `vigie.${SITE}.cmd.resolve`,
    Buffer.from(JSON.stringify({ incidentId: incident.id })),
  );
  assert.equal(bare.json<any>().error.code, 'unauthorized');
  assert.equal(await refused('resolve', { incidentId: incident.id }, VIEWER_TOKEN), 'forbidden');
  assert.equal(await refused('resolve', '{"incidentId": ', OPERATOR_TOKEN), 'bad-request');
  assert.equal(await refused('resolve', '[1,2]', OPERATOR_TOKEN), 'bad-request');
  assert.equal(await refused('resolve', { incidentId: incident.id, by: 'x' }, OPERATOR_TOKEN), 'bad-request');
  assert.equal(await refused('note', { incidentId: incident.id }, OPERATOR_TOKEN), 'bad-request');
  const huge = JSON.stringify({ incidentId: incident.id, note: 'x'.repeat(70 * 1024) });
  assert.equal(await refused('note', huge, OPERATOR_TOKEN), 'bad-request');
  assert.equal(await refused('acknowledge', { incidentId: 'inc_unknown' }, OPERATOR_TOKEN), 'not-found');
  assert.equal(s.h.service.get(incident.id)?.state, 'acknowledged');

  const resolved = await command(s, 'resolve', { incidentId: incident.id, note: 'fixed' });
  assert.equal(resolved.incident.state, 'resolved');
  assert.equal(resolved.incident.resolvedBy, 'token:ops-console');
  assert.equal(await refused('acknowledge', { incidentId: incident.id }, OPERATOR_TOKEN), 'conflict');

  // A request nobody can answer to is not acted on, and counted.
  s.client.publish(`vigie.${SITE}.cmd.resolve`, Buffer.from(JSON.stringify({ incidentId: incident.id })));
  await eventually('the reply-less command to be counted', () =>
    /vigie_uplink_commands_total\{outcome="no-reply",verb="resolve"\} 1\n/.test(s.metrics.render()),
  );
  const m = s.metrics.render();
  assert.match(m, /vigie_uplink_commands_total\{outcome="ok",verb="acknowledge"\} 1\n/);
  assert.match(m, /vigie_uplink_commands_total\{outcome="unauthorized",verb="resolve"\} 2\n/);
  assert.match(m, /vigie_uplink_commands_total\{outcome="bad-request",verb="resolve"\} 3\n/);
  assert.match(m, /vigie_uplink_commands_total\{outcome="bad-request",verb="note"\} 2\n/);

  // The operator's changes made through NATS are uplink events like any other.
  await drained(s.uplink);
  const stored = await readStream(s, 'VIGIE');
  assert.deepEqual(
    stored.map((x) => x.event.data.transition),
    ['opened', 'acknowledged', 'resolved'],
  );
  assert.equal(stored[1].event.data.actor, 'token:ops-console/claire');
});

function assignment(incidentId: string, over: { id?: string; assignmentId?: string } = {}): CloudEvent {
  return cloudEvent({
    id: over.id ?? `asg_wi_${incidentId}`,
    source: 'vigie://router/router-1',
    type: 'assignment.created',
    subject: incidentId,
    site: SITE,
    time: T0,
    data: {
      assignmentId: over.assignmentId ?? 'as_1',
      workItemId: `wi_${incidentId}`,
      incidentId,
      site: SITE,
      identification: { deviceId: 'door-g12', pastIncidents: 0, recentRepeat: false },
      segment: { tier: 'premium' },
      objective: { intent: 'door', skill: 'access-control' },
      queue: 'premium-access',
      resource: { kind: 'agent-queue', id: 'premium-access' },
      estimatedWaitSec: 45,
      callbackOffered: false,
      routedBy: 'router-1',
      at: T0,
    },
  });
}

async function publishAssignment(s: Setup, e: CloudEvent, msgID = e.id): Promise<void> {
  await s.client.jetstream().publish(`cc.assignments.${SITE}`, Buffer.from(JSON.stringify(e)), { msgID });
}

async function consumerInfo(s: Setup) {
  const jsm = await s.client.jetstreamManager();
  return jsm.consumers.info('CC', `vigie-${SITE}-assignments`);
}

test('uplink - an assignment is applied once, acknowledged after its commit, even when delivered twice', async () => {
  // The first annotate fails (a locked database, say): the message must come back, not be lost.
  let failures = 1;
  const h0 = { service: undefined as unknown as Harness['service'] };
  const incidents: UplinkDeps['incidents'] = {
    acknowledge: (...a) => h0.service.acknowledge(...a),
    resolve: (...a) => h0.service.resolve(...a),
    addNote: (...a) => h0.service.addNote(...a),
    get: (id) => h0.service.get(id),
    annotate: (...a) => {
      if (failures-- > 0) throw new Error('database is locked');
      return h0.service.annotate(...a);
    },
  };
  const s = await setup({ incidents });
  h0.service = s.h.service;
  const [{ incident }] = s.h.apply([openT(T0)]);
  await eventually('the durable consumer', async () => (await consumerInfo(s)).name);

  await publishAssignment(s, assignment(incident.id));
  await eventually('the assignment to be applied', () => s.applied.length === 1);
  assert.equal(s.applied[0].id, incident.id);
  const entries = s.h.service.timeline(incident.id).filter((e) => e.kind === 'assignment');
  assert.equal(entries.length, 1);
  assert.equal(entries[0].actor, 'router:router-1');
  assert.equal(entries[0].detail.queue, 'premium-access');
  assert.deepEqual(s.h.service.get(incident.id)?.context.assignment, {
    queue: 'premium-access',
    resource: { kind: 'agent-queue', id: 'premium-access' },
    estimatedWaitSec: 45,
    callbackOffered: false,
    assignmentId: 'as_1',
  });
  assert.match(s.metrics.render(), /vigie_uplink_assignments_total\{outcome="error"\} 1\n/);

  // The same event again past the duplicate window (another msg id): uplink_seen keeps it once.
  await publishAssignment(s, assignment(incident.id, { assignmentId: 'as_2' }), 'another-msg-id');
  // An assignment for an incident this gateway never had is acknowledged, not retried forever.
  await publishAssignment(s, assignment('inc_elsewhere'));
  // Not JSON: terminated, never redelivered.
  await s.client.jetstream().publish(`cc.assignments.${SITE}`, Buffer.from('{nope'), { msgID: 'bad-1' });
  await eventually('every message to be settled', async () => {
    const info = await consumerInfo(s);
    return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq === 4;
  });
  const m = s.metrics.render();
  assert.match(m, /vigie_uplink_assignments_total\{outcome="applied"\} 1\n/);
  assert.match(m, /vigie_uplink_assignments_total\{outcome="duplicate"\} 1\n/);
  assert.match(m, /vigie_uplink_assignments_total\{outcome="unknown-incident"\} 1\n/);
  assert.match(m, /vigie_uplink_assignments_total\{outcome="malformed"\} 1\n/);
  assert.equal(s.applied.length, 1);
  assert.equal(s.h.service.timeline(incident.id).filter((e) => e.kind === 'assignment').length, 1);
  assert.equal(
    (s.h.service.get(incident.id)?.context.assignment as { assignmentId: string }).assignmentId,
    'as_1',
  );
  assert.equal(s.h.db.prepare('SELECT COUNT(*) FROM uplink_seen').pluck().get(), 1);
});

test('uplink - assignments routed while the gateway was down wait in the durable consumer', async () => {
  const s = await setup();
  const [{ incident }] = s.h.apply([openT(T0)]);
  await eventually('the durable consumer', async () => (await consumerInfo(s)).name);
  await s.uplink.stop();

  await publishAssignment(s, assignment(incident.id));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.applied.length, 0);
  await s.restart();
  await eventually('the waiting assignment to be applied', () => s.applied.length === 1);
  assert.equal(s.h.service.timeline(incident.id).filter((e) => e.kind === 'assignment').length, 1);
});
