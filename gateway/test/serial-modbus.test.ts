import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModbusSlave } from '../../firmware-sim/src/serial/modbus-slave.js';
import { systemClock } from '../src/core/clock.js';
import { memoryLogger } from '../src/core/log.js';
import { Registry } from '../src/core/metrics.js';
import type { LocalReading } from '../src/listen/local/model.js';
import { ModbusSource } from '../src/listen/serial/modbus-source.js';
import { SerialLinePort } from '../src/listen/serial/serial-line.js';
import type { Device, ModbusRegister, SerialLine } from '../src/site/model.js';
import { PtyPair } from './support/pty-pair.js';

// Modbus RTU through the real serialport code: the gateway polls one end of a socat pty pair, a
// bus of emulated slaves (firmware-sim/src/serial/modbus-slave.ts) answers on the other, and
// misbehaves the ways RS-485 buses do.

const SETTINGS = { baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 } as const;

function lineOn(path: string): SerialLine {
  return {
    id: 'rs485-1',
    path,
    ...SETTINGS,
    protocol: 'modbus-rtu',
    delimiter: '\n',
    format: 'json',
    maxLineBytes: 1024,
    timeoutMs: 150,
    retries: 2,
    offlineAfter: 2,
    pollMs: 150,
  };
}

function reg(over: Partial<ModbusRegister> & Pick<ModbusRegister, 'field' | 'address'>): ModbusRegister {
  return { table: 'holding', type: 'int16', wordOrder: 'big', scale: 1, offset: 0, ...over };
}

const PROBE: Device = {
  id: 'cold-room',
  kind: 'temperature',
  name: 'Cold room probe',
  site: 'hq',
  zone: 'kitchen',
  tags: [],
  line: {
    line: 'rs485-1',
    match: 'cold-room',
    unit: 1,
    registers: [reg({ field: 'celsius', table: 'input', address: 0, scale: 0.1 })],
    fixed: {},
  },
};

const MACHINE: Device = {
  id: 'espresso',
  kind: 'appliance',
  name: 'Espresso machine',
  site: 'hq',
  zone: 'kitchen',
  tags: [],
  serial: 'WM-0042',
  line: {
    line: 'rs485-1',
    match: 'espresso',
    unit: 7,
    registers: [
      reg({ field: 'status', address: 0x100, type: 'uint16', map: { 0: 'ok', 1: 'fault' } }),
      reg({ field: 'code', address: 0x101, type: 'uint16', map: { 0: 'none', 21: 'E21', 30: 'E30' } }),
    ],
    fixed: { serial: 'WM-0042' },
  },
};

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await sleep(10);
  }
}

function fillSlaves(slave: ModbusSlave): void {
  slave.unit(1).set('input', 0, 45);
  slave.unit(7).set('holding', 0x100, 0, 0);
}

async function startBus(t: TestContext) {
  let pair = await PtyPair.start();
  let slave = await ModbusSlave.open(pair.emulatorPath, SETTINGS);
  fillSlaves(slave);
  const line = lineOn(pair.modemPath);
  const logger = memoryLogger();
  const metrics = new Registry();
  const readings: LocalReading[] = [];
  const io = new SerialLinePort({ line, logger, reconnect: { minMs: 50, maxMs: 200 } });
  const source = new ModbusSource({
    line,
    devices: [PROBE, MACHINE],
    io,
    emit: (r) => readings.push(r),
    clock: systemClock,
    logger,
    metrics,
  });
  t.after(async () => {
    await source.stop();
    await slave.close();
    // After a replug this is the second socat, on the same directory.
    await pair.dispose();
  });
  await source.start();
  const bus = {
    source,
    readings,
    logger,
    get slave() {
      return slave;
    },
    /** socat killed: the USB adapter pulled out. */
    unplug: () => pair.stop(),
    /** socat again on the same paths, with a fresh bus on the far end. */
    async replug() {
      await slave.close();
      pair = await PtyPair.start(pair.dir);
      slave = await ModbusSlave.open(pair.emulatorPath, SETTINGS);
      fillSlaves(slave);
    },
    of: (id: string) => readings.filter((r) => r.deviceId === id),
    values: (id: string) => bus.of(id).flatMap((r) => (r.values ? [r.values] : [])),
    statuses: (id: string) => bus.of(id).flatMap((r) => (r.status ? [r.status] : [])),
    requests: (result: string) =>
      metrics.counter('vigie_modbus_requests_total', '').get({ line: 'rs485-1', result }),
    /** Resolves once `id` has sent `n` more readings with values than now. */
    async moreValues(id: string, n = 1) {
      const have = bus.values(id).length;
      await until(`${n} more readings of ${id}`, () => bus.values(id).length >= have + n);
      return bus.values(id).slice(have);
    },
  };
  return bus;
}

