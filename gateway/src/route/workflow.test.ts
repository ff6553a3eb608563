import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { memoryLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import type { CrmQuery, CrmResult, CustomerRecord } from './crm/crm.js';
import type { Incident } from './model.js';
import { doorRule, harness, openT, T0, type Harness } from './testing.js';
import type { CloudEvent } from './uplink/events.js';
import { RouteWorkflow } from './workflow.js';

const CUSTOMER: CustomerRecord = {
  id: 'cust-lounge',
  name: 'Lounge Air Services',
  phone: '+33612345690',
  contract: 'premium',
  location: { lat: 49.0033, lon: 2.5703 },
  source: 'directory',
};

let h: Harness;
afterEach(() => h?.close());

function setup(o: { route: Record<string, unknown>; crm: (q: CrmQuery) => CrmResult; workItems?: boolean }) {
  h = harness([{ ...doorRule(), route: o.route }]);
  const emitted: { subject: string; event: CloudEvent<any> }[] = [];
  const jobs: { incident: Incident; profile: string; customer?: CustomerRecord }[] = [];
  const queries: CrmQuery[] = [];
  let commits = 0;
  const wf = new RouteWorkflow({
    db: h.db,
    clock: h.clock,
    logger: memoryLogger(),
    metrics: new Registry(),
    site: h.site,
    incidents: h.service,
    rule: (id) => h.rules.get(id),
    lookup: async (q) => {
      queries.push(q);
      return o.crm(q);
    },
    jobs: {
      create: (incident, profile, customer) => jobs.push({ incident, profile, customer }),
      summary: (id) =>
        jobs.some((j) => j.incident.id === id) ? { id: 'job-1', state: 'offered' } : undefined,
    },
    emit: (subject, event) => emitted.push({ subject, event }),
    workItems: o.workItems ?? true,
    committed: () => commits++,
    crmRetryMs: 1000,
  });
  h.service.addRecorder(wf.recorder);
  const tasks = () => (h.db.prepare('SELECT COUNT(*) AS n FROM route_tasks').get() as { n: number }).n;
  return { wf, emitted, jobs, queries, tasks, commits: () => commits };
}

async function settle(wf: RouteWorkflow): Promise<void> {
  wf.start();
  await wf.idle();
  await wf.stop();
}

test('workflow - an appliance fault: customer looked up and attached, a job started, then one work item with both', async () => {
  const t = setup({
    route: { crm: true, dispatch: 'appliance-repair' },
    crm: () => ({ found: true, customer: CUSTOMER }),
  });
  const [{ incident }] = h.apply([openT(T0)]);
  assert.equal(t.tasks(), 1, 'the task is committed with the incident');
  await settle(t.wf);
  assert.equal(t.tasks(), 0);
  assert.deepEqual(t.queries, [{ deviceId: 'door-g12', site: 'cdg-t2' }]);
  assert.deepEqual(h.service.get(incident.id)!.context.customer, CUSTOMER);
  assert.equal(t.jobs.length, 1);
  assert.equal(t.jobs[0].profile, 'appliance-repair');
  assert.equal(t.jobs[0].customer?.id, 'cust-lounge');
  assert.equal(t.emitted.length, 1);
  const { subject, event } = t.emitted[0];
  assert.equal(subject, 'cc.interactions.cdg-t2');
  assert.equal(event.type, 'com.vigie.workitem.created');
  assert.equal(event.subject, incident.id);
  assert.equal(event.data.workItemId, `wi_${incident.id}`);
  assert.equal(event.data.customer.id, 'cust-lounge');
  assert.deepEqual(event.data.job, { id: 'job-1', state: 'offered' });
  assert.equal(event.data.device.kind, 'door');
  assert.equal(event.data.priority, 'major');
  const crm = h.service.timeline(incident.id).find((e) => e.kind === 'crm');
  assert.deepEqual(crm?.detail, { found: true, customer: 'cust-lounge', source: 'directory' });
  assert.equal(t.commits(), 1);
});

test('workflow - a CRM that fails is asked again, then the job goes out without the customer', async () => {
  const t = setup({
    route: { crm: true, dispatch: 'appliance-repair' },
    crm: () => ({ error: 'CRM answered 503' }),
  });
  const [{ incident }] = h.apply([openT(T0)]);
  await settle(t.wf);
  assert.equal(t.queries.length, 1);
  assert.equal(t.jobs.length, 0, 'waits for the retry');
  h.clock.advance(1000);
  await settle(t.wf);
  h.clock.advance(1000);
  await settle(t.wf);
  assert.equal(t.queries.length, 3, 'three attempts in all');
  assert.equal(t.jobs.length, 1);
  assert.equal(t.jobs[0].customer, undefined);
  const crm = h.service.timeline(incident.id).find((e) => e.kind === 'crm');
  assert.deepEqual(crm?.detail, { found: false, error: 'CRM answered 503' });
  assert.equal(t.emitted[0].event.data.customer, undefined);
});

test('workflow - the task survives a restart between the opening and the lookup', async () => {
  const t = setup({ route: { crm: true }, crm: () => ({ found: false }) });
  h.apply([openT(T0)]);
  h.reopen();
  const again = new RouteWorkflow({
    db: h.db,
    clock: h.clock,
    logger: memoryLogger(),
    metrics: new Registry(),
    site: h.site,
    incidents: h.service,
    rule: (id) => h.rules.get(id),
    lookup: async () => ({ found: false }),
    emit: (subject, event) => t.emitted.push({ subject, event }),
    workItems: true,
    committed: () => undefined,
  });
  await settle(again);
  assert.equal(t.emitted.length, 1, 'the work item goes out after the restart');
});

test('workflow - no task for a rule that opts out of the contact center and needs no customer', async () => {
  const t = setup({ route: { contactCenter: false }, crm: () => ({ found: false }) });
  h.apply([openT(T0)]);
  assert.equal(t.tasks(), 0);
});

test('workflow - a failing transaction leaves nothing half-done and is retried', async () => {
  const t = setup({ route: { crm: true }, crm: () => ({ found: true, customer: CUSTOMER }) });
  const [{ incident }] = h.apply([openT(T0)]);
  let fail = true;
  const emit = t.emitted.push.bind(t.emitted);
  t.emitted.push = (...items) => {
    if (fail) throw new Error('disk full');
    return emit(...items);
  };
  await settle(t.wf);
  assert.equal(t.tasks(), 1, 'still to do');
  assert.equal(h.service.get(incident.id)!.context.customer, undefined, 'the customer was not half-written');
  assert.equal(h.service.timeline(incident.id).filter((e) => e.kind === 'crm').length, 0);
  fail = false;
  h.clock.advance(5000);
  await settle(t.wf);
  assert.equal(t.tasks(), 0);
  assert.equal(t.emitted.length, 1);
});
