import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, consumerOpts, type JetStreamClient, type NatsConnection } from 'nats';
import { NatsServer } from '../../gateway/test/support/nats-server.js';
import { cloudEvent, subjects, type CloudEvent } from '../../gateway/src/route/uplink/events.js';
import { exampleConfig, RouterProcess } from './support/router-process.js';

// Two router processes on one nats-server, sharing the durable consumer through the queue group:
// every work item is assigned once, one router can die mid-flight, the KPIs follow the streams.

const SITE = 'airport';
const KPI_SITE = 'mall';

let nats: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let dir: string;
let r1: RouterProcess;
let r2: RouterProcess;
/** Every assignment seen on the wire (core subscription), duplicates included. */
const received: { workItemId: string; assignmentId: string; routedBy: string; at: number }[] = [];
const publishedAt = new Map<string, number>();

const DEVICES = [
  {
    id: 'coffee-lounge-1',
    name: 'Lounge coffee machine',
    kind: 'appliance',
    zone: 'hall-b',
    rule: 'appliance-fault',
  },
  { id: 'door-gate-g12', name: 'Gate G12 service door', kind: 'door', zone: 'gates-g', rule: 'door-forced' },
  { id: 'aed-hall-b', name: 'AED cabinet Hall B', kind: 'aed', zone: 'hall-b', rule: 'aed-removed' },
  {
    id: 'temp-hall-b',
    name: 'Hall B temperature',
    kind: 'temperature',
    zone: 'hall-b',
    rule: 'temperature-out-of-range',
  },
];

function workItem(
  incidentId: string,
  i: number,
  site = SITE,
  device = DEVICES[i % DEVICES.length],
): CloudEvent {
  const now = Date.now();
  const contract = ['premium', 'standard', undefined][i % 3];
  return cloudEvent({
    source: `vigie://${site}/gateway`,
    type: 'workitem.created',
    subject: incidentId,
    site,
    time: now,
    data: {
      workItemId: `wi_${incidentId}`,
      site,
      incident: {
        id: incidentId,
        site,
        rule: device.rule,
        device: device.id,
        severity: 'major',
        state: 'open',
        openedAt: now,
        triggerTs: now,
      },
      device: { id: device.id, name: device.name, kind: device.kind, zone: device.zone },
      ...(contract
        ? { customer: { id: `cus_${i % 7}`, name: `Customer ${i % 7}`, contract, source: 'directory' } }
        : {}),
      history: [],
      intent: {
        rule: device.rule,
        category: device.kind,
        ...(device.kind === 'appliance' ? { faultCode: 'E21' } : {}),
      },
      priority: 'major',
    },
  });
}

async function publishWorkItem(ev: CloudEvent, site = SITE): Promise<void> {
  publishedAt.set((ev.data as { workItemId: string }).workItemId, performance.now());
  await js.publish(subjects.workItem(site), JSON.stringify(ev), { msgID: ev.id });
}

/** `com.vigie.incident.{kind}` as the gateway publishes it (only what the KPIs read). */
function incidentEvent(kind: string, id: string, openedAt: number, at: number, site = KPI_SITE): CloudEvent {
  return cloudEvent({
    source: `vigie://${site}/gateway`,
    type: `incident.${kind}`,
    subject: id,
    site,
    time: at,
    data: { incident: { id, site, openedAt, at, state: kind }, transition: kind, context: {} },
  });
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function distinct(prefix: string): Set<string> {
  return new Set(received.filter((r) => r.workItemId.startsWith(prefix)).map((r) => r.workItemId));
}

/** Every assignment stored in the CC stream for a site, read back from the start. */
async function storedAssignments(site: string): Promise<{ msgId: string | undefined; data: any }[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info('CC', { subjects_filter: subjects.assignment(site) });
  const expected = info.state.subjects?.[subjects.assignment(site)] ?? 0;
  const opts = consumerOpts();
  opts.orderedConsumer();
  opts.deliverAll();
  const sub = await js.subscribe(subjects.assignment(site), opts);
  const out: { msgId: string | undefined; data: any }[] = [];
  if (expected > 0) {
    for await (const m of sub) {
      out.push({ msgId: m.headers?.get('Nats-Msg-Id'), data: (m.json() as CloudEvent).data });
      if (out.length >= expected) break;
    }
  }
  sub.unsubscribe();
  return out;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

function latencies(prefix: string): { p50: number; p99: number; n: number } {
  const first = new Map<string, number>();
  for (const r of received)
    if (r.workItemId.startsWith(prefix) && !first.has(r.workItemId)) first.set(r.workItemId, r.at);
  const ms = [...first].map(([id, at]) => at - publishedAt.get(id)!).sort((a, b) => a - b);
  return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), n: ms.length };
}

