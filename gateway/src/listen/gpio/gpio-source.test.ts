import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { systemClock } from '../../core/clock.js';
import { memoryLogger } from '../../core/log.js';
import { Registry } from '../../core/metrics.js';
import { FakePins } from '../../io/fake-pins.js';
import type { Device, GpioInput } from '../../site/model.js';
import type { LocalReading } from '../local/model.js';
import { GpioSource } from './gpio-source.js';

// Time is mocked (setTimeout, setInterval, Date): every debounce, retry and keepalive below runs
// at an exact instant whatever the machine's load. setImmediate stays real to let reads resolve.

function device(id: string, gpio: Partial<GpioInput> & { pin: number }, over: Partial<Device> = {}): Device {
  return {
    id,
    kind: 'door',
    name: id,
    site: 'airport',
    zone: 'gates-g',
    tags: [],
    gpio: { activeLow: false, pull: 'up', debounceMs: 0, field: 'open', activeValue: true, ...gpio },
    ...over,
  };
}

function setup(t: TestContext, devices: Device[], opts: { mockTime?: boolean } = {}) {
  if (opts.mockTime !== false) t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 });
  const pins = new FakePins();
  const readings: LocalReading[] = [];
  const metrics = new Registry();
  const logger = memoryLogger();
  const source = new GpioSource({
    devices,
    pins,
    emit: (r) => readings.push(r),
    clock: systemClock,
    logger,
    metrics,
    resyncMs: 5000,
  });
  t.after(() => source.stop());
  return { pins, readings, metrics, logger, source };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function tick(t: TestContext, ms: number): Promise<void> {
  t.mock.timers.tick(ms);
  await flush();
}

/** Moves mocked time one millisecond at a time, letting reads resolve in between. */
async function advance(t: TestContext, ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    t.mock.timers.tick(1);
    await flush();
  }
}

/** The readings without their timestamps, as the listen stage will see them. */
const seen = (readings: LocalReading[]) => readings.map(({ ts: _ts, ...r }) => r);

test('gpio - the current level is emitted at start: a door already open at boot counts', async (t) => {
  const { pins, readings, source } = setup(t, [
    device('door-a', { pin: 17 }),
    device('door-b', { pin: 27 }),
    { ...device('door-mqtt', { pin: 0 }), gpio: undefined },
  ]);
  pins.set(17, 1);
  await source.start();
  assert.deepEqual(seen(readings), [
    { deviceId: 'door-a', values: { open: true } },
    { deviceId: 'door-b', values: { open: false } },
  ]);
  assert.deepEqual(pins.pulls, [
    { line: 17, pull: 'up' },
    { line: 27, pull: 'up' },
  ]);
  assert.deepEqual(source.health(), { ok: true });
  assert.equal(readings[0].ts, 0);
});

test('gpio - active-low: a contact that pulls the line to 0 is open', async (t) => {
  const { pins, readings, source } = setup(t, [device('door-a', { pin: 17, activeLow: true })]);
  pins.set(17, 1);
  await source.start();
  pins.set(17, 0);
  pins.set(17, 1);
  assert.deepEqual(seen(readings), [
    { deviceId: 'door-a', values: { open: false } },
    { deviceId: 'door-a', values: { open: true } },
    { deviceId: 'door-a', values: { open: false } },
  ]);
});

test('gpio - activeValue false: an AED cabinet switch that opens when the AED is taken', async (t) => {
  const aed = device('aed-1', { pin: 22, field: 'present', activeValue: false }, { kind: 'aed' });
  const { pins, readings, source } = setup(t, [aed]);
  await source.start();
  pins.set(22, 1);
  assert.deepEqual(seen(readings), [
    { deviceId: 'aed-1', values: { present: true } },
    { deviceId: 'aed-1', values: { present: false } },
  ]);
});

test('gpio - a bounce that returns to the old level emits nothing', async (t) => {
  const { pins, readings, source, metrics } = setup(t, [device('door-a', { pin: 17, debounceMs: 50 })]);
  await source.start();
  void pins.bounce(17, [1, 0, 1, 0], 5);
  await advance(t, 200);
  assert.deepEqual(seen(readings), [{ deviceId: 'door-a', values: { open: false } }]);
  assert.match(metrics.render(), /vigie_gpio_edges_total\{device="door-a"\} 4/);
});

test('gpio - a change is emitted once, when the line has held it for the debounce', async (t) => {
  const { pins, readings, source } = setup(t, [device('door-a', { pin: 17, debounceMs: 50 })]);
  await source.start();
  void pins.bounce(17, [1, 0, 1], 5); // settles at 1 at t=10
  await advance(t, 59);
  assert.equal(readings.length, 1, 'not before the line held still for 50 ms');
  await advance(t, 1);
  assert.deepEqual(seen(readings).slice(1), [{ deviceId: 'door-a', values: { open: true } }]);
  assert.equal(readings[1].ts, 60);
  await advance(t, 500);
  assert.equal(readings.length, 2, 'the same value is not sent twice');
  pins.set(17, 0);
  await advance(t, 50);
  assert.deepEqual(seen(readings).slice(2), [{ deviceId: 'door-a', values: { open: false } }]);
});

test('gpio - a change undone during the debounce by an edge the kernel lost is not announced', async (t) => {
  const { pins, readings, source } = setup(t, [device('door-a', { pin: 17, debounceMs: 50 })]);
  await source.start();
  pins.set(17, 1);
  await advance(t, 20);
  pins.set(17, 0, { missEdge: true });
  await advance(t, 200);
  assert.deepEqual(seen(readings), [{ deviceId: 'door-a', values: { open: false } }]);
});

