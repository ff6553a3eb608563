import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SensorEvent } from '../../../rules/src/model.js';
import type { TimelineRow } from './model.js';
import { SensorPoints, timelinePoint } from './points.js';

const T0 = Date.UTC(2025, 0, 6, 8, 0, 0);
const DOOR = { zone: 'T2-gate-A', kind: 'door' };

function ev(o: Partial<SensorEvent> & { values?: SensorEvent['values'] }): SensorEvent {
  return { site: 'cdg', deviceId: 'door-1', kind: 'door', ts: T0, receivedAt: T0, values: {}, ...o };
}

test('sensor point: tags of the device, every usable value as a field, time of the event', () => {
  const p = new SensorPoints().point(
    ev({
      deviceId: 'temp-7',
      kind: 'temperature',
      values: { celsius: 21.5, alarm: false, label: 'cold room', gone: null, bad: Number.NaN, inf: Infinity },
      battery: 87,
    }),
    { zone: 'kitchen', kind: 'temperature' },
  );
  assert.deepEqual(p, {
    measurement: 'sensor',
    tags: { site: 'cdg', zone: 'kitchen', kind: 'temperature', device: 'temp-7' },
    fields: { celsius: 21.5, alarm: false, label: 'cold room', battery: 87 },
    time: T0,
  });
});

test('sensor point: unknown device is zone "unknown"; a status event carries online', () => {
  const sp = new SensorPoints();
  const off = sp.point(ev({ status: 'offline' }), undefined);
  assert.equal(off?.tags.zone, 'unknown');
  assert.deepEqual(off?.fields, { online: false });
  assert.deepEqual(sp.point(ev({ status: 'online', ts: T0 + 1, battery: 12 }), undefined)?.fields, {
    online: true,
    battery: 12,
  });
});

test('sensor point: nothing to record gives no point', () => {
  assert.equal(new SensorPoints().point(ev({ values: { a: null, b: Number.NaN } }), DOOR), undefined);
});

test('sensor point: long strings are cut at 256 characters, never inside a surrogate pair', () => {
  const sp = new SensorPoints();
  const long = sp.point(ev({ values: { note: 'x'.repeat(1000) } }), DOOR);
  assert.equal((long?.fields.note as string).length, 256);
  const emoji = 'a'.repeat(255) + '😀' + 'tail';
  const cut = sp.point(ev({ ts: T0 + 1, values: { note: emoji } }), DOOR)?.fields.note as string;
  assert.equal(cut, 'a'.repeat(255));
});

test('door: the event that closes it carries how long it was open', () => {
  const sp = new SensorPoints();
  assert.equal(sp.point(ev({ values: { open: true } }), DOOR)?.fields.openMs, undefined);
  // Still open: the opening time is the first one.
  sp.point(ev({ ts: T0 + 5_000, values: { open: true } }), DOOR);
  const other = sp.point(ev({ deviceId: 'door-2', ts: T0 + 6_000, values: { open: false } }), DOOR);
  assert.equal(other?.fields.openMs, undefined, 'a door never seen open has no duration');
  const closed = sp.point(ev({ ts: T0 + 42_000, values: { open: false, badge: 'B12' } }), DOOR);
  assert.deepEqual(closed?.fields, { open: false, badge: 'B12', openMs: 42_000 });
  const again = sp.point(ev({ ts: T0 + 43_000, values: { open: false } }), DOOR);
  assert.equal(again?.fields.openMs, undefined, 'closed twice counts once');
});

test('two events of one device in the same millisecond get distinct times', () => {
  const sp = new SensorPoints();
  const a = sp.point(ev({ values: { open: true } }), DOOR);
  const b = sp.point(ev({ values: { open: false } }), DOOR);
  const c = sp.point(ev({ ts: T0 + 1, values: { open: true } }), DOOR);
  assert.equal(a?.tiebreak, undefined);
  assert.equal(b?.tiebreak, 1);
  assert.equal(c?.tiebreak, undefined);
});

