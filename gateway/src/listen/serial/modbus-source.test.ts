import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SlaveLine } from '../../../../firmware-sim/src/serial/modbus-slave.js';
import { ManualClock } from '../../core/clock.js';
import { memoryLogger } from '../../core/log.js';
import { Registry } from '../../core/metrics.js';
import type { Device, ModbusRegister, SerialLine } from '../../site/model.js';
import type { LocalReading } from '../local/model.js';
import { decodeRaw, fieldValue, ModbusSource, planReads } from './modbus-source.js';
import { testLine } from './testing.js';

const LINE: SerialLine = testLine({
  id: 'rs485',
  path: '/dev/ttyUSB0',
  baudRate: 19200,
  parity: 'even',
  protocol: 'modbus-rtu',
  timeoutMs: 80,
  retries: 1,
  offlineAfter: 2,
  pollMs: 60,
});

function reg(over: Partial<ModbusRegister> & Pick<ModbusRegister, 'field' | 'address'>): ModbusRegister {
  return { table: 'holding', type: 'int16', wordOrder: 'big', scale: 1, offset: 0, ...over };
}

function device(id: string, kind: string, unit: number, registers: ModbusRegister[], extra = {}): Device {
  return {
    id,
    kind,
    name: id,
    site: 'plant',
    zone: 'boiler-room',
    tags: [],
    line: { line: LINE.id, match: id, unit, registers, fixed: {}, ...extra },
  };
}

const PROBE = device('probe-1', 'temperature', 1, [
  reg({ field: 'celsius', table: 'input', address: 0, scale: 0.1 }),
]);
const MACHINE = device(
  'coffee-1',
  'appliance',
  2,
  [
    reg({ field: 'status', address: 10, type: 'uint16', map: { 0: 'ok', 1: 'fault' } }),
    reg({ field: 'code', address: 11, type: 'uint16', map: { 0: 'none', 21: 'E21' } }),
  ],
  { fixed: { serial: 'WM-0042' } },
);

async function rig(t: TestContext, devices: Device[] = [PROBE, MACHINE], line: Partial<SerialLine> = {}) {
  const io = new SlaveLine();
  io.slave.unit(1).set('input', 0, 215);
  io.slave.unit(2).set('holding', 10, 0, 0);
  const readings: LocalReading[] = [];
  const hooks: { onEmit?: (r: LocalReading) => void } = {};
  const metrics = new Registry();
  const logger = memoryLogger();
  const source = new ModbusSource({
    line: { ...LINE, ...line },
    devices,
    io,
    emit: (r) => {
      readings.push(r);
      hooks.onEmit?.(r);
    },
    clock: new ManualClock(1_700_000_000_000),
    logger,
    metrics,
  });
  t.after(() => source.stop());
  return { io, source, readings, metrics, logger, slave: io.slave, hooks };
}

