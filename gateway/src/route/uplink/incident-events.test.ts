import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { harness, openT, T0, type Harness } from '../testing.js';
import type { CloudEvent } from './events.js';
import { incidentRecorder, type IncidentEventData } from './incident-events.js';
import { Outbox } from './outbox.js';

let h: Harness;
afterEach(() => h?.close());

function setup(): Outbox {
  h = harness();
  const outbox = new Outbox(h.db, h.clock);
  h.service.addRecorder(incidentRecorder(outbox, 'cdg-t2'));
  return outbox;
}

const events = (outbox: Outbox) =>
  outbox
    .peek(100)
    .map((r) => ({ subject: r.subject, event: JSON.parse(r.data) as CloudEvent<IncidentEventData> }));

const operator = { id: 'token:ops-console/alice', via: 'api' };

test('incident events - each change is one CloudEvent on its subject, in commit order', () => {
  const outbox = setup();
  const [{ incident }] = h.apply([openT(T0)]);
  h.clock.advance(5000);
  h.service.acknowledge(incident.id, operator);
  h.clock.advance(5000);
  h.service.resolve(incident.id, operator, 'fixed');

  const got = events(outbox);
  assert.deepEqual(
    got.map((e) => [e.subject, e.event.type, e.event.data.transition, e.event.data.incident.state]),
    [
      ['vigie.cdg-t2.incident.opened', 'com.vigie.incident.opened', 'opened', 'open'],
      [
        'vigie.cdg-t2.incident.acknowledged',
        'com.vigie.incident.acknowledged',
        'acknowledged',
        'acknowledged',
      ],
      ['vigie.cdg-t2.incident.resolved', 'com.vigie.incident.resolved', 'resolved', 'resolved'],
    ],
  );
  const [opened, acked] = got.map((e) => e.event);
  assert.equal(opened.specversion, '1.0');
  assert.equal(opened.source, 'vigie://cdg-t2/gateway');
  assert.equal(opened.subject, incident.id);
  assert.equal(opened.vigiesite, 'cdg-t2');
  assert.equal(opened.datacontenttype, 'application/json');
  assert.equal(opened.time, new Date(T0).toISOString());
  assert.equal(opened.data.actor, 'rule:door-held-open');
  assert.equal(opened.data.incident.device, 'door-g12');
  assert.match(opened.data.incident.ackCode ?? '', /^\d{4}$/);
  assert.deepEqual(opened.data.context, incident.context);
  assert.equal(acked.data.actor, 'token:ops-console/alice');
  assert.equal(acked.time, new Date(T0 + 5000).toISOString());
  assert.equal(new Set(got.map((e) => e.event.id)).size, 3);
});

test('incident events - changes of one transaction are in order, and gone with it when it throws', () => {
  const outbox = setup();
  const [{ incident }] = h.apply([openT(T0)]);
  h.db.transaction(() => {
    h.service.acknowledge(incident.id, operator);
    h.service.resolve(incident.id, operator);
  })();
  assert.deepEqual(
    events(outbox).map((e) => e.event.data.transition),
    ['opened', 'acknowledged', 'resolved'],
  );

  const [{ incident: second }] = h.apply([openT(T0 + 60_000, 'fridge-1')]);
  assert.throws(() =>
    h.db.transaction(() => {
      h.service.acknowledge(second.id, operator);
      throw new Error('the caller failed after the change');
    })(),
  );
  assert.equal(h.service.get(second.id)?.state, 'open');
  assert.deepEqual(
    events(outbox).map((e) => `${e.event.subject}:${e.event.data.transition}`),
    [
      `${incident.id}:opened`,
      `${incident.id}:acknowledged`,
      `${incident.id}:resolved`,
      `${second.id}:opened`,
    ],
  );
});
