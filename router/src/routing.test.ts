import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transferNumber, type WorkItem } from './model.js';
import { chooseQueue, estimateWaitSec, identify, objective, route, segment, transfer } from './routing.js';
import { T0, testConfig, workItem } from './testing.js';

const cfg = testConfig();
const DAY = 86_400_000;
const loads =
  (m: Record<string, number>) =>
  (q: string): number =>
    m[q] ?? 0;
const ctx = { instance: 'r1', now: T0 + 1234 };
const customer = (contract?: string, value?: number): NonNullable<WorkItem['customer']> => ({
  id: 'cus_1',
  name: 'Café du Hall',
  ...(contract !== undefined ? { contract } : {}),
  ...(value !== undefined ? { value } : {}),
});

describe('routing - identification', () => {
  const cases: { name: string; history: WorkItem['history']; past: number; repeat: boolean }[] = [
    { name: 'no history', history: [], past: 0, repeat: false },
    {
      name: 'a fault two days ago is a recent repeat',
      history: [{ incidentId: 'inc_0', rule: 'appliance-fault', openedAt: T0 - 2 * DAY }],
      past: 1,
      repeat: true,
    },
    {
      name: 'a fault ten days ago is history, not a repeat',
      history: [{ incidentId: 'inc_0', rule: 'appliance-fault', openedAt: T0 - 10 * DAY }],
      past: 1,
      repeat: false,
    },
    {
      name: 'the incident itself is not its own past',
      history: [{ incidentId: 'inc_1', rule: 'appliance-fault', openedAt: T0 }],
      past: 0,
      repeat: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const id = identify(workItem({ history: c.history }), cfg.reopenWindow);
      assert.equal(id.pastIncidents, c.past);
      assert.equal(id.recentRepeat, c.repeat);
      assert.equal(id.deviceId, 'coffee-1');
    });
  }

  it('names the customer when the CRM found one', () => {
    const id = identify(workItem({ customer: customer('gold') }), cfg.reopenWindow);
    assert.equal(id.customerId, 'cus_1');
    assert.equal(id.customerName, 'Café du Hall');
  });
});

describe('routing - segmentation', () => {
  const cases: { name: string; c?: NonNullable<WorkItem['customer']>; tier: string; value?: number }[] = [
    { name: 'no customer is basic', tier: 'basic' },
    { name: 'premium contract', c: customer('premium'), tier: 'premium' },
    { name: 'contract names are case-blind', c: customer('Gold'), tier: 'premium' },
    { name: 'standard contract', c: customer('standard', 800), tier: 'standard', value: 800 },
    { name: 'unknown contract is basic', c: customer('none'), tier: 'basic' },
    {
      name: 'a valuable customer is premium whatever the contract',
      c: customer('standard', 25_000),
      tier: 'premium',
      value: 25_000,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = segment(workItem(c.c ? { customer: c.c } : {}), cfg.segments);
      assert.deepEqual(s, c.value === undefined ? { tier: c.tier } : { tier: c.tier, value: c.value });
    });
  }
});

describe('routing - objective', () => {
  const cases: { name: string; intent: WorkItem['intent']; want: { intent: string; skill: string } }[] = [
    {
      name: 'a listed fault code wins over the rule',
      intent: { rule: 'appliance-fault', faultCode: 'E21', category: 'appliance' },
      want: { intent: 'appliance-water-fault', skill: 'appliance' },
    },
    {
      name: 'the rule when the code is not listed',
      intent: { rule: 'appliance-fault', faultCode: 'E99', category: 'appliance' },
      want: { intent: 'appliance-repair', skill: 'appliance' },
    },
    {
      name: 'the device kind when neither is listed',
      intent: { rule: 'aed-custom', category: 'aed' },
      want: { intent: 'medical-emergency', skill: 'emergency' },
    },
    {
      name: 'nothing listed and no default: the rule as intent, skill general',
      intent: { rule: 'mystery', category: 'toaster' },
      want: { intent: 'mystery', skill: 'general' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(objective(workItem({ intent: c.intent }), cfg.intents), c.want));
  }

  it('falls back to the `default` entry', () => {
    const intents = { ...cfg.intents, default: { intent: 'general-enquiry', skill: 'security' } };
    assert.deepEqual(objective(workItem({ intent: { rule: 'x', category: 'y' } }), intents), {
      intent: 'general-enquiry',
      skill: 'security',
    });
  });
});

describe('routing - queue choice', () => {
  it('estimates the wait as backlog per agent times the handle time', () => {
    const q = cfg.queues[0];
    assert.equal(estimateWaitSec(q, 0), 0);
    assert.equal(estimateWaitSec(q, 3), 450);
  });

  const cases: {
    name: string;
    skill: string;
    tier: 'premium' | 'standard' | 'basic';
    load: Record<string, number>;
    queue: string;
    wait: number;
    fallback?: boolean;
  }[] = [
    {
      name: 'all empty: the first that fits',
      skill: 'appliance',
      tier: 'basic',
      load: {},
      queue: 'appliance-support',
      wait: 0,
    },
    {
      name: 'a premium-only queue never takes a basic customer',
      skill: 'appliance',
      tier: 'basic',
      load: { 'appliance-support': 4, 'appliance-overflow': 2 },
      queue: 'appliance-support',
      wait: 600,
    },
    {
      name: 'the shortest wait among those that fit',
      skill: 'appliance',
      tier: 'standard',
      load: { 'appliance-support': 4, 'appliance-overflow': 0 },
      queue: 'appliance-overflow',
      wait: 0,
    },
    {
      name: 'premium prefers the queue serving premium even when it is longer',
      skill: 'appliance',
      tier: 'premium',
      load: { 'premium-care': 3 },
      queue: 'premium-care',
      wait: 720,
    },
    { name: 'skill-based', skill: 'emergency', tier: 'premium', load: {}, queue: 'security-desk', wait: 0 },
    {
      name: 'no queue has the skill: the fallback queue',
      skill: 'plumbing',
      tier: 'basic',
      load: { 'security-desk': 6 },
      queue: 'security-desk',
      wait: 360,
      fallback: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = chooseQueue(c.skill, c.tier, cfg, loads(c.load));
      assert.equal(got.queue.id, c.queue);
      assert.equal(got.waitSec, c.wait);
      assert.equal(got.fallback, c.fallback ?? false);
    });
  }
});