async function until(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

const of = (readings: LocalReading[], id: string) => readings.filter((r) => r.deviceId === id);
const statuses = (readings: LocalReading[], id: string) =>
  of(readings, id)
    .map((r) => r.status)
    .filter((s) => s !== undefined);

test('modbus source - plans contiguous reads per table, merging small gaps, at most 125 registers', () => {
  const plan = (regs: ModbusRegister[], maxGap?: number) =>
    planReads(regs, maxGap).map((r) => [r.table, r.address, r.count, r.registers.length, r.spansGap]);
  assert.deepEqual(
    plan([
      reg({ field: 'a', address: 3 }),
      reg({ field: 'b', address: 0, type: 'float32' }),
      reg({ field: 'c', address: 2 }),
      reg({ field: 'd', address: 0, table: 'input' }),
    ]),
    [
      ['holding', 0, 4, 3, false],
      ['input', 0, 1, 1, false],
    ],
  );
  // A gap of 8 unused registers is read through; 9 is not.
  assert.deepEqual(plan([reg({ field: 'a', address: 0 }), reg({ field: 'b', address: 9 })]), [
    ['holding', 0, 10, 2, true],
  ]);
  assert.deepEqual(plan([reg({ field: 'a', address: 0 }), reg({ field: 'b', address: 10 })]), [
    ['holding', 0, 1, 1, false],
    ['holding', 10, 1, 1, false],
  ]);
  assert.deepEqual(plan([reg({ field: 'a', address: 0 }), reg({ field: 'b', address: 2 })], 0), [
    ['holding', 0, 1, 1, false],
    ['holding', 2, 1, 1, false],
  ]);
  // A 32-bit value never straddles two reads.
  const many = Array.from({ length: 70 }, (_, i) => reg({ field: `f${i}`, address: i * 2, type: 'int32' }));
  assert.deepEqual(plan(many), [
    ['holding', 0, 124, 62, false],
    ['holding', 124, 16, 8, false],
  ]);
});

test('modbus source - decodes 16- and 32-bit integers and floats in either word order', () => {
  const d = (type: ModbusRegister['type'], words: number[], wordOrder: 'big' | 'little' = 'big') =>
    decodeRaw({ type, wordOrder }, words);
  assert.equal(d('int16', [0xff38]), -200);
  assert.equal(d('uint16', [0xff38]), 65336);
  assert.equal(d('int32', [0xfffe, 0x7960]), -100000);
  assert.equal(d('int32', [0x7960, 0xfffe], 'little'), -100000);
  assert.equal(d('uint32', [0xee6b, 0x2800]), 4_000_000_000);
  assert.equal(d('float32', [0x41aa, 0x6666]), 21.3);
  assert.equal(d('float32', [0x6666, 0x41aa], 'little'), 21.3);
  assert.ok(Number.isNaN(d('float32', [0x7fc0, 0x0000])));
});

test('modbus source - scales without float noise, maps raw values, refuses what it cannot read', () => {
  const v = (over: Partial<ModbusRegister>, raw: number) =>
    fieldValue(reg({ field: 'x', address: 0, ...over }), raw);
  assert.deepEqual(v({ scale: 0.1 }, 215), { ok: true, value: 21.5 });
  assert.deepEqual(v({ scale: 0.1 }, -3), { ok: true, value: -0.3 });
  assert.deepEqual(v({ scale: 0.01, offset: -273.15 }, 29815), { ok: true, value: 25 });
  assert.deepEqual(v({ type: 'uint32', scale: 0.001 }, 4_294_967_295), { ok: true, value: 4_294_967.295 });
  assert.deepEqual(v({ type: 'uint32' }, 4_000_000_001), { ok: true, value: 4_000_000_001 });
  assert.deepEqual(v({ type: 'float32', scale: 0.5 }, 21.3), { ok: true, value: 10.65 });
  assert.deepEqual(v({ map: { 0: 'ok', 1: 'fault' } }, 1), { ok: true, value: 'fault' });
  assert.deepEqual(v({ map: { 0: 'ok', 1: 'fault' } }, 7), { ok: false, why: '7 not in map' });
  assert.deepEqual(v({ map: { 0: 'ok' } }, Number('NaN')), { ok: false, why: 'not a number (NaN)' });
});

test('modbus source - polls every device into readings with scaled, mapped and fixed values', async (t) => {
  const { source, readings, io } = await rig(t);
  await source.start();
  await until(
    'both devices read',
    () => of(readings, 'probe-1').length >= 2 && of(readings, 'coffee-1').length >= 2,
  );
  assert.deepEqual(of(readings, 'probe-1').slice(0, 2), [
    { deviceId: 'probe-1', status: 'online' },
    { deviceId: 'probe-1', values: { celsius: 21.5 }, ts: 1_700_000_000_000 },
  ]);
  assert.deepEqual(of(readings, 'coffee-1').slice(0, 2), [
    { deviceId: 'coffee-1', status: 'online' },
    {
      deviceId: 'coffee-1',
      values: { serial: 'WM-0042', status: 'ok', code: 'none' },
      ts: 1_700_000_000_000,
    },
  ]);
  // Status and code are neighbours: one request reads both.
  assert.deepEqual(io.slave.requestsTo(2)[0], { unit: 2, fn: 3, address: 10, count: 2 });

  io.slave.unit(2).set('holding', 10, 1, 21);
  io.slave.unit(1).set('input', 0, 0xffe2);
  await until('fault read', () => of(readings, 'coffee-1').some((r) => r.values?.status === 'fault'));
  await until('cold read', () => of(readings, 'probe-1').some((r) => r.values?.celsius === -3));
  const fault = of(readings, 'coffee-1').find((r) => r.values?.status === 'fault');
  assert.deepEqual(fault?.values, { serial: 'WM-0042', status: 'fault', code: 'E21' });
  assert.deepEqual(source.health(), { ok: true });
  assert.equal(statuses(readings, 'probe-1').length, 1, 'online said once');
});

test('modbus source - devices are polled every pollMs, staggered over the period', async (t) => {
  const { source, slave } = await rig(t, [PROBE, MACHINE], { pollMs: 200 });
  const seen: { unit: number; at: number }[] = [];
  const receive = slave.receive.bind(slave);
  slave.receive = (chunk) => {
    seen.push({ unit: chunk[0], at: performance.now() });
    receive(chunk);
  };
  const t0 = performance.now();
  await source.start();
  await until('two polls each', () => seen.filter((s) => s.unit === 2).length >= 2, 3000);
  const first1 = seen.find((s) => s.unit === 1)!.at - t0;
  const [first2, second2] = seen.filter((s) => s.unit === 2).map((s) => s.at - t0);
  // Unit 1 at once, unit 2 half a period later, then every period (timers never fire early).
  assert.ok(first1 < first2, `unit 1 at ${first1.toFixed(0)} ms, unit 2 at ${first2.toFixed(0)} ms`);
  assert.ok(first2 >= 95, `unit 2 first polled at ${first2.toFixed(0)} ms`);
  assert.ok(second2 >= 295 && second2 < 1500, `unit 2 polled again at ${second2.toFixed(0)} ms`);
});

test('modbus source - a silent device goes offline once after offlineAfter polls, the other is still read', async (t) => {
  const { source, readings, slave, logger, hooks } = await rig(t);
  await source.start();
  await until('online', () => statuses(readings, 'probe-1').length === 1);
  slave.unit(1).faults.silent = true;
  const before = slave.requestsTo(1).length;
  let requestsWhenOffline = 0;
  hooks.onEmit = (r) => {
    if (r.status === 'offline') requestsWhenOffline = slave.requestsTo(1).length - before;
  };
  await until('offline', () => statuses(readings, 'probe-1').length === 2);
  assert.deepEqual(statuses(readings, 'probe-1'), ['online', 'offline']);
  // offlineAfter 2 polls of 1 try + 1 retry each.
  assert.equal(requestsWhenOffline, 4);
  assert.deepEqual(source.health(), { ok: false, detail: 'offline: probe-1' });
  const off = logger.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'modbus device offline');
  assert.match(off.error, /no answer within 80 ms/);

  const machineReads = of(readings, 'coffee-1').length;
  await until('the other unit still read', () => of(readings, 'coffee-1').length >= machineReads + 3);
  assert.equal(statuses(readings, 'probe-1').length, 2, 'offline said once');

  slave.unit(1).heal();
  slave.unit(1).set('input', 0, 230);
  await until('online again', () => statuses(readings, 'probe-1').length === 3);
  const back = of(readings, 'probe-1');
  const i = back.findIndex((r, k) => k > 0 && r.status === 'online');
  assert.deepEqual(back[i + 1].values, { celsius: 23 });
  assert.deepEqual(source.health(), { ok: true });
});

