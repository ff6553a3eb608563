import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { planCycle, type PlanItem } from './plan.js';
import { loadScenario, parseScenario } from './scenario.js';

const airport = loadScenario(
  fileURLToPath(new URL('../../../firmware-sim/scenarios/airport.yaml', import.meta.url)),
);
const plan = planCycle(airport, 0);
type Msg = Extract<PlanItem, { values: unknown }>;
const of = (id: string) => plan.filter((i): i is Msg => i.device === id && 'values' in i);

/** The device's last reported value of `field` at offset t (what the gateway believes). */
function stateAt(id: string, field: string, t: number): unknown {
  let v: unknown;
  for (const m of of(id)) if (m.at <= t && field in m.values) v = m.values[field];
  return v;
}

test('plan - every device reports its state at the start of a cycle', () => {
  for (const d of airport.devices)
    assert.ok(
      of(d.id).some((m) => m.at === 0),
      d.id,
    );
});

test('plan - door-g12 is badged, opens at ~t+4s and stays open about a minute', () => {
  const g12 = of('door-g12');
  const swipe = g12.find((m) => m.at === 3000);
  assert.ok(swipe && typeof swipe.values.badge === 'string' && swipe.values.open === false);
  assert.equal(stateAt('door-g12', 'open', 3999), false);
  for (const t of [4000, 30_000, 34_000, 60_000])
    assert.equal(stateAt('door-g12', 'open', t), true, `at ${t}`);
  assert.equal(stateAt('door-g12', 'open', 64_000), false);
});

test('plan - temp-hall-b goes above 27 °C within 8 s and stays there about 3 minutes', () => {
  const readings = of('temp-hall-b').map((m) => ({ at: m.at, c: m.values.celsius as number }));
  const firstHot = readings.find((r) => r.c > 27);
  assert.ok(firstHot && firstHot.at <= 8000, `first reading above 27 at ${firstHot?.at}`);
  const during = readings.filter((r) => r.at >= 8000 && r.at <= 180_000);
  assert.ok(
    during.every((r) => r.c > 27),
    'a reading fell back below 27 during the failure',
  );
  assert.ok(
    readings.filter((r) => r.at > 200_000).every((r) => r.c < 25),
    'not back to normal afterwards',
  );
});

test('plan - normal temperatures wander (noise and drift) but stay plausible', () => {
  const server = of('temp-server-room').map((m) => m.values.celsius as number);
  assert.ok(new Set(server).size > 10, 'readings never change');
  assert.ok(server.every((c) => c > 18.5 && c < 20.5));
});

test('plan - the AED leaves its cabinet at t+10s and is back at t+5min', () => {
  assert.equal(stateAt('aed-hall-b', 'present', 9999), true);
  const removed = of('aed-hall-b').find((m) => m.at === 10_000);
  assert.deepEqual(removed?.values, { present: false, cabinetOpen: true });
  assert.equal(stateAt('aed-hall-b', 'present', 299_999), false);
  assert.equal(stateAt('aed-hall-b', 'present', 300_000), true);
});

test('plan - door-staff-b is forced: opened at t+20s with no badge in the 15 s before', () => {
  const staff = of('door-staff-b');
  assert.ok(staff.some((m) => m.at === 20_000 && m.values.open === true));
  assert.ok(!staff.some((m) => m.at >= 5000 && m.at <= 20_000 && 'badge' in m.values));
  assert.equal(stateAt('door-staff-b', 'open', 28_000), false);
});

test('plan - coffee-lounge-1 reports fault E21 three times within a few minutes', () => {
  const faults = of('coffee-lounge-1').filter((m) => m.values.status === 'fault' && m.values.code === 'E21');
  const first = faults.filter((m) => m.at < 300_000);
  assert.ok(first.length >= 3);
  assert.ok(first[2].at - first[0].at <= 180_000);
  assert.equal(first[0].values.serial, 'WM-0042');
});

test('plan - within one minute a held-open door, an excursion and an AED removal all exist', () => {
  assert.equal(stateAt('door-g12', 'open', 60_000), true);
  assert.ok((stateAt('temp-hall-b', 'celsius', 60_000) as number) > 27);
  assert.equal(stateAt('aed-hall-b', 'present', 60_000), false);
});

test('plan - a dying device sends nothing after its death in that cycle', () => {
  const death = plan.find((i) => 'die' in i);
  assert.ok(death && death.device === 'temp-gate-g' && death.at === 240_000);
  assert.ok(of('temp-gate-g').every((m) => m.at < 240_000));
});

test('plan - the Zigbee door has traffic but no badge swipes', () => {
  const lobby = of('door-lobby');
  assert.ok(lobby.some((m) => m.values.open === true));
  assert.ok(lobby.every((m) => !('badge' in m.values)));
});

test('plan - items are sorted, the same seed replays the same cycle and other cycles differ', () => {
  assert.ok(plan.every((m, i) => i === 0 || plan[i - 1].at <= m.at));
  assert.deepEqual(planCycle(airport, 0), plan);
  assert.notDeepEqual(planCycle(airport, 1), plan);
});

test('plan - heartbeats re-send the current state with the battery level', () => {
  const s = parseScenario(
    `site: lab\nloop: 1m\ndevices:\n  - { id: a, kind: aed, every: 10s, battery: 55 }\n`,
  );
  const beats = planCycle(s, 0).filter((i) => 'values' in i && i.battery === 55);
  assert.ok(beats.length >= 5 && beats.length <= 6);
  assert.ok(beats.every((b) => 'values' in b && b.values.present === true));
});

test('plan - nothing is planned past the end of the loop, even when an episode outlasts it', () => {
  const s = parseScenario(
    `site: lab\nloop: 30s\ndevices:\n  - { id: a, kind: aed, every: 10s }\nepisodes:\n  - { at: 5s, device: a, type: aed-removed, for: 1m }\n`,
  );
  const items = planCycle(s, 0);
  assert.ok(items.every((i) => i.at < 30_000));
  assert.ok(items.some((i) => 'values' in i && i.values.present === false));
});
