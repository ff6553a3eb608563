import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { IllegalTransitionError, NotFoundError } from '../core/errors.js';
import { clearT, doorRule, harness, openT, T0, type Harness } from './testing.js';

let h: Harness;
afterEach(() => h?.close());

const operator = { id: 'person:alice', via: 'api' };

test('incidents - open creates the incident, its step-0 deliveries and the next escalation', () => {
  h = harness();
  const changes = h.apply([openT(T0)]);
  assert.equal(changes.length, 1);
  const { kind, incident } = changes[0];
  assert.equal(kind, 'opened');
  assert.match(incident.id, /^inc_[0-9a-z]{15}$/);
  assert.equal(incident.state, 'open');
  assert.equal(incident.ruleName, 'Door held open');
  assert.equal(incident.deviceName, 'Door G12');
  assert.equal(incident.zone, 'T2-gates');
  assert.equal(incident.message, 'Door G12 (T2-gates) held open: open for 30s');
  assert.deepEqual(incident.context.camera, {
    stream: 'rtsp://cam-g12/stream',
    snapshot: 'http://cam-g12/snap.jpg',
  });
  assert.deepEqual(h.service.get(incident.id), incident);

  // console: the team once, as written; webhook: each member of the team.
  const d = h.service.deliveries(incident.id).map((x) => `${x.channel}>${x.recipient}@${x.step}:${x.state}`);
  assert.deepEqual(d.sort(), [
    'console>team:security@0:pending',
    'ops-webhook>person:alice@0:pending',
    'ops-webhook>person:bob@0:pending',
  ]);
  assert.equal(h.service.nextEscalationDue(), T0 + 20_000);
  const tl = h.service.timeline(incident.id);
  assert.equal(tl.length, 1);
  assert.equal(tl[0].kind, 'opened');
  assert.equal(tl[0].actor, 'rule:door-held-open');
});

test('incidents - a second open for the same rule and device is ignored (dedup)', () => {
  h = harness();
  const first = h.apply([openT(T0)]);
  h.clock.advance(1000);
  assert.deepEqual(h.apply([openT(T0 + 1000)]), []);
  assert.equal(h.service.list({}).length, 1);
  assert.equal(h.service.deliveries(first[0].incident.id).length, 3);
  // Another device is another incident.
  assert.equal(h.apply([openT(T0 + 1000, 'fridge-1')]).length, 1);
});

test('incidents - the database itself refuses a second active incident for one key', () => {
  h = harness();
  const [{ incident }] = h.apply([openT(T0)]);
  const copy = h.db.prepare(
    `INSERT INTO incidents SELECT 'inc_copy', site, rule_id, rule_name, device_id, device_name, zone, severity, 'acknowledged',
       reason, message, trigger_ts, opened_at, NULL, NULL, NULL, NULL, NULL, 0, values_json, context_json, updated_at, NULL, NULL, 0
     FROM incidents WHERE id = ?`,
  );
  assert.throws(
    () => copy.run(incident.id),
    (e: Error & { code?: string }) => e.code === 'SQLITE_CONSTRAINT_UNIQUE',
  );
  // Once cleared, a new one may open.
  h.apply([clearT(T0 + 10)]);
  assert.equal(h.apply([openT(T0 + 20)]).length, 1);
  assert.equal(h.service.countsByState().cleared, 1);
  assert.equal(h.service.countsByState().open, 1);
});

test('incidents - clear ends the incident and stops its escalation', () => {
  h = harness();
  const [{ incident }] = h.apply([openT(T0)]);
  const [c] = h.apply([clearT(T0 + 5000)]);
  assert.equal(c.kind, 'cleared');
  assert.equal(c.incident.state, 'cleared');
  assert.equal(c.incident.clearedAt, T0 + 5000);
  assert.equal(h.service.nextEscalationDue(), undefined);
  h.clock.advance(60_000);
  assert.deepEqual(h.service.runEscalations(h.clock.now()), []);
  assert.equal(h.service.deliveries(incident.id).length, 3);
  // A clear with nothing open is ignored.
  assert.deepEqual(h.apply([clearT(T0 + 6000)]), []);
});

test('incidents - acknowledge stops escalation, records the actor, and is idempotent', () => {
  h = harness();
  const [{ incident }] = h.apply([openT(T0)]);
  const heard: string[] = [];
  h.service.onChanges((cs) => heard.push(...cs.map((c) => c.kind)));
  h.clock.advance(3000);
  const acked = h.service.acknowledge(incident.id, operator, 'on my way');
  assert.equal(acked.state, 'acknowledged');
  assert.equal(acked.acknowledgedBy, 'person:alice');
  assert.equal(acked.acknowledgedAt, T0 + 3000);
  assert.equal(h.service.nextEscalationDue(), undefined);
  h.clock.advance(3000);
  const again = h.service.acknowledge(incident.id, { id: 'person:bob', via: 'sms' });
  assert.equal(again.acknowledgedBy, 'person:alice');
  const entries = h.service.timeline(incident.id).map((e) => [e.kind, e.actor, e.detail]);
  assert.deepEqual(entries.slice(1), [['acknowledged', 'person:alice', { via: 'api', note: 'on my way' }]]);
  assert.deepEqual(heard, ['acknowledged']);
  h.clock.advance(60_000);
  assert.deepEqual(h.service.runEscalations(h.clock.now()), []);
});

