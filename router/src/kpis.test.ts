import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KpiTracker, queueView } from './kpis.js';
import { EVENT_TYPES, type AssignmentData, type OutcomeData } from './model.js';
import { route } from './routing.js';
import { event, T0, testConfig, workItem } from './testing.js';

const cfg = testConfig();
const S = 1000;
const DAY = 86_400_000;

function tracker() {
  return new KpiTracker({ reopenWindow: cfg.reopenWindow, retention: cfg.retention });
}

function incident(kind: string, id: string, openedAt: number, at: number, site = 'airport') {
  return event(
    `incident.${kind}`,
    { incident: { id, site, openedAt, at }, transition: kind, context: {} },
    at,
    id,
    site,
  );
}

function jobAccepted(incidentId: string, at: number) {
  return event(
    'job.accepted',
    { job: { id: `job_${incidentId}`, incidentId, state: 'accepted', skills: [] } },
    at,
  );
}

/** A work item, routed, both events in the tracker; returns the assignment. */
function contact(
  k: KpiTracker,
  incidentId: string,
  at: number,
  device = 'coffee-1',
  customerId?: string,
): AssignmentData {
  const w = workItem({
    incidentId,
    device: { id: device, name: device, kind: 'appliance', zone: 'hall-b' },
    ...(customerId ? { customer: { id: customerId, name: 'X' } } : {}),
  });
  k.apply(event('workitem.created', w, at, incidentId));
  const { assignment } = route(w, k.load, cfg, { instance: 'r1', now: at });
  k.apply(event('assignment.created', assignment, at, incidentId));
  return assignment;
}

function outcome(
  k: KpiTracker,
  a: AssignmentData,
  kind: OutcomeData['outcome'],
  at: number,
  toQueue?: string,
) {
  const data: OutcomeData = {
    assignmentId: a.assignmentId,
    workItemId: a.workItemId,
    incidentId: a.incidentId,
    site: a.site,
    outcome: kind,
    at,
    ...(toQueue ? { toQueue } : {}),
  };
  return k.apply(event('outcome.recorded', data, at, a.incidentId));
}

describe('kpis - times', () => {
  it('time to acknowledge, dispatch and resolve from the incident and job events', () => {
    const k = tracker();
    k.apply(incident('opened', 'inc_1', T0, T0));
    k.apply(incident('acknowledged', 'inc_1', T0, T0 + 5 * S));
    k.apply(jobAccepted('inc_1', T0 + 60 * S));
    k.apply(incident('resolved', 'inc_1', T0, T0 + 600 * S));
    const s = k.site('airport')!;
    assert.deepEqual(s.timeToAcknowledge, { count: 1, meanSec: 5, p50Sec: 5, p90Sec: 5 });
    assert.deepEqual(s.timeToDispatch, { count: 1, meanSec: 60, p50Sec: 60, p90Sec: 60 });
    assert.deepEqual(s.timeToResolve, { count: 1, meanSec: 600, p50Sec: 600, p90Sec: 600 });
  });

  it('count, mean, p50 and p90 over many incidents', () => {
    const k = tracker();
    for (let i = 1; i <= 10; i++) {
      k.apply(incident('opened', `inc_${i}`, T0, T0));
      k.apply(incident('acknowledged', `inc_${i}`, T0, T0 + i * S));
    }
    assert.deepEqual(k.site('airport')!.timeToAcknowledge, { count: 10, meanSec: 5.5, p50Sec: 5, p90Sec: 9 });
  });

  it('counts the first acknowledgement only, and nothing for incidents opened before it was listening', () => {
    const k = tracker();
    k.apply(incident('opened', 'inc_1', T0, T0));
    k.apply(incident('acknowledged', 'inc_1', T0, T0 + 5 * S));
    assert.equal(k.apply(incident('acknowledged', 'inc_1', T0, T0 + 50 * S)), false);
    assert.equal(k.apply(incident('acknowledged', 'inc_unseen', T0, T0 + 7 * S)), false);
    assert.equal(k.apply(jobAccepted('inc_unseen', T0 + 7 * S)), false);
    assert.equal(k.site('airport')!.timeToAcknowledge.count, 1);
  });

  it('keeps sites apart', () => {
    const k = tracker();
    k.apply(incident('opened', 'inc_a', T0, T0, 'airport'));
    k.apply(incident('opened', 'inc_m', T0, T0, 'mall'));
    k.apply(incident('resolved', 'inc_m', T0, T0 + 30 * S, 'mall'));
    assert.deepEqual(k.siteIds(), ['airport', 'mall']);
    assert.equal(k.site('airport')!.timeToResolve.count, 0);
    assert.equal(k.site('mall')!.timeToResolve.p50Sec, 30);
    assert.equal(k.site('nowhere'), undefined);
  });
});

