import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Scalar } from '../../../rules/src/model.js';
import type { RecordedEvent } from './model.js';
import { loadWorkbench, type Workbench } from './setup.js';
import { Simulation } from './simulation.js';

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLES = join(here, '../../../..', 'rules/examples');
const T0 = Date.UTC(2026, 0, 6, 9, 0, 0);
const s = (n: number) => T0 + n * 1000;
const ev = (at: number, deviceId: string, values: Record<string, Scalar>): RecordedEvent => ({
  type: 'event',
  receivedAt: at,
  ts: at,
  deviceId,
  values,
});

let wb: Workbench;
before(async () => {
  const loaded = await loadWorkbench({
    rulesDir: EXAMPLES,
    siteFile: join(EXAMPLES, 'site.yaml'),
    channels: ['voice', 'sms'],
  });
  assert.deepEqual(loaded.problems, []);
  wb = loaded.workbench!;
});

describe('workbench simulation - the live stages on a manual clock', () => {
  test('an event that changes no incident is handled without a promise', () => {
    const sim = new Simulation(wb, { start: T0 });
    try {
      assert.equal(sim.event(ev(s(1), 'temp-hall-b', { celsius: 21 })), undefined);
      assert.equal(sim.event(ev(s(2), 'door-g12', { open: true })), undefined);
      assert.equal(sim.events, 2);
      // The door's 30 s window is the next thing due, on the engine's side.
      assert.equal(sim.nextDue(), s(32));
    } finally {
      sim.close();
    }
  });

  test('advanceTo fires a `for` window at its own time and pages at once', async () => {
    const lines: string[] = [];
    const sim = new Simulation(wb, {
      start: T0,
      onChange: (l) => lines.push(`${l.at - T0} ${l.kind} ${l.text}`),
    });
    try {
      assert.equal(sim.event(ev(s(2), 'door-g12', { open: true })), undefined);
      assert.equal(sim.advanceTo(s(31)), undefined, 'nothing is due before +32 s');
      const waiting = sim.advanceTo(s(40));
      assert.ok(waiting instanceof Promise, 'deliveries were due');
      await waiting;
      assert.equal(sim.clock.now(), s(40));
      assert.equal(
        lines[0],
        '32000 opened door-held-open on door-g12 (Door G12 (jet bridge)): open = true for 30s',
      );
      assert.deepEqual(lines.slice(1).sort(), [
        '32000 notification sms to Amina Diallo (person:sec-amina), step 1',
        '32000 notification voice to Amina Diallo (person:sec-amina), step 1',
      ]);
      // Next: the supervisors' step, 20 s after the opening.
      assert.equal(sim.nextDue(), s(52));
    } finally {
      sim.close();
    }
  });

  test('a critical incident opened by an event starts its first step before the call returns', async () => {
    const sim = new Simulation(wb, { start: T0 });
    try {
      const waiting = sim.event(ev(s(3), 'aed-hall-b', { present: false }));
      assert.ok(waiting instanceof Promise);
      await waiting;
      const r = sim.result({ from: T0, to: s(3), wallMs: 0 });
      assert.equal(r.incidents[0].openedAt, s(3));
      assert.ok(r.notifications.length > 0);
      assert.ok(r.notifications.every((n) => n.at === s(3) && n.outcome === 'sent' && n.step === 0));
    } finally {
      sim.close();
    }
  });

  test('storm control is the live one: a flapping door stops paging after the threshold', async () => {
    const sim = new Simulation(wb, { start: T0 });
    try {
      // Open 31 s, closed 9 s, six times within 4 min (threshold: 4 openings in 10 min).
      for (let i = 0; i < 6; i++) {
        await sim.event(ev(s(i * 40), 'door-g12', { open: true }));
        await sim.event(ev(s(i * 40 + 31), 'door-g12', { open: false }));
      }
      await sim.advanceTo(s(250));
      const r = sim.result({ from: T0, to: s(250), wallMs: 0 });
      const held = r.incidents.filter((i) => i.ruleId === 'door-held-open');
      assert.equal(held.length, 6);
      assert.deepEqual(
        held.map((i) => i.damped === true),
        [false, false, false, false, true, true],
      );
      const paged = new Set(r.notifications.map((n) => n.incidentKey));
      assert.ok(!paged.has('door-held-open/door-g12#5'));
      assert.ok(paged.has('door-held-open/door-g12#4'));
    } finally {
      sim.close();
    }
  });
});
