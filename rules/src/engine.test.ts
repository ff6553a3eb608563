import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from './engine.js';
import { compile, devices, event, ruleYaml, setup, show, TestClock } from './test-support.js';

const DOOR_30S = ruleYaml('held', 'devices: { kind: door }\nwhen: { state: { open: true } }\nfor: 30s');
const OFFLINE_RULE = ruleYaml('offline', 'devices: { kind: door }\nwhen: { status: offline }');
const HOT = (h: number) =>
  ruleYaml(
    'hot',
    `devices: { kind: temperature }\nwhen: { threshold: { field: celsius, above: 28, hysteresis: ${h} } }`,
  );

describe('engine', () => {
  it('hysteresis: a reading flapping around the limit opens once', () => {
    const readings = [29, 27.9, 28.1, 27.5, 28.4, 27.2, 29.5];
    const run = (h: number) => {
      const { send, clock } = setup(HOT(h));
      return readings.flatMap((c) => (clock.advance(1000), send('t1', { celsius: c })));
    };
    assert.equal(run(0).length, 7, 'without hysteresis every crossing is a transition');
    assert.deepEqual(run(1), ['open:hot:t1']);
    const { send } = setup(HOT(1));
    assert.deepEqual(send('t1', { celsius: 29 }), ['open:hot:t1']);
    assert.deepEqual(send('t1', { celsius: 27.01 }, Date.UTC(2026, 0, 5, 12, 0, 1)), []);
    assert.deepEqual(send('t1', { celsius: 27 }, Date.UTC(2026, 0, 5, 12, 0, 2)), ['clear:hot:t1']);
  });

  it('for: due exactly at ts + for opens, on advance() or on an event at that instant', () => {
    const a = setup(DOOR_30S);
    const t0 = a.clock.t;
    a.send('d1', { open: true });
    assert.equal(a.engine.nextDue(), t0 + 30_000);
    assert.deepEqual(a.wait(29_999), []);
    assert.deepEqual(a.wait(1), ['open:held:d1']);
    assert.equal(a.engine.nextDue(), undefined);

    // The door closes at exactly ts + for, before the host's timer ran: it was open for 30 s.
    const b = setup(DOOR_30S);
    b.send('d1', { open: true });
    b.clock.advance(30_000);
    assert.deepEqual(b.send('d1', { open: false }), ['open:held:d1', 'clear:held:d1']);
    // One millisecond earlier it would not have been.
    const c = setup(DOOR_30S);
    c.send('d1', { open: true });
    c.clock.advance(29_999);
    assert.deepEqual(c.send('d1', { open: false }), []);
    assert.deepEqual(c.wait(10_000), []);
  });

  it('for counts from the event time: a late event has served part of its window', () => {
    const a = setup(DOOR_30S);
    assert.deepEqual(a.send('d1', { open: true }, a.clock.t - 20_000), []);
    assert.deepEqual(a.wait(9_999), []);
    assert.deepEqual(a.wait(1), ['open:held:d1']);
    const b = setup(DOOR_30S);
    const [t] = b.engine.ingest(event('d1', 'door', { open: true }, b.clock.t - 40_000, b.clock.t));
    assert.equal(t.type, 'open');
    assert.equal(t.triggerTs, b.clock.t - 40_000);
    assert.equal(t.reason, 'open = true for 30s');
  });

  it('a ts far in the past or the future uses the receive time and is counted, never dropped', () => {
    for (const off of [-86_400_000, +3_600_000]) {
      const { engine, clock } = setup(DOOR_30S);
      assert.deepEqual(show(engine.ingest(event('d1', 'door', { open: true }, clock.t + off, clock.t))), []);
      assert.equal(engine.stats.skewed, 1);
      assert.equal(engine.nextDue(), clock.t + 30_000, 'the window starts at the receive time');
      clock.advance(30_000);
      assert.deepEqual(show(engine.advance()), ['open:held:d1']);
    }
  });

  it('out-of-order events do not roll the state back; duplicates count once', () => {
    const { engine, send, clock } = setup(
      ruleYaml(
        'f',
        'devices: { kind: appliance }\nwhen: { count: { where: { state: { status: fault } }, atLeast: 2, within: 10m } }',
      ),
    );
    const t0 = clock.t;
    assert.deepEqual(send('a1', { status: 'fault' }, t0), []);
    assert.deepEqual(send('a1', { status: 'fault' }, t0), [], 'QoS 1 redelivery');
    assert.equal(engine.stats.duplicates, 1);
    clock.advance(5000);
    assert.deepEqual(send('a1', { status: 'ok' }, t0 + 5000), []);
    assert.deepEqual(send('a1', { status: 'fault' }, t0 + 1000), [], 'older than the last accepted one');
    assert.equal(engine.stats.outOfOrder, 1);
    assert.equal(engine.deviceState('a1')?.values.status, 'ok');
    assert.deepEqual(send('a1', { status: 'fault' }, t0 + 6000), ['open:f:a1']);
    assert.equal(engine.stats.events, 5);
  });

  it('returns one shared frozen empty array when nothing happens', () => {
    const { engine, clock } = setup(DOOR_30S);
    const a = engine.ingest(event('d1', 'door', { open: false }, clock.t));
    const b = engine.ingest(event('d2', 'door', { open: false }, clock.t));
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    assert.equal(engine.advance(), a);
  });

  it('restart during a for window: the window that ended while down opens once, never twice', () => {
    const rules = compile(DOOR_30S);
    const clock = new TestClock();
    const first = new Engine({ clock });
    first.setRules(rules);
    first.setDevices(devices);
    first.ingest(event('d1', 'door', { open: true }, clock.t));
    const keys = first.takeDirtyKeys();
    const devs = first.takeDirtyDevices();
    assert.equal(keys.upserts.length, 1);
    // Down for a minute (kill -9): the window ended meanwhile.
    clock.advance(60_000);
    for (const order of ['rules-first', 'restore-first'] as const) {
      const second = new Engine({ clock });
      if (order === 'rules-first') {
        second.setRules(compile(DOOR_30S));
        second.setDevices(devices);
        second.restore(keys.upserts, devs);
      } else {
        second.restore(keys.upserts, devs);
        second.setDevices(devices);
        second.setRules(compile(DOOR_30S));
      }
      assert.equal(second.nextDue(), keys.upserts[0] && clock.t - 30_000);
      const opened = second.advance();
      assert.deepEqual(show(opened), ['open:held:d1'], order);
      assert.equal(opened[0].triggerTs, clock.t - 30_000, 'the window ended at ts + for');
      assert.deepEqual(show(second.advance()), []);
      assert.deepEqual(
        show(second.ingest(event('d1', 'door', { open: true }, clock.t - 60_000))),
        [],
        'redelivered',
      );
      // After the open is committed, a second restart restores it active: no second open.
      const third = new Engine({ clock });
      third.setRules(compile(DOOR_30S));
      third.setDevices(devices);
      third.restore(second.takeDirtyKeys().upserts, second.takeDirtyDevices());
      assert.deepEqual(show(third.advance()), []);
      clock.advance(1000);
      assert.deepEqual(show(third.ingest(event('d1', 'door', { open: false }, clock.t))), ['clear:held:d1']);
      clock.advance(-1000);
    }
  });

  it('restart: silence counts again from max(lastSeen, now), not from before the outage', () => {
    const yaml = ruleYaml('quiet', 'devices: { ids: [t1] }\nwhen: { absent: 5m }');
    const clock = new TestClock();
    const first = new Engine({ clock });
    first.setRules(compile(yaml));
    first.setDevices(devices);
    first.ingest(event('t1', 'temperature', { celsius: 20 }, clock.t));
    const devs = first.takeDirtyDevices();
    clock.advance(3_600_000);
    const second = new Engine({ clock });
    second.setRules(compile(yaml));
    second.setDevices(devices);
    second.restore(first.takeDirtyKeys().upserts, devs);
    assert.deepEqual(show(second.advance()), []);
    assert.equal(second.deviceState('t1')?.values.celsius, 20);
    clock.advance(299_999);
    assert.deepEqual(show(second.advance()), []);
    clock.advance(1);
    assert.deepEqual(show(second.advance()), ['open:quiet:t1']);
  });

  it('setRules keeps the state of unchanged rules, keeps the phase of changed ones, drops removed ones', () => {
    const { engine, send, clock } = setup(HOT(1));
    assert.deepEqual(send('t1', { celsius: 29 }), ['open:hot:t1']);
    engine.takeDirtyKeys();
    engine.setRules(compile(HOT(1)));
    clock.advance(1000);
    assert.deepEqual(show(engine.advance()), []);
    assert.deepEqual(send('t1', { celsius: 29.5 }), [], 'still the same incident');
    // Changed (hysteresis 2): stays active, then clears when evaluated false.
    engine.setRules(compile(HOT(2)));
    assert.deepEqual(show(engine.advance()), []);
    clock.advance(1000);
    assert.deepEqual(send('t1', { celsius: 27 }), ['clear:hot:t1']);
    assert.deepEqual(send('t1', { celsius: 29 }, clock.t + 1), ['open:hot:t1']);
    engine.takeDirtyKeys();
    engine.setRules([]);
    assert.deepEqual(engine.takeDirtyKeys(), { upserts: [], deletes: [{ ruleId: 'hot', deviceId: 't1' }] });
    assert.equal(engine.nextDue(), undefined);
  });

  it('a changed rule re-evaluates idle keys: a lower limit catches the current value', () => {
    const { engine, send } = setup(HOT(1));
    assert.deepEqual(send('t1', { celsius: 27 }), []);
    engine.setRules(compile(HOT(1).replace('above: 28', 'above: 26')));
    assert.deepEqual(show(engine.advance()), ['open:hot:t1']);
  });

  it('persists keys only while they matter and reports deletes', () => {
    const { engine, send, clock } = setup(DOOR_30S);
    send('d1', { open: true });
    const a = engine.takeDirtyKeys();
    assert.equal(a.upserts.length, 1);
    assert.deepEqual(engine.takeDirtyKeys(), { upserts: [], deletes: [] });
    clock.advance(1000);
    send('d1', { open: false });
    assert.deepEqual(engine.takeDirtyKeys(), { upserts: [], deletes: [{ ruleId: 'held', deviceId: 'd1' }] });
    assert.equal(engine.takeDirtyDevices().length, 1);
    assert.equal(engine.takeDirtyDevices().length, 0);
  });

  it('deviceState: values, online, offline by status or silence, battery', () => {
    const { engine, clock } = setup(DOOR_30S);
    assert.deepEqual(engine.deviceState('d1'), { values: {}, online: false });
    assert.equal(engine.deviceState('nope'), undefined);
    engine.ingest({ ...event('d1', 'door', { open: true }, clock.t), battery: 80 });
    assert.deepEqual(engine.deviceState('d1'), {
      values: { open: true },
      lastSeen: clock.t,
      lastTs: clock.t,
      online: true,
      battery: 80,
    });
    clock.advance(1000);
    engine.ingest({ ...event('d1', 'door', {}, clock.t), status: 'offline' });
    assert.equal(engine.deviceState('d1')?.offlineReason, 'status');
    clock.advance(1000);
    engine.ingest({ ...event('d1', 'door', {}, clock.t), status: 'online' });
    assert.equal(engine.deviceState('d1')?.online, true);
    clock.advance(120_001);
    assert.equal(engine.deviceState('d1')?.online, false);
    assert.equal(engine.deviceState('d1')?.offlineReason, 'silent');
  });

  it('restart keeps a count window and a hysteresis latch', () => {
    const yaml = [
      ruleYaml(
        'faults',
        'devices: { kind: appliance }\nwhen: { count: { where: { state: { status: fault } }, atLeast: 2, within: 10m } }',
      ),
      HOT(1),
    ].join('---\n');
    const clock = new TestClock();
    const first = new Engine({ clock });
    first.setRules(compile(yaml));
    first.setDevices(devices);
    first.ingest(event('a1', 'appliance', { status: 'fault' }, clock.t));
    first.ingest(event('t1', 'temperature', { celsius: 29 }, clock.t));
    const keys = first.takeDirtyKeys();
    const devs = first.takeDirtyDevices();
    clock.advance(60_000);
    const second = new Engine({ clock });
    second.setRules(compile(yaml));
    second.setDevices(devices);
    second.restore(keys.upserts, devs);
    assert.deepEqual(show(second.advance()), []);
    assert.deepEqual(
      show(second.ingest(event('t1', 'temperature', { celsius: 27.5 }, clock.t))),
      [],
      'latched',
    );
    assert.deepEqual(show(second.ingest(event('a1', 'appliance', { status: 'fault' }, clock.t))), [
      'open:faults:a1',
    ]);
  });

  it('a ts ahead of the gateway clock counts as now: it fires no window early and hides nothing after it', () => {
    const { engine, clock, send } = setup(DOOR_30S);
    send('d1', { open: true });
    // The device's clock runs 40 s fast: its "closed" message must not make the door look open for 40 s.
    assert.deepEqual(
      show(engine.ingest(event('d1', 'door', { open: false }, clock.t + 40_000, clock.t))),
      [],
    );
    assert.equal(engine.stats.skewed, 1);
    // Its next message, stamped correctly, is not taken for an out-of-order one.
    clock.t += 1000;
    assert.deepEqual(show(engine.ingest(event('d1', 'door', { open: true }, clock.t, clock.t))), []);
    assert.equal(engine.stats.outOfOrder, 0);
    clock.t += 30_000;
    assert.deepEqual(show(engine.advance()), ['open:held:d1']);
  });

  it('a status message is never out of order, even after a message dated in the future', () => {
    const { engine, clock } = setup(OFFLINE_RULE);
    engine.ingest(event('d1', 'door', { open: false }, clock.t + 1500, clock.t));
    const out = show(engine.ingest({ ...event('d1', 'door', {}, clock.t, clock.t), status: 'offline' }));
    assert.deepEqual(out, ['open:offline:d1']);
    assert.equal(engine.stats.outOfOrder, 0);
  });

  it('setDevices drops the state of devices that left the site', () => {
    const { engine, send } = setup(DOOR_30S);
    send('d1', { open: true });
    engine.takeDirtyKeys();
    engine.setDevices(devices.filter((d) => d.id !== 'd1'));
    assert.deepEqual(engine.takeDirtyKeys(), { upserts: [], deletes: [{ ruleId: 'held', deviceId: 'd1' }] });
    assert.equal(engine.deviceState('d1'), undefined);
    assert.equal(engine.nextDue(), undefined);
  });

  it('keeps up with 10,000 devices at well over 50k events/s', () => {
    const yaml = [
      ruleYaml('held', 'devices: { kind: door }\nwhen: { state: { open: true } }\nfor: 30s'),
      ruleYaml(
        'hot',
        'devices: { kind: temperature }\nwhen: { threshold: { field: celsius, above: 28, hysteresis: 1 } }\nfor: 30s',
      ),
      ruleYaml('quiet', 'devices: all\nwhen: { any: [{ status: offline }, { absent: 2m }] }'),
    ].join('---\n');
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      id: `dev-${i}`,
      kind: i % 2 ? 'door' : 'temperature',
      site: 's',
      zone: 'z',
      tags: [],
    }));
    const clock = new TestClock();
    const engine = new Engine({ clock });
    engine.setRules(compile(yaml));
    engine.setDevices(many);
    engine.advance();
    const evs = many.map((d, i) =>
      event(d.id, d.kind, d.kind === 'door' ? { open: i % 4 === 1 } : { celsius: 20 + (i % 10) }, 0),
    );
    const n = 200_000;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const ev = evs[i % evs.length];
      clock.t += i % 20 === 0 ? 1 : 0;
      (ev as { ts: number }).ts = clock.t;
      (ev as { receivedAt: number }).receivedAt = clock.t;
      engine.ingest(ev);
    }
    const rate = n / ((performance.now() - start) / 1000);
    assert.ok(rate > 50_000, `${Math.round(rate)} events/s`);
  });
});