describe('kpis - first contact resolution and transfers', () => {
  it('resolved at first contact, transferred, re-opened: the rates over work items with an outcome', () => {
    const k = tracker();
    const a = contact(k, 'inc_a', T0, 'dev-a');
    outcome(k, a, 'resolved', T0 + 60 * S);
    const b = contact(k, 'inc_b', T0, 'dev-b');
    outcome(k, b, 'transferred', T0 + 30 * S, 'security-desk');
    const bt = { ...b, assignmentId: `${b.assignmentId}_t1`, queue: 'security-desk' };
    k.apply(event('assignment.created', bt, T0 + 30 * S, 'inc_b'));
    outcome(k, bt, 'resolved', T0 + 90 * S);
    const c = contact(k, 'inc_c', T0, 'dev-c');
    outcome(k, c, 'resolved', T0 + 60 * S);
    contact(k, 'inc_d', T0 + 2 * DAY, 'dev-c');
    const s = k.site('airport')!;
    assert.equal(s.workItems, 4);
    assert.equal(s.withOutcome, 3);
    assert.equal(s.firstContactResolutions, 1);
    assert.equal(s.firstContactResolutionRate, 0.3333);
    assert.equal(s.transferred, 1);
    assert.equal(s.transferRate, 0.3333);
    assert.equal(s.reopened, 1);
    assert.equal(k.transfersOf(b.workItemId), 1);
  });

  const reopenCases = [
    {
      name: 'same device within the window re-opens',
      device2: 'dev-1',
      cust: [undefined, undefined],
      after: 6 * DAY,
      reopened: 1,
    },
    {
      name: 'same device after the window does not',
      device2: 'dev-1',
      cust: [undefined, undefined],
      after: 8 * DAY,
      reopened: 0,
    },
    {
      name: 'same customer on another device re-opens',
      device2: 'dev-2',
      cust: ['cus_1', 'cus_1'],
      after: DAY,
      reopened: 1,
    },
    {
      name: 'another device, another customer does not',
      device2: 'dev-2',
      cust: ['cus_1', 'cus_2'],
      after: DAY,
      reopened: 0,
    },
  ];
  for (const c of reopenCases) {
    it(c.name, () => {
      const k = tracker();
      const a = contact(k, 'inc_1', T0, 'dev-1', c.cust[0]);
      outcome(k, a, 'resolved', T0 + 60 * S);
      assert.equal(k.site('airport')!.firstContactResolutionRate, 1);
      contact(k, 'inc_2', T0 + 60 * S + c.after, c.device2, c.cust[1]);
      const s = k.site('airport')!;
      assert.equal(s.reopened, c.reopened);
      assert.equal(s.firstContactResolutions, 1 - c.reopened);
    });
  }

  it('an abandoned contact is not a first-contact resolution', () => {
    const k = tracker();
    outcome(k, contact(k, 'inc_1', T0), 'abandoned', T0 + S);
    assert.equal(k.site('airport')!.firstContactResolutionRate, 0);
  });

  it('an assignment gets one outcome; a second one is ignored', () => {
    const k = tracker();
    const a = contact(k, 'inc_1', T0);
    assert.equal(outcome(k, a, 'resolved', T0 + S), true);
    assert.equal(outcome(k, a, 'transferred', T0 + 2 * S, 'security-desk'), false);
    assert.equal(k.assignment(a.assignmentId)!.outcome, 'resolved');
    assert.equal(k.site('airport')!.transferred, 0);
  });

  it('no outcome yet: the rates are null, not zero', () => {
    const k = tracker();
    contact(k, 'inc_1', T0);
    assert.equal(k.site('airport')!.firstContactResolutionRate, null);
    assert.equal(k.site('airport')!.transferRate, null);
  });
});