describe('router - two instances on one JetStream', () => {
  before(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(join(tmpdir(), 'vigie-router-'));
    const config = exampleConfig({
      nats: { servers: [nats.url] },
      // Short, so the test sees a dead router's work items redelivered within seconds.
      consumer: { durable: 'cc-router', queue: 'cc-routers', ackWait: '3s', maxDeliver: 5 },
      log: { level: 'info' },
    });
    // Both at once: they race to create the streams and the consumer.
    [r1, r2] = await Promise.all([
      RouterProcess.start(dir, 'r1', config),
      RouterProcess.start(dir, 'r2', config),
    ]);
    await Promise.all([r1.waitReady(), r2.waitReady()]);
    nc = await connect({ servers: nats.url });
    js = nc.jetstream();
    nc.subscribe('cc.assignments.>', {
      callback: (_err, m) => {
        const ev = m.json() as CloudEvent<{ workItemId: string; assignmentId: string; routedBy: string }>;
        received.push({ ...ev.data, at: performance.now() });
      },
    });
    await nc.flush();
  });

  after(async () => {
    await Promise.allSettled([r1?.stop(), r2?.stop()]);
    await nc?.close();
    await nats?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('both instances share 150 work items, each assigned once, and report their latency', async () => {
    for (let i = 0; i < 150; i++) {
      await publishWorkItem(workItem(`a${i}`, i));
      await new Promise((r) => setTimeout(r, 4));
    }
    await until('150 assignments', () => distinct('wi_a').size === 150 || undefined);
    const byInstance = new Map<string, number>();
    for (const r of received) byInstance.set(r.routedBy, (byInstance.get(r.routedBy) ?? 0) + 1);
    assert.ok(
      (byInstance.get('r1') ?? 0) > 0 && (byInstance.get('r2') ?? 0) > 0,
      JSON.stringify([...byInstance]),
    );
    assert.equal(received.length, 150, 'no work item routed twice');
    const m1 = await r1.metric('router_work_items_total', { outcome: 'assigned' });
    const m2 = await r2.metric('router_work_items_total', { outcome: 'assigned' });
    assert.equal(m1 + m2, 150);
    assert.ok(m1 > 0 && m2 > 0);
    const lat = latencies('wi_a');
    console.log(
      `event-to-router latency (work item published -> assignment received, ${lat.n} items at ~200/s): ` +
        `p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms; split r1=${m1} r2=${m2}`,
    );
  });

  it('the KPIs follow incidents, jobs and outcomes posted by agents, the same on every instance', async () => {
    const t0 = Date.now() - 700_000;
    const incident = (kind: string, id: string, at: number) => incidentEvent(kind, id, t0, at);
    const publish = (subject: string, ev: CloudEvent) =>
      js.publish(subject, JSON.stringify(ev), { msgID: ev.id });
    await publish(`vigie.${KPI_SITE}.incident.opened`, incident('opened', 'k1', t0));
    await publish(`vigie.${KPI_SITE}.incident.acknowledged`, incident('acknowledged', 'k1', t0 + 5_000));
    await publish(
      `vigie.${KPI_SITE}.job.accepted`,
      cloudEvent({
        source: `vigie://${KPI_SITE}/gateway`,
        type: 'job.accepted',
        subject: 'k1',
        site: KPI_SITE,
        time: t0 + 60_000,
        data: {
          job: {
            id: 'job_1',
            incidentId: 'k1',
            state: 'accepted',
            profile: 'appliance',
            skills: ['espresso'],
          },
        },
      }),
    );
    await publish(`vigie.${KPI_SITE}.incident.resolved`, incident('resolved', 'k1', t0 + 600_000));

    const coffee = DEVICES[0];
    const other = (id: string) => ({ ...coffee, id });
    // Three customers (i picks one), three machines.
    for (const [inc, i, dev] of [
      ['k1', 1, coffee],
      ['k2', 4, other('coffee-2')],
      ['k3', 0, other('coffee-3')],
    ] as const)
      await publishWorkItem(workItem(inc, i, KPI_SITE, dev), KPI_SITE);
    // The agent desktop may ask either instance: wait until that one has seen the assignment.
    const post = async (r: RouterProcess, id: string, body: unknown) => {
      await until(`${r.name} knows ${id}`, async () =>
        (await r.json(`/api/v1/assignments/${id}`)).status === 200 ? true : undefined,
      );
      return r.post(`/api/v1/assignments/${id}/outcome`, body);
    };
    assert.equal((await post(r1, 'asg_wi_k1', { outcome: 'resolved' })).status, 202);
    const tr = await post(r2, 'asg_wi_k2', { outcome: 'transferred', toQueue: 'security-desk' });
    assert.equal(tr.status, 202, JSON.stringify(tr.body));
    assert.equal(tr.body.assignment.assignmentId, 'asg_wi_k2_t1');
    assert.equal(tr.body.assignment.queue, 'security-desk');
    assert.equal((await post(r1, 'asg_wi_k2_t1', { outcome: 'resolved' })).status, 202);
    // A transfer needs a target queue.
    assert.equal((await post(r1, 'asg_wi_k3', { outcome: 'transferred' })).status, 400);
    assert.equal((await post(r2, 'asg_wi_k3', { outcome: 'resolved' })).status, 202);
    // The same case twice, through the other instance: refused, not counted twice.
    await until(
      'r2 sees the outcome',
      async () => (await r2.json('/api/v1/assignments/asg_wi_k1')).body.outcome === 'resolved' || undefined,
    );
    assert.equal(
      (await r2.post('/api/v1/assignments/asg_wi_k1/outcome', { outcome: 'abandoned' })).status,
      409,
    );
    // The customer calls back about coffee-3 the next day: the first contact did not fix it.
    await publishWorkItem(workItem('k4', 2, KPI_SITE, other('coffee-3')), KPI_SITE);

    const want = (k: any) =>
      k.reopened === 1 && k.withOutcome === 3 && k.workItems === 4 && k.timeToResolve.count === 1
        ? k
        : undefined;
    const k1 = await until('r1 KPIs', async () => want((await r1.json(`/api/v1/kpis/${KPI_SITE}`)).body));
    const k2 = await until('r2 KPIs', async () => want((await r2.json(`/api/v1/kpis/${KPI_SITE}`)).body));
    assert.deepEqual(k1, k2);
    assert.deepEqual(k1.timeToAcknowledge, { count: 1, meanSec: 5, p50Sec: 5, p90Sec: 5 });
    assert.deepEqual(k1.timeToDispatch, { count: 1, meanSec: 60, p50Sec: 60, p90Sec: 60 });
    assert.deepEqual(k1.timeToResolve, { count: 1, meanSec: 600, p50Sec: 600, p90Sec: 600 });
    assert.equal(k1.firstContactResolutions, 1);
    assert.equal(k1.firstContactResolutionRate, 0.3333);
    assert.equal(k1.transferred, 1);
    assert.equal(k1.transferRate, 0.3333);
    assert.equal(await r1.metric('router_kpi_first_contact_resolution_ratio', { site: KPI_SITE }), 0.3333);
    assert.equal(
      await r2.metric('router_kpi_time_to_acknowledge_seconds', { site: KPI_SITE, stat: 'p50' }),
      5,
    );
    const stored = await storedAssignments(KPI_SITE);
    assert.deepEqual(stored.map((s) => s.msgId).sort(), [
      'asg_wi_k1',
      'asg_wi_k2',
      'asg_wi_k2_t1',
      'asg_wi_k3',
      'asg_wi_k4',
    ]);
    const queues = (await r1.json('/api/v1/queues')).body.queues as { id: string; open: number }[];
    assert.ok(queues.some((q) => q.id === 'appliance-support' || q.id === 'premium-care'));
  });

  it('a router SIGKILLed mid-flight: the other one takes its work items, still one assignment each', async () => {
    const before = received.length;
    const killed = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (received.slice(before).some((r) => r.routedBy === 'r1' && r.workItemId.startsWith('wi_b'))) {
          clearInterval(timer);
          r1.kill('SIGKILL');
          resolve();
        }
      }, 1);
    });
    // A burst: r1 holds delivered, unacknowledged work items when it dies.
    await Promise.all(Array.from({ length: 150 }, (_, i) => publishWorkItem(workItem(`b${i}`, i))));
    await killed;
    await r1.exited;
    await until(
      'all 300 assigned',
      () => distinct('wi_a').size + distinct('wi_b').size === 300 || undefined,
      60_000,
    );
    const stored = await storedAssignments(SITE);
    const count = new Map<string, number>();
    for (const s of stored) count.set(s.data.workItemId, (count.get(s.data.workItemId) ?? 0) + 1);
    assert.equal(count.size, 300);
    assert.deepEqual(
      [...count.values()].filter((n) => n !== 1),
      [],
      'every work item has exactly one assignment',
    );
    for (const s of stored) assert.equal(s.msgId, `asg_${s.data.workItemId}`);
    const fromR1 = stored.filter(
      (s) => s.data.workItemId.startsWith('wi_b') && s.data.routedBy === 'r1',
    ).length;
    const resent = received.length - before - 150;
    const redelivered = await r2.metric('router_work_items_redelivered_total');
    assert.ok(redelivered > 0, 'r2 received the work items r1 held when it died');
    console.log(
      `SIGKILL mid-flight: r1 routed ${fromR1} of the burst before dying, r2 the other ${150 - fromR1}; ` +
        `${redelivered} redelivered to r2 after the ack wait, ${resent} of them already assigned by r1 ` +
        '(republished, dropped by the duplicate window)',
    );
    const jsm = await nc.jetstreamManager();
    await until('consumer drained', async () => {
      const ci = await jsm.consumers.info('CC', 'cc-router');
      return ci.num_pending === 0 && ci.num_ack_pending === 0 ? true : undefined;
    });
  });

  it('a malformed work item is terminated and counted, and the next one still gets through', async () => {
    await js.publish(subjects.workItem(SITE), '{not json', { msgID: 'bad-1' });
    const wrong = workItem('bad2', 0);
    (wrong.data as Record<string, unknown>).device = 42;
    await js.publish(subjects.workItem(SITE), JSON.stringify(wrong), { msgID: wrong.id });
    await publishWorkItem(workItem('after', 0));
    await until('the next work item assigned', () => distinct('wi_after').size === 1 || undefined);
    assert.equal(await r2.metric('router_work_items_total', { site: SITE, outcome: 'malformed' }), 2);
    assert.equal(distinct('wi_bad2').size, 0);
    const jsm = await nc.jetstreamManager();
    await until('nothing left to redeliver', async () => {
      const ci = await jsm.consumers.info('CC', 'cc-router');
      return ci.num_ack_pending === 0 ? true : undefined;
    });
    assert.ok(r2.logs.some((l) => l.includes('malformed work item terminated')));
  });

  it('nats-server restarted: the router reconnects, keeps routing and keeps following the streams', async () => {
    await nats.restart();
    await r2.waitReady(30_000);
    await until(
      'a work item after the restart',
      async () => {
        // Our own client may still be reconnecting: publish until JetStream takes it.
        if (distinct('wi_restart').size === 0)
          await publishWorkItem(workItem('restart', 0)).catch(() => undefined);
        return distinct('wi_restart').size === 1 || undefined;
      },
      30_000,
    );
    const at = Date.now();
    for (const [kind, t] of [
      ['opened', at],
      ['acknowledged', at + 2_000],
    ] as const) {
      const ev = incidentEvent(kind, 'k9', at, t);
      await js.publish(`vigie.${KPI_SITE}.incident.${kind}`, JSON.stringify(ev), { msgID: ev.id });
    }
    const k = await until('the new acknowledgement counted', async () => {
      const body = (await r2.json(`/api/v1/kpis/${KPI_SITE}`)).body;
      return body.timeToAcknowledge.count === 2 ? body : undefined;
    });
    assert.equal(k.timeToAcknowledge.meanSec, 3.5);
  });

  it('SIGTERM stops a router cleanly', async () => {
    r2.kill('SIGTERM');
    assert.equal(await r2.exited, 0);
    assert.ok(r2.logs.some((l) => l.includes('"msg":"stopped"')));
  });
});