test('gpio - an edge the kernel missed is found by the read-back and still debounced', async (t) => {
  const { pins, readings, source, metrics } = setup(t, [device('door-a', { pin: 17, debounceMs: 50 })]);
  await source.start();
  pins.set(17, 1, { missEdge: true });
  await advance(t, 4999);
  assert.equal(readings.length, 1);
  await advance(t, 1);
  assert.equal(readings.length, 1, 'a read-back level waits out the debounce too');
  await advance(t, 50);
  assert.deepEqual(seen(readings).slice(1), [{ deviceId: 'door-a', values: { open: true } }]);
  assert.match(metrics.render(), /vigie_gpio_missed_edges_total\{device="door-a"\} 1/);
  assert.match(metrics.render(), /vigie_gpio_edges_total\{device="door-a"\} 0/);
});

test('gpio - a broken line goes offline once, is retried with a growing delay, and comes back', async (t) => {
  const { pins, readings, source, metrics, logger } = setup(t, [device('door-a', { pin: 17 })]);
  await source.start();
  pins.fail(17, new Error('EIO: i/o error'));
  assert.deepEqual(seen(readings).slice(1), [{ deviceId: 'door-a', status: 'offline' }]);
  assert.equal(pins.openCount(17), 0, 'the line is released');
  assert.deepEqual(source.health(), { ok: false, detail: 'door-a (line 17): watch failed: EIO: i/o error' });
  assert.equal(logger.lines.filter((l) => l.includes('offline: watch failed: EIO')).length, 1);

  await advance(t, 1000); // first retry: the read still fails
  assert.equal(readings.length, 2, 'still offline: no second offline, no online');
  pins.heal(17);
  pins.set(17, 1);
  await advance(t, 1999);
  assert.equal(readings.length, 2, 'the second retry waits 2 s');
  await advance(t, 1);
  assert.deepEqual(seen(readings).slice(2), [
    { deviceId: 'door-a', status: 'online' },
    { deviceId: 'door-a', values: { open: true } },
  ]);
  assert.deepEqual(source.health(), { ok: true });
  assert.match(metrics.render(), /vigie_gpio_errors_total\{device="door-a"\} 2/);
  pins.set(17, 0);
  assert.deepEqual(seen(readings).at(-1), { deviceId: 'door-a', values: { open: false } }, 'watched again');
});

test('gpio - a line that cannot be exported at start is offline until it can', async (t) => {
  const { pins, readings, source } = setup(t, [device('door-a', { pin: 17 })]);
  pins.exportFailures(17, 2);
  await source.start();
  assert.deepEqual(seen(readings), [{ deviceId: 'door-a', status: 'offline' }]);
  assert.match(source.health().detail ?? '', /export failed: EBUSY/);
  await advance(t, 3000); // retries at 1 s (fails) and 3 s
  assert.deepEqual(seen(readings).slice(1), [
    { deviceId: 'door-a', status: 'online' },
    { deviceId: 'door-a', values: { open: false } },
  ]);
});

test('gpio - without GPIO every GPIO device is offline and the reason is logged once', async (t) => {
  const { pins, readings, source, logger } = setup(t, [
    device('door-a', { pin: 17 }),
    device('door-b', { pin: 27 }),
  ]);
  pins.available = false;
  pins.unavailableReason = '/sys/class/gpio/export cannot be written';
  await source.start();
  await advance(t, 60_000);
  assert.deepEqual(seen(readings), [
    { deviceId: 'door-a', status: 'offline' },
    { deviceId: 'door-b', status: 'offline' },
  ]);
  assert.equal(logger.lines.filter((l) => l.includes('/sys/class/gpio/export cannot be written')).length, 1);
  const h = source.health();
  assert.equal(h.ok, false);
  assert.match(h.detail ?? '', /door-a \(line 17\): \/sys\/class\/gpio.*door-b/);
  assert.equal(pins.pulls.length, 0);
});

test('gpio - a pull that cannot be set is a warning about the wiring, and the line still works', async (t) => {
  const { pins, readings, source, logger } = setup(t, [device('door-a', { pin: 17 })]);
  pins.pullResult = { ok: false, reason: 'pinctrl: not installed' };
  await source.start();
  assert.equal(logger.lines.filter((l) => l.includes('external pull-up resistor')).length, 1);
  assert.equal(readings.length, 1);
});

test('gpio - with a heartbeat the value is re-sent every third of it, and not while offline', async (t) => {
  const { pins, readings, source } = setup(t, [device('door-a', { pin: 17 }, { heartbeatMs: 30_000 })]);
  await source.start();
  for (let i = 0; i < 3; i++) await tick(t, 10_000);
  assert.deepEqual(
    readings.map((r) => [r.ts, r.values?.open]),
    [
      [0, false],
      [10_000, false],
      [20_000, false],
      [30_000, false],
    ],
  );
  pins.fail(17, new Error('EIO'));
  pins.exportFailures(17, 100);
  for (let i = 0; i < 6; i++) await tick(t, 10_000);
  assert.deepEqual(
    readings.slice(4).map((r) => r.status ?? r.values),
    ['offline'],
  );
});

test('gpio - stop unwatches, releases every line and leaves no timer behind', async (t) => {
  const { pins, source } = setup(
    t,
    [
      device('door-a', { pin: 17, debounceMs: 10_000 }, { heartbeatMs: 60_000 }),
      device('door-b', { pin: 27 }),
    ],
    {
      mockTime: false,
    },
  );
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  pins.exportFailures(27, 1); // door-b waits for a retry
  await source.start();
  pins.set(17, 1); // door-a waits out a debounce
  assert.ok(timers() >= before + 4, 'resync, keepalive, debounce and retry are running');
  await source.stop();
  assert.equal(timers(), before);
  assert.equal(pins.watcherCount(17), 0);
  assert.equal(pins.openCount(17), 0);
  assert.equal(pins.openCount(27), 0);
});