describe('routing - route', () => {
  it('answers the five questions in one assignment', () => {
    const w = workItem({
      customer: customer('gold', 1200),
      history: [{ incidentId: 'inc_0', rule: 'appliance-fault', openedAt: T0 - DAY }],
      intent: { rule: 'appliance-fault', faultCode: 'E21', category: 'appliance' },
    });
    const { assignment, fallback } = route(w, loads({}), cfg, ctx);
    assert.equal(fallback, false);
    assert.deepEqual(assignment, {
      assignmentId: 'asg_wi_inc_1',
      workItemId: 'wi_inc_1',
      incidentId: 'inc_1',
      site: 'airport',
      identification: {
        deviceId: 'coffee-1',
        customerId: 'cus_1',
        customerName: 'Café du Hall',
        pastIncidents: 1,
        recentRepeat: true,
      },
      segment: { tier: 'premium', value: 1200 },
      objective: { intent: 'appliance-water-fault', skill: 'appliance' },
      queue: 'premium-care',
      resource: { kind: 'agent-queue', id: 'premium-care' },
      estimatedWaitSec: 0,
      callbackOffered: false,
      routedBy: 'r1',
      at: T0 + 1234,
    });
  });

  const callbackCases = [
    { open: 4, wait: 600, offered: false },
    { open: 5, wait: 750, offered: true },
  ];
  for (const c of callbackCases) {
    it(`offers a callback only above callbackAboveSec (wait ${c.wait} s -> ${c.offered})`, () => {
      const load = loads({ 'appliance-support': c.open, 'appliance-overflow': 99 });
      const { assignment } = route(workItem(), load, cfg, ctx);
      assert.equal(assignment.queue, 'appliance-support');
      assert.equal(assignment.estimatedWaitSec, c.wait);
      assert.equal(assignment.callbackOffered, c.offered);
    });
  }

  const job = (state: string, skills: string[], technician = true): NonNullable<WorkItem['job']> => ({
    id: 'job_1',
    incidentId: 'inc_1',
    state,
    profile: 'appliance',
    skills,
    ...(technician ? { technician: { id: 'tech-1', firstName: 'Marc' } } : {}),
  });
  const poolCases: {
    name: string;
    job?: NonNullable<WorkItem['job']>;
    resource: { kind: string; id: string };
  }[] = [
    { name: 'no job: the agent queue', resource: { kind: 'agent-queue', id: 'appliance-support' } },
    {
      name: 'a technician accepted: the pool with the job skills',
      job: job('accepted', ['espresso', 'water']),
      resource: { kind: 'technician-pool', id: 'appliance-techs' },
    },
    {
      name: 'another skill, another pool',
      job: job('enroute', ['electrical']),
      resource: { kind: 'technician-pool', id: 'electricians' },
    },
    {
      name: 'a job still looking for a technician: the agent queue',
      job: job('offered', ['espresso'], false),
      resource: { kind: 'agent-queue', id: 'appliance-support' },
    },
    {
      name: 'the technician declined: the agent queue',
      job: job('declined', ['espresso']),
      resource: { kind: 'agent-queue', id: 'appliance-support' },
    },
  ];
  for (const c of poolCases) {
    it(c.name, () => {
      const { assignment } = route(workItem(c.job ? { job: c.job } : {}), loads({}), cfg, ctx);
      assert.deepEqual(assignment.resource, c.resource);
      assert.equal(assignment.queue, 'appliance-support');
    });
  }

  it('a transfer is a new assignment to the target queue, numbered', () => {
    const { assignment } = route(workItem(), loads({}), cfg, ctx);
    const target = cfg.queues.find((q) => q.id === 'security-desk')!;
    const t = transfer(assignment, target, 2, loads({ 'security-desk': 12 }), cfg, {
      instance: 'r2',
      now: T0 + 9,
    });
    assert.equal(t.assignmentId, 'asg_wi_inc_1_t2');
    assert.equal(t.workItemId, assignment.workItemId);
    assert.equal(t.queue, 'security-desk');
    assert.deepEqual(t.resource, { kind: 'agent-queue', id: 'security-desk' });
    assert.equal(t.estimatedWaitSec, 720);
    assert.equal(t.callbackOffered, true);
    assert.equal(t.routedBy, 'r2');
    assert.deepEqual(t.objective, assignment.objective);
  });
});

describe('routing - transfer numbering', () => {
  const cases: [string, number][] = [
    ['asg_wi_inc_1', 0],
    ['asg_wi_inc_1_t1', 1],
    ['asg_wi_inc_1_t12', 12],
    ['asg_wi_inc_t1x', 0],
  ];
  for (const [id, n] of cases) it(`${id} -> ${n}`, () => assert.equal(transferNumber(id), n));
});