test('serial modbus - a temperature probe and an appliance controller are read into readings', async (t) => {
  const bus = await startBus(t);
  await bus.moreValues('cold-room');
  await bus.moreValues('espresso');
  assert.deepEqual(bus.values('cold-room')[0], { celsius: 4.5 });
  assert.deepEqual(bus.values('espresso')[0], { serial: 'WM-0042', status: 'ok', code: 'none' });
  assert.deepEqual(bus.statuses('cold-room'), ['online']);
  assert.ok(bus.of('cold-room').every((r) => r.values === undefined || typeof r.ts === 'number'));

  bus.slave.unit(1).set('input', 0, -182);
  bus.slave.unit(7).set('holding', 0x100, 1, 21);
  await until('the fault', () => bus.values('espresso').some((v) => v.status === 'fault'));
  await until('the warm-up', () => bus.values('cold-room').some((v) => v.celsius === -18.2));
  assert.deepEqual(bus.values('espresso').at(-1), { serial: 'WM-0042', status: 'fault', code: 'E21' });
  // Status and code sit side by side: one request reads both.
  assert.ok(bus.slave.requestsTo(7).every((r) => r.fn === 3 && r.address === 0x100 && r.count === 2));
  assert.ok(bus.slave.requestsTo(1).every((r) => r.fn === 4 && r.address === 0 && r.count === 1));
  assert.deepEqual(bus.source.health(), { ok: true });
});

test('serial modbus - answers with a bad CRC are retried and the reading recovers', async (t) => {
  const bus = await startBus(t);
  await bus.moreValues('cold-room');
  const tries = bus.slave.requestsTo(1).length;
  bus.slave.unit(1).set('input', 0, 52);
  bus.slave.unit(1).faults.badCrc = 2;
  await until('5.2 read', () => bus.values('cold-room').some((v) => v.celsius === 5.2));
  assert.equal(bus.slave.unit(1).faults.badCrc, 0);
  assert.ok(bus.slave.requestsTo(1).length >= tries + 3, 'the same poll asked three times');
  assert.equal(bus.requests('crc'), 2);
  assert.deepEqual(bus.statuses('cold-room'), ['online']);

  // More bad answers in a row than retries: that poll fails, the next one reads again.
  bus.slave.unit(1).faults.badCrc = 3;
  bus.slave.unit(1).set('input', 0, 53);
  await until('5.3 read', () => bus.values('cold-room').some((v) => v.celsius === 5.3));
  assert.equal(bus.requests('crc'), 5);
  assert.deepEqual(bus.statuses('cold-room'), ['online'], 'one failed poll is not offline');
});