test('a device moved to another zone is tagged with the new one', () => {
  const sp = new SensorPoints();
  const a = sp.point(ev({ values: { open: true } }), DOOR);
  const b = sp.point(ev({ ts: T0 + 1, values: { open: false } }), { zone: 'T2-gate-B', kind: 'door' });
  assert.equal(a?.tags.zone, 'T2-gate-A');
  assert.equal(b?.tags.zone, 'T2-gate-B');
  assert.equal(b?.fields.openMs, 1, 'the door state survives the move');
});

const ROW: TimelineRow = {
  seq: 1_234_567,
  incidentId: 'inc_1',
  at: T0 + 90_000,
  kind: 'opened',
  actor: 'rule:door-forced',
  detail: {},
  site: 'cdg',
  zone: 'T2-gate-A',
  rule: 'door-forced',
  severity: 'critical',
  device: 'door-1',
  openedAt: T0,
};

test('incident transitions: tags, and the duration each one carries', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['opened', {}, {}],
    ['acknowledged', { via: 'console' }, { ttaMs: 90_000 }],
    ['resolved', {}, { ttrMs: 90_000 }],
    ['cleared', { reason: 'closed' }, { openMs: 90_000 }],
    ['escalated', { step: 2, repeat: false, deliveries: 3 }, { step: 2 }],
  ];
  for (const [kind, detail, extra] of cases) {
    const p = timelinePoint({ ...ROW, kind, detail });
    assert.deepEqual(
      p,
      {
        measurement: 'incident',
        tags: { site: 'cdg', zone: 'T2-gate-A', rule: 'door-forced', severity: 'critical', transition: kind },
        fields: { id: 'inc_1', device: 'door-1', count: 1, ...extra },
        time: T0 + 90_000,
        tiebreak: 234_567,
      },
      kind,
    );
  }
});

test('notification outcomes: channel, outcome, latency, success', () => {
  const delivered = timelinePoint({
    ...ROW,
    kind: 'notification',
    detail: {
      deliveryId: 'dlv_9',
      channel: 'sms',
      recipient: 'p:alice',
      step: 0,
      attempt: 1,
      outcome: 'delivered',
      latencyMs: 412.5,
    },
  });
  assert.deepEqual(delivered, {
    measurement: 'notification',
    tags: { site: 'cdg', zone: 'T2-gate-A', channel: 'sms', outcome: 'delivered', severity: 'critical' },
    fields: { incident: 'inc_1', delivery: 'dlv_9', latencyMs: 412.5, attempt: 1, success: 1 },
    time: T0 + 90_000,
    tiebreak: 234_567,
  });
  // A status callback's entry (engage/responder.ts) has no latency.
  const failed = timelinePoint({
    ...ROW,
    kind: 'notification',
    detail: { deliveryId: 'dlv_9', channel: 'voice', attempt: 2, providerStatus: 'busy', outcome: 'failed' },
  });
  assert.deepEqual(failed?.fields, { incident: 'inc_1', delivery: 'dlv_9', attempt: 2, success: 0 });
  assert.equal(failed?.tags.outcome, 'failed');
  const sent = timelinePoint({ ...ROW, kind: 'notification', detail: { channel: 'sms', outcome: 'sent' } });
  assert.equal(sent?.fields.success, 1);
});

test('rows that are not telemetry give no point', () => {
  assert.equal(timelinePoint({ ...ROW, kind: 'note', detail: { text: 'hi' } }), undefined);
  assert.equal(timelinePoint({ ...ROW, kind: 'crm' }), undefined);
  // A failover's new delivery has no outcome yet.
  const failover = { deliveryId: 'dlv_2', failover: { from: 'sms', to: 'voice' }, recipient: 'p:bob' };
  assert.equal(timelinePoint({ ...ROW, kind: 'notification', detail: failover }), undefined);
});

test('an empty zone is tagged "unknown" (an empty tag is not valid line protocol)', () => {
  assert.equal(timelinePoint({ ...ROW, zone: '' })?.tags.zone, 'unknown');
});