test('modbus source - an exception answer fails the poll without retries', async (t) => {
  const { source, readings, slave, metrics, hooks } = await rig(t, [MACHINE]);
  slave.unit(2).faults.exception = 4;
  const exceptions = () =>
    metrics.counter('vigie_modbus_requests_total', '').get({ line: 'rs485', result: 'exception' });
  const atOffline = { requests: 0, exceptions: 0 };
  hooks.onEmit = (r) => {
    if (r.status === 'offline')
      Object.assign(atOffline, { requests: slave.requestsTo(2).length, exceptions: exceptions() });
  };
  await source.start();
  await until('offline', () => statuses(readings, 'coffee-1').includes('offline'));
  // offlineAfter 2: two polls, one request each.
  assert.deepEqual(atOffline, { requests: 2, exceptions: 2 });
});

test('modbus source - a value not in the map is left out and counted, the device stays online', async (t) => {
  const { source, readings, slave, metrics, logger } = await rig(t, [MACHINE]);
  slave.unit(2).set('holding', 10, 0, 99);
  await source.start();
  await until('read', () => of(readings, 'coffee-1').filter((r) => r.values).length >= 2);
  assert.deepEqual(of(readings, 'coffee-1')[1].values, { serial: 'WM-0042', status: 'ok' });
  assert.ok(
    metrics.counter('vigie_modbus_bad_values_total', '').get({ line: 'rs485', device: 'coffee-1' }) >= 2,
  );
  const logged = logger.lines.filter((l) => l.includes('modbus register value left out'));
  assert.equal(logged.length, 1, 'logged once a minute, not every poll');
  assert.match(logged[0], /99 not in map/);
  assert.deepEqual(statuses(readings, 'coffee-1'), ['online']);
});

