import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { RelayChannelConfig } from '../../config/schema.js';
import { memoryLogger } from '../../core/log.js';
import { FakePins } from '../../io/fake-pins.js';
import type { IncidentState } from '../../route/model.js';
import { LiveHub } from '../live-hub.js';
import { personNotification } from '../testing.js';
import { RelayChannel } from './relay.js';

// The relay against FakePins and the real LiveHub the pipeline announces incident changes on.
// Time is mocked (setTimeout, setInterval, Date): pulses and maxOn land at exact instants.

const LINE = 18;

function setup(t: TestContext, over: Partial<RelayChannelConfig> = {}, opts: { now?: number } = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: opts.now ?? 0 });
  const cfg: RelayChannelConfig = {
    type: 'relay',
    pin: LINE,
    activeLow: false,
    pattern: 'steady',
    period: 1000,
    maxOn: 180_000,
    ...over,
  };
  const pins = new FakePins();
  const live = new LiveHub();
  const logger = memoryLogger();
  const relay = new RelayChannel('siren', cfg, { logger, live, gpio: pins });
  t.after(() => relay.stop());
  const send = (id: string) =>
    relay.send(personNotification(undefined, 'Door G12 held open', { incident: { id } }));
  const announce = async (id: string, state: IncidentState) => {
    live.emit({ type: 'incident', at: Date.now(), data: { id, state, severity: 'major' } });
    await flush();
  };
  const levels = () => pins.writes(LINE).map((w) => [w.at, w.level]);
  return { pins, live, logger, relay, send, announce, levels };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function tick(t: TestContext, ms: number): Promise<void> {
  t.mock.timers.tick(ms);
  await flush();
}

test('relay - on at send, off when the incident is acknowledged', async (t) => {
  const { pins, send, announce, levels } = setup(t);
  assert.equal(pins.openCount(LINE), 0, 'the line is left alone until needed');
  assert.deepEqual(await send('inc_a'), { ok: true });
  assert.equal(pins.level(LINE), 1);
  await tick(t, 30_000);
  await announce('inc_a', 'acknowledged');
  assert.deepEqual(levels(), [
    [0, 1],
    [30_000, 0],
  ]);
  const late = await send('inc_a');
  assert.equal(late.ok, false, 'a send that raced the acknowledgement does not sound');
  assert.equal(pins.level(LINE), 0);
});

test('relay - pulse toggles every period until the incident clears', async (t) => {
  const { send, announce, levels } = setup(t, { pattern: 'pulse', period: 500 });
  await send('inc_a');
  for (let i = 0; i < 3; i++) await tick(t, 500);
  await announce('inc_a', 'cleared');
  await tick(t, 5000);
  assert.deepEqual(levels(), [
    [0, 1],
    [500, 0],
    [1000, 1],
    [1500, 0],
  ]);
  // Cleared during an "off" half: nothing more to write.
});

test('relay - never on longer than maxOn, even when another team of the step sends again', async (t) => {
  const { pins, send, levels } = setup(t, { maxOn: 60_000 });
  await send('inc_a');
  await tick(t, 20_000);
  assert.deepEqual(await send('inc_a'), { ok: true });
  await tick(t, 39_999);
  assert.equal(pins.level(LINE), 1);
  await tick(t, 1);
  assert.deepEqual(levels(), [
    [0, 1],
    [60_000, 0],
  ]);
});

test('relay - two incidents: off only when both are settled', async (t) => {
  const { pins, send, announce, levels } = setup(t);
  await send('inc_a');
  await tick(t, 1000);
  await send('inc_b');
  await announce('inc_a', 'acknowledged');
  assert.equal(pins.level(LINE), 1);
  await announce('inc_other', 'resolved');
  assert.equal(pins.level(LINE), 1);
  await tick(t, 1000);
  await announce('inc_b', 'resolved');
  assert.deepEqual(levels(), [
    [0, 1],
    [2000, 0],
  ]);
});

test('relay - active-low drives the line to 0 for on', async (t) => {
  const { pins, send, announce, levels } = setup(t, { activeLow: true });
  await send('inc_a');
  assert.equal(pins.level(LINE), 0);
  await tick(t, 1000);
  await announce('inc_a', 'acknowledged');
  assert.deepEqual(levels(), [
    [0, 0],
    [1000, 1],
  ]);
});

test('relay - after a restart, open incidents sound again for what is left of maxOn', async (t) => {
  const { pins, relay, levels } = setup(t, { maxOn: 180_000 }, { now: 1_000_000 });
  relay.restore([
    { incidentId: 'inc_old', since: 1_000_000 - 200_000 },
    { incidentId: 'inc_a', since: 1_000_000 - 100_000 },
  ]);
  await flush();
  assert.equal(pins.level(LINE), 1);
  await tick(t, 79_999);
  assert.equal(pins.level(LINE), 1);
  await tick(t, 1);
  assert.deepEqual(levels(), [
    [1_000_000, 1],
    [1_080_000, 0],
  ]);
});

test('relay - a restore with every incident past maxOn leaves the line alone', async (t) => {
  const { pins, relay } = setup(t, {}, { now: 1_000_000 });
  relay.restore([{ incidentId: 'inc_old', since: 0 }]);
  await tick(t, 1000);
  assert.equal(pins.openCount(LINE), 0);
  assert.deepEqual(pins.writes(LINE), []);
});

test('relay - without GPIO a send fails for good', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const cfg = {
    type: 'relay',
    pin: LINE,
    activeLow: false,
    pattern: 'steady',
    period: 1000,
    maxOn: 1000,
  } as const;
  const n = personNotification(undefined, 'x');
  const none = new RelayChannel('siren', cfg, { logger: memoryLogger() });
  const r1 = await none.send(n);
  assert.equal(r1.ok, false);
  assert.equal(!r1.ok && r1.retryable, false);
  const pins = new FakePins();
  pins.available = false;
  pins.unavailableReason = '/sys/class/gpio/export cannot be written';
  const unavailable = new RelayChannel('siren', cfg, { logger: memoryLogger(), gpio: pins });
  const r2 = await unavailable.send(n);
  assert.ok(!r2.ok && !r2.retryable && r2.error.includes('/sys/class/gpio/export'));
  await none.stop();
  await unavailable.stop();
});

test('relay - a line that fails is retried by the delivery, and is switched off once it works', async (t) => {
  const { pins, send, announce, levels } = setup(t);
  pins.exportFailures(LINE, 1);
  const first = await send('inc_a');
  assert.ok(!first.ok && first.retryable && /EBUSY/.test(first.error));
  assert.deepEqual(await send('inc_a'), { ok: true });
  assert.equal(pins.level(LINE), 1);
  pins.fail(LINE, new Error('EIO: i/o error'));
  await announce('inc_a', 'acknowledged');
  assert.equal(pins.level(LINE), 1, 'the write failed');
  pins.heal(LINE);
  await tick(t, 5000);
  // The failed first send leaves the line in no known state: it is driven off as soon as it opens.
  assert.deepEqual(levels(), [
    [0, 0],
    [0, 1],
    [5000, 0],
  ]);
});

test('relay - stop switches off, releases the line and stops listening', async (t) => {
  const { pins, live, relay, send } = setup(t, { pattern: 'pulse' });
  const before = live.size;
  await send('inc_a');
  await relay.stop();
  assert.equal(pins.level(LINE), 0);
  assert.equal(pins.openCount(LINE), 0);
  assert.equal(live.size, before - 1);
  const writes = pins.writes(LINE).length;
  await tick(t, 10_000);
  assert.equal(pins.writes(LINE).length, writes, 'no pulse after stop');
});
