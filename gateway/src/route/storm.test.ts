import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { memoryLogger } from '../core/log.js';
import type { Device } from '../site/model.js';
import { IncidentService } from './incidents.js';
import { clearT, doorRule, harness, openT, T0, type Harness } from './testing.js';

// Storm control at the route stage: an evacuation opening many doors, a contact that flaps.

let h: Harness;
afterEach(() => h?.close());

const STORM = { group: { after: 3, window: 60_000 }, flap: { threshold: 3, window: 600_000 } };

function stormHarness(doors = 10): Harness {
  h = harness([
    doorRule({
      steps: [
        { afterMs: 0, notify: ['team:security'], via: ['sms'] },
        { afterMs: 120_000, notify: ['person:carol'], via: ['sms'] },
      ],
    }),
  ]);
  const base = h.site.devices[0];
  const extra: Device[] = Array.from({ length: doors }, (_, i) => ({
    ...base,
    id: `door-${i}`,
    name: `Door ${i}`,
  }));
  (h.site as unknown as { devices: Device[] }).devices = [...h.site.devices, ...extra];
  const devices = new Map(h.site.devices.map((d) => [d.id, d]));
  h.service = new IncidentService({
    db: h.db,
    clock: h.clock,
    site: h.site,
    logger: memoryLogger(),
    storm: STORM,
  });
  h.apply = (ts, keys = { upserts: [], deletes: [] }) =>
    h.service.applyTransitions(
      ts,
      keys,
      (id) => h.rules.get(id),
      (id) => devices.get(id),
    );
  return h;
}

test('an evacuation: the first doors alert one by one, the rest become one grouped alert', () => {
  stormHarness();
  const opened = [];
  for (let i = 0; i < 10; i++) {
    h.clock.set(T0 + i * 1000);
    opened.push(h.apply([openT(T0 + i * 1000, `door-${i}`)])[0].incident);
  }
  const sends = (id: string) => h.service.deliveries(id).length;
  // Security has two people with the test site's sms channel: two deliveries per alert.
  assert.deepEqual(
    opened.slice(0, 3).map((i) => sends(i.id)),
    [2, 2, 2],
  );
  const leader = opened[3];
  assert.ok(leader.groupId);
  assert.equal(sends(leader.id), 2, 'one grouped alert per person');
  // Held until the group closes, so it carries the final count.
  assert.ok(h.service.deliveries(leader.id).every((d) => d.nextAttemptAt === T0 + 3000 + 60_000));
  for (const m of opened.slice(4)) {
    assert.equal(m.groupId, leader.groupId);
    assert.equal(sends(m.id), 0, 'no call for each further door');
  }
  assert.equal(h.service.groupSize(leader.groupId!), 7);
  // The first door of the group closes before the alert went out: the alert passes to the next.
  h.apply([clearT(T0 + 5000, 'door-3')]);
  assert.equal(h.service.deliveries(leader.id).length, 0);
  const heir = opened[4];
  assert.equal(h.service.deliveries(heir.id).length, 2);
  const escalates = (id: string) => h.db.prepare('SELECT 1 FROM escalations WHERE incident_id = ?').get(id);
  assert.ok(escalates(heir.id) && !escalates(leader.id), 'the group still escalates, through the heir');
  // Acknowledging the grouped alert acknowledges the doors it stood for.
  h.service.acknowledge(heir.id, { id: 'person:alice', via: 'sms' });
  assert.ok(opened.slice(4).every((i) => h.service.get(i.id)!.state === 'acknowledged'));
  assert.ok(opened.slice(0, 3).every((i) => h.service.get(i.id)!.state === 'open'));
});

test('a flapping contact is damped and says so', () => {
  stormHarness();
  const incidents = [];
  for (let n = 0; n < 5; n++) {
    const at = T0 + n * 60_000;
    h.clock.set(at);
    incidents.push(h.apply([openT(at, 'door-g12')])[0].incident);
    h.apply([clearT(at + 10_000, 'door-g12')]);
  }
  assert.equal(incidents[1].damped, undefined);
  // The third opening in 10 min still alerts, and says the device is flapping.
  assert.deepEqual(incidents[2].context.flapping, { openings: 3, windowMs: 600_000 });
  assert.ok(h.service.deliveries(incidents[2].id).length > 0);
  for (const i of incidents.slice(3)) {
    assert.equal(i.damped, true);
    assert.equal(h.service.deliveries(i.id).length, 0);
    assert.equal(
      h.service.timeline(i.id)[0].detail.storm &&
        (h.service.timeline(i.id)[0].detail.storm as { kind: string }).kind,
      'damped',
    );
  }
  // Quiet again for the window: alerts again.
  const later = T0 + 30 * 60_000;
  h.clock.set(later);
  const back = h.apply([openT(later, 'door-g12')])[0].incident;
  assert.equal(back.damped, undefined);
  assert.ok(h.service.deliveries(back.id).length > 0);
});
