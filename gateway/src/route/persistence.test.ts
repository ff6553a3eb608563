import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, openT, T0, type Harness } from './testing.js';

let h: Harness;
afterEach(() => h?.close());

test('persistence - incidents, escalations, deliveries and engine state survive closing the database', () => {
  h = harness();
  const [{ incident }] = h.apply([openT(T0)], {
    upserts: [
      { ruleId: 'door-held-open', deviceId: 'door-g12', state: { phase: 'open', since: T0 - 30_000 } },
    ],
    deletes: [],
  });
  h.service.saveDevices([{ deviceId: 'door-g12', state: { values: { open: true } } }]);
  h.reopen();

  assert.deepEqual(h.service.get(incident.id), incident);
  assert.equal(h.service.deliveries(incident.id).length, 3);
  assert.equal(h.service.nextEscalationDue(), T0 + 20_000);
  assert.deepEqual(h.service.loadEngineState(), {
    keys: [{ ruleId: 'door-held-open', deviceId: 'door-g12', state: { phase: 'open', since: T0 - 30_000 } }],
    devices: [{ deviceId: 'door-g12', state: { values: { open: true } } }],
  });
  // The escalation resumes where it was, even if the rule was unloaded meanwhile (the plan is stored).
  h.rules.clear();
  h.clock.set(T0 + 20_000);
  const [esc] = h.service.runEscalations(h.clock.now());
  assert.equal(esc.incident.escalationStep, 1);
  // And a restart does not open a duplicate for the same key.
  assert.deepEqual(h.apply([openT(T0 + 21_000)]), []);
});