test('serial modbus - garbage before a frame and a frame split in two writes are still read', async (t) => {
  const bus = await startBus(t);
  await bus.moreValues('espresso');
  const garbage = Buffer.from([0x00, 0xff, 0x07, 0x83, 0x07, 0x03, 0xfe, 0x55]);
  bus.slave.unit(7).faults.garbageBefore = garbage;
  bus.slave.unit(7).set('holding', 0x100, 1, 30);
  const seen = await bus.moreValues('espresso', 2);
  assert.deepEqual(seen.at(-1), { serial: 'WM-0042', status: 'fault', code: 'E30' });

  bus.slave.unit(7).heal();
  bus.slave.unit(7).faults.split = { delayMs: 40 };
  bus.slave.unit(7).set('holding', 0x100, 0, 0);
  const split = await bus.moreValues('espresso', 2);
  assert.deepEqual(split.at(-1), { serial: 'WM-0042', status: 'ok', code: 'none' });
  assert.equal(bus.requests('crc') + bus.requests('timeout') + bus.requests('mismatch'), 0);
});

test('serial modbus - a silent unit goes offline after offlineAfter polls and online when it answers', async (t) => {
  const bus = await startBus(t);
  await bus.moreValues('cold-room');
  await bus.moreValues('espresso');
  bus.slave.unit(1).faults.silent = true;
  await until('offline', () => bus.statuses('cold-room').includes('offline'));
  assert.deepEqual(bus.statuses('cold-room'), ['online', 'offline']);
  assert.equal(bus.requests('timeout') % 3, 0, 'each failed poll tried three times');
  assert.ok(bus.requests('timeout') >= 6);
  const offline = bus.logger.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'modbus device offline');
  assert.equal(offline.device, 'cold-room');
  assert.match(offline.error, /no answer within 150 ms/);
  assert.deepEqual(bus.source.health(), { ok: false, detail: 'offline: cold-room' });

  // The appliance on the same line is still read meanwhile.
  await bus.moreValues('espresso', 2);
  assert.deepEqual(bus.statuses('espresso'), ['online']);

  bus.slave.unit(1).faults.silent = false;
  bus.slave.unit(1).set('input', 0, 61);
  await until('online again', () => bus.statuses('cold-room').length === 3);
  const back = bus.of('cold-room');
  const i = back.findLastIndex((r) => r.status === 'online');
  assert.deepEqual(back[i + 1]?.values ?? (await bus.moreValues('cold-room'))[0], { celsius: 6.1 });
  assert.deepEqual(bus.source.health(), { ok: true });
});

test('serial modbus - an exception answer is reported and does not hang the line', async (t) => {
  const bus = await startBus(t);
  await bus.moreValues('espresso');
  const before = bus.slave.requestsTo(7).length;
  bus.slave.unit(7).faults.exception = 2;
  await until('offline', () => bus.statuses('espresso').includes('offline'));
  const failed = bus.logger.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'modbus poll failed');
  assert.equal(failed.device, 'espresso');
  assert.match(failed.error, /exception 2 \(illegal data address\)/);
  // Exceptions are answers: one request per poll, never retried (one may still be on the line).
  assert.ok(bus.requests('exception') >= 2);
  assert.ok(bus.slave.requestsTo(7).length - before - bus.requests('exception') <= 1);
  assert.equal(bus.requests('timeout'), 0);

  // The probe is read meanwhile.
  await bus.moreValues('cold-room', 2);
  bus.slave.unit(7).faults.exception = undefined;
  await until('online again', () => bus.statuses('espresso').length === 3);
  await bus.moreValues('espresso');
});

test('serial modbus - the adapter unplugged takes every device offline at once, replugged they come back', async (t) => {
  const bus = await startBus(t);
  await bus.moreValues('cold-room');
  await bus.moreValues('espresso');
  await bus.unplug();
  await until(
    'both offline',
    () => bus.statuses('cold-room').length === 2 && bus.statuses('espresso').length === 2,
  );
  assert.equal(bus.source.health().ok, false);
  await bus.replug();
  await until(
    'both online',
    () => bus.statuses('cold-room').length === 3 && bus.statuses('espresso').length === 3,
  );
  await bus.moreValues('cold-room');
  await bus.moreValues('espresso');
  assert.deepEqual(bus.source.health(), { ok: true });
});