test('incidents - resolve, notes and refused transitions', () => {
  h = harness();
  const [{ incident }] = h.apply([openT(T0)]);
  h.service.addNote(incident.id, { id: 'token:ops', via: 'api' }, 'camera shows nobody');
  const resolved = h.service.resolve(incident.id, operator);
  assert.equal(resolved.state, 'resolved');
  assert.equal(resolved.resolvedBy, 'person:alice');
  assert.throws(() => h.service.acknowledge(incident.id, operator), IllegalTransitionError);
  assert.equal(h.service.resolve(incident.id, operator).state, 'resolved');
  assert.throws(() => h.service.acknowledge('inc_nope', operator), NotFoundError);
  assert.throws(() => h.service.addNote('inc_nope', operator, 'x'), NotFoundError);
  assert.deepEqual(
    h.service.timeline(incident.id).map((e) => `${e.kind}:${e.actor}`),
    ['opened:rule:door-held-open', 'note:token:ops', 'resolved:person:alice'],
  );
  // Cleared incidents are closed by resolving them, not by acknowledging.
  h.apply([openT(T0 + 10)]);
  const [c] = h.apply([clearT(T0 + 20)]);
  assert.throws(() => h.service.acknowledge(c.incident.id, operator), IllegalTransitionError);
  assert.equal(h.service.resolve(c.incident.id, operator).state, 'resolved');
});

test('incidents - escalation runs each step after its delay, repeats the last one, then stops', () => {
  h = harness([doorRule({ repeat: { everyMs: 60_000, times: 2 } })]);
  const [{ incident }] = h.apply([openT(T0)]);
  const step1 = () => h.service.deliveries(incident.id).filter((d) => d.step === 1);

  h.clock.set(T0 + 19_999);
  assert.deepEqual(h.service.runEscalations(h.clock.now()), []);
  h.clock.set(T0 + 20_000);
  assert.equal(h.service.dueEscalations(h.clock.now()).length, 1);
  const [esc] = h.service.runEscalations(h.clock.now());
  assert.equal(esc.kind, 'escalated');
  assert.equal(esc.incident.escalationStep, 1);
  assert.deepEqual(
    step1().map((d) => `${d.channel}>${d.recipient}`),
    ['console>person:carol'],
  );
  assert.equal(h.service.nextEscalationDue(), T0 + 80_000);

  h.clock.set(T0 + 80_000);
  assert.equal(h.service.runEscalations(h.clock.now()).length, 1);
  h.clock.set(T0 + 140_000);
  assert.equal(h.service.runEscalations(h.clock.now()).length, 1);
  assert.equal(step1().length, 3);
  assert.equal(h.service.nextEscalationDue(), undefined);
  h.clock.set(T0 + 400_000);
  assert.deepEqual(h.service.runEscalations(h.clock.now()), []);
  const esc2 = h.service.timeline(incident.id).filter((e) => e.kind === 'escalated');
  assert.deepEqual(
    esc2.map((e) => e.detail.repeat),
    [false, true, true],
  );
});

test('incidents - list filters and engine state round-trip', () => {
  h = harness();
  h.apply([openT(T0), openT(T0 + 1, 'fridge-1')], {
    upserts: [{ ruleId: 'door-held-open', deviceId: 'door-g12', state: { since: T0 } }],
    deletes: [],
  });
  assert.equal(h.service.list({ zone: 'kitchen' }).length, 1);
  assert.equal(h.service.list({ deviceId: 'door-g12', state: ['open'] }).length, 1);
  assert.equal(h.service.list({ state: ['resolved'] }).length, 0);
  assert.equal(h.service.list({ limit: 1 })[0].deviceId, 'fridge-1');
  h.service.saveDevices([{ deviceId: 'door-g12', state: { lastSeen: T0 } }]);
  h.apply([], { upserts: [], deletes: [{ ruleId: 'door-held-open', deviceId: 'door-g12' }] });
  const s = h.service.loadEngineState();
  assert.deepEqual(s.keys, []);
  assert.deepEqual(s.devices, [{ deviceId: 'door-g12', state: { lastSeen: T0 } }]);
});

test('incidents - a batch is one transaction: a failure commits none of it', () => {
  h = harness();
  const bad = { ruleId: 'door-held-open', deviceId: 'door-g12', state: { n: 1n } };
  assert.throws(() => h.apply([openT(T0)], { upserts: [bad], deletes: [] }));
  assert.equal(h.service.list({}).length, 0);
  assert.equal(h.service.nextEscalationDue(), undefined);
  assert.deepEqual(h.service.loadEngineState().keys, []);
  // The caller retries the same batch and it goes through.
  assert.equal(h.apply([openT(T0)]).length, 1);
});