describe('kpis - queue view', () => {
  it('counts open assignments per queue; outcomes and resolved incidents take them out', () => {
    const k = tracker();
    k.apply(incident('opened', 'inc_1', T0, T0));
    const a1 = contact(k, 'inc_1', T0, 'dev-1');
    const a2 = contact(k, 'inc_2', T0, 'dev-2');
    const a3 = contact(k, 'inc_3', T0, 'dev-3');
    // Two agents at 300 s: one open case (150 s) loses to the empty overflow queue (0 s); then the
    // overflow's one case (600 s) loses to it.
    assert.deepEqual(
      [a1.queue, a2.queue, a3.queue],
      ['appliance-support', 'appliance-overflow', 'appliance-support'],
    );
    assert.equal(k.load('appliance-support'), 2);
    assert.deepEqual(k.backlogBySite('appliance-support'), { airport: 2 });
    outcome(k, a3, 'resolved', T0 + S);
    k.apply(incident('resolved', 'inc_1', T0, T0 + 2 * S));
    assert.equal(k.load('appliance-support'), 0);
    const view = queueView(cfg.queues, k);
    assert.deepEqual(
      view.map((q) => [q.id, q.open, q.estimatedWaitSec]),
      [
        ['appliance-support', 0, 0],
        ['appliance-overflow', 1, 600],
        ['premium-care', 0, 0],
        ['security-desk', 0, 0],
      ],
    );
  });

  it('the same assignment seen twice (published here, then read back from the stream) counts once', () => {
    const k = tracker();
    const a = contact(k, 'inc_1', T0);
    assert.equal(k.apply(event(EVENT_TYPES.assignment, a, T0)), false);
    assert.equal(k.load(a.queue), 1);
  });

  it('an assignment read after its incident was resolved is not in the backlog', () => {
    const k = tracker();
    k.apply(incident('opened', 'inc_1', T0, T0));
    k.apply(incident('resolved', 'inc_1', T0, T0 + S));
    const a = contact(k, 'inc_1', T0 + 2 * S);
    assert.equal(k.load(a.queue), 0);
    assert.equal(k.assignment(a.assignmentId)!.inQueue, false);
  });

  it('an assignment read before its incident opened (the two streams are read apart) still leaves on resolve', () => {
    const k = tracker();
    const a = contact(k, 'inc_1', T0);
    k.apply(incident('opened', 'inc_1', T0, T0));
    assert.equal(k.load(a.queue), 1);
    k.apply(incident('resolved', 'inc_1', T0, T0 + S));
    assert.equal(k.load(a.queue), 0);
  });

  it('a transfer moves the case from one queue to the other', () => {
    const k = tracker();
    const a = contact(k, 'inc_1', T0);
    outcome(k, a, 'transferred', T0 + S, 'security-desk');
    k.apply(
      event(
        'assignment.created',
        { ...a, assignmentId: `${a.assignmentId}_t1`, queue: 'security-desk' },
        T0 + S,
      ),
    );
    assert.equal(k.load('appliance-support'), 0);
    assert.equal(k.load('security-desk'), 1);
  });
});

describe('kpis - robustness', () => {
  const junk: [string, unknown][] = [
    ['null', null],
    ['a string', 'hello'],
    [
      'an envelope without data',
      { specversion: '1.0', id: 'x', type: EVENT_TYPES.workItem, subject: 's', time: 't' },
    ],
    ['a work item with wrong types', event('workitem.created', { workItemId: 42 }, T0)],
    ['an assignment without ids', event('assignment.created', { queue: 'q' }, T0)],
    [
      'an outcome for an unknown assignment',
      event(
        'outcome.recorded',
        { assignmentId: 'nope', workItemId: 'w', site: 'airport', outcome: 'resolved', at: T0 },
        T0,
      ),
    ],
    ['an incident event without incident', event('incident.opened', { transition: 'opened' }, T0)],
    ['an unrelated type', event('job.offered', { job: {} }, T0)],
  ];
  for (const [name, e] of junk) {
    it(`ignores ${name}`, () => {
      const k = tracker();
      assert.equal(k.apply(e), false);
    });
  }

  it('forgets old work items but keeps the counts', () => {
    const k = tracker();
    const a = contact(k, 'inc_1', T0, 'dev-1');
    outcome(k, a, 'resolved', T0 + S);
    k.prune(T0 + 31 * DAY);
    assert.equal(k.assignment(a.assignmentId), undefined);
    assert.equal(k.load(a.queue), 0);
    contact(k, 'inc_2', T0 + 31 * DAY, 'dev-1');
    const s = k.site('airport')!;
    assert.equal(s.firstContactResolutions, 1);
    assert.equal(s.workItems, 2);
  });
});