test('modbus source - a slave that refuses reads across unused registers is read register by register', async (t) => {
  const gappy = device('coffee-2', 'appliance', 3, [
    reg({ field: 'status', address: 0, map: { 0: 'ok' } }),
    reg({ field: 'code', address: 5, map: { 0: 'none' } }),
  ]);
  const { source, readings, slave } = await rig(t, [gappy]);
  slave.unit(3).set('holding', 0, 0).set('holding', 5, 0);
  await source.start();
  await until('read', () => of(readings, 'coffee-2').some((r) => r.values));
  assert.deepEqual(of(readings, 'coffee-2')[1].values, { status: 'ok', code: 'none' });
  assert.deepEqual(
    slave
      .requestsTo(3)
      .slice(0, 3)
      .map((r) => [r.address, r.count]),
    [
      [0, 6],
      [0, 1],
      [5, 1],
    ],
  );
});

test('modbus source - the port closing takes every device offline at once; polls resume when it reopens', async (t) => {
  const { source, readings, io, slave } = await rig(t);
  await source.start();
  await until(
    'online',
    () => statuses(readings, 'coffee-1').length === 1 && statuses(readings, 'probe-1').length === 1,
  );
  io.setOpen(false, 'unplugged');
  assert.deepEqual(statuses(readings, 'probe-1'), ['online', 'offline']);
  assert.deepEqual(statuses(readings, 'coffee-1'), ['online', 'offline']);
  assert.deepEqual(source.health(), { ok: false, detail: '/dev/ttyUSB0: unplugged' });
  await sleep(20);
  const writes = io.writes.length;
  await sleep(3 * LINE.pollMs);
  assert.equal(io.writes.length, writes, 'no polls while the port is closed');

  io.setOpen(true);
  await until(
    'online again',
    () => statuses(readings, 'coffee-1').length === 3 && statuses(readings, 'probe-1').length === 3,
  );
  assert.ok(slave.requests.length > 0);
  assert.deepEqual(source.health(), { ok: true });
});

test('modbus source - a port that does not open at start leaves every device offline', async (t) => {
  const { source, readings, io } = await rig(t);
  io.openable = false;
  await source.start();
  assert.deepEqual(
    readings.map((r) => [r.deviceId, r.status]),
    [
      ['probe-1', 'offline'],
      ['coffee-1', 'offline'],
    ],
  );
  assert.deepEqual(source.health(), { ok: false, detail: '/dev/ttyUSB0: no such device' });
  assert.equal(io.writes.length, 0);
});

test('modbus source - stop waits for the request in flight and polls no more', async (t) => {
  const { source, readings, io, slave } = await rig(t, [PROBE]);
  slave.unit(1).faults.slowMs = 20;
  await source.start();
  await until('a request out', () => io.writes.length === 1);
  await source.stop();
  // The answer in flight was awaited (and read) before stop resolved.
  assert.deepEqual(
    readings.map((r) => r.status ?? r.values),
    ['online', { celsius: 21.5 }],
  );
  await sleep(2 * LINE.pollMs);
  assert.equal(io.writes.length, 1);
  assert.equal(io.isOpen, false);
});
