import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LineSensor } from '../../firmware-sim/src/serial/line-sensor.js';
import { systemClock } from '../src/core/clock.js';
import { memoryLogger } from '../src/core/log.js';
import { Registry } from '../src/core/metrics.js';
import type { LocalReading } from '../src/listen/local/model.js';
import { TextLineSource } from '../src/listen/serial/line-source.js';
import { SerialLinePort } from '../src/listen/serial/serial-line.js';
import { testLine } from '../src/listen/serial/testing.js';
import { BUILTIN_KINDS } from '../src/site/kinds.js';
import type { Device, SerialLine } from '../src/site/model.js';
import { PtyPair } from './support/pty-pair.js';

// Text-line sensors through the real serialport code: the gateway reads one end of a socat pty
// pair, a sensor emulator (firmware-sim/src/serial/line-sensor.ts) writes on the other.

function lineOn(path: string, over: Partial<SerialLine> = {}): SerialLine {
  return testLine({ id: 'rs232-1', path, deviceField: 'id', maxLineBytes: 256, ...over });
}

function device(id: string, kind: string, match = id, fixed: Record<string, string> = {}): Device {
  return {
    id,
    kind,
    name: id,
    site: 'hq',
    zone: 'plant',
    tags: [],
    line: { line: 'rs232-1', match, registers: [], fixed },
  };
}

const jsonDevices = [
  device('fridge', 'temperature'),
  device('back-door', 'door'),
  device('oven', 'appliance', 'oven', { serial: 'SN-77' }),
];

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await sleep(10);
  }
}

async function startLine(t: TestContext, over: Partial<SerialLine> = {}, devices = jsonDevices) {
  const pair = await PtyPair.start();
  const line = lineOn(pair.modemPath, over);
  const logger = memoryLogger();
  const metrics = new Registry();
  const readings: LocalReading[] = [];
  const io = new SerialLinePort({ line, logger, reconnect: { minMs: 50, maxMs: 200 } });
  const source = new TextLineSource({
    line,
    devices,
    kinds: BUILTIN_KINDS,
    io,
    emit: (r) => readings.push(r),
    clock: systemClock,
    logger,
    metrics,
  });
  const sensors: LineSensor[] = [];
  t.after(async () => {
    await source.stop();
    for (const s of sensors) await s.close();
    await pair.dispose();
  });
  await source.start();
  assert.deepEqual(source.health(), { ok: true });
  const connect = async () => {
    const s = await LineSensor.open(pair.emulatorPath, { delimiter: line.delimiter });
    sensors.push(s);
    return s;
  };
  const sensor = await connect();
  const values = () => readings.filter((r) => r.values);
  const count = (result: string) =>
    metrics.counter('vigie_serial_records_total', '').get({ line: 'rs232-1', result });
  return { pair, line, sensor, connect, source, readings, values, count, logger };
}

test('serial lines - JSON records from several devices arrive as readings in the kinds types', async (t) => {
  const { sensor, values, readings } = await startLine(t);
  await sensor.send('{"id":"fridge","celsius":"4.5","rssi":-71}');
  await sensor.send('{"id":"back-door","open":"on","badge":1234}');
  await sensor.send('{"id":"oven","status":"fault","code":17,"ts":"2024-05-01T08:00:00Z"}\r');
  await until('three readings', () => values().length === 3);
  assert.deepEqual(values(), [
    { deviceId: 'fridge', values: { celsius: 4.5 } },
    { deviceId: 'back-door', values: { open: true, badge: '1234' } },
    {
      deviceId: 'oven',
      values: { status: 'fault', code: '17', serial: 'SN-77' },
      ts: Date.UTC(2024, 4, 1, 8),
    },
  ]);
  assert.deepEqual(
    readings.filter((r) => r.status).map((r) => `${r.deviceId} ${r.status}`),
    ['fridge online', 'back-door online', 'oven online'],
  );
});

test('serial lines - regex records with a device group, CRLF delimited', async (t) => {
  const regex = '^(?<probe>P\\d+);(?<celsius>-?[\\d.]+)C(?:;(?<ts>\\d+))?$';
  const devices = [device('freezer', 'temperature', 'P1'), device('cold-room', 'temperature', 'P2')];
  const { sensor, values, count } = await startLine(
    t,
    { format: 'regex', regex, deviceField: 'probe', delimiter: '\r\n' },
    devices,
  );
  await sensor.send('P1;-18.5C');
  await sensor.send('P2;3C;1714550400000');
  await sensor.send('P1;warmC');
  await until('two readings and a refusal', () => values().length === 2 && count('no_match') === 1);
  assert.deepEqual(values(), [
    { deviceId: 'freezer', values: { celsius: -18.5 } },
    { deviceId: 'cold-room', values: { celsius: 3 }, ts: 1714550400000 },
  ]);
});

test('serial lines - garbage and binary noise are counted and the next good line still arrives', async (t) => {
  const { sensor, values, count } = await startLine(t);
  // Power-up noise ending in a newline, then a burst of binary without one before a good record.
  await sensor.raw(Buffer.from([0xff, 0x00, 0x13, 0xc3, 0x28, 0x0a]));
  const burst = Buffer.from(
    Array.from({ length: 200 }, (_, i) => (i * 37 + 11) % 256).filter((b) => b !== 0x0a),
  );
  await sensor.raw(Buffer.concat([burst, Buffer.from('\n')]));
  await sensor.raw('\u0007\u0007ALARM\u001b[0m\n');
  await sensor.send('{"id":"fridge","celsius":6}');
  await until('the good record', () => values().length === 1);
  assert.deepEqual(values(), [{ deviceId: 'fridge', values: { celsius: 6 } }]);
  assert.equal(count('garbage'), 3);
  assert.equal(count('ok'), 1);
});

test('serial lines - a record split across two writes is joined', async (t) => {
  const { sensor, values, count } = await startLine(t);
  await sensor.raw('{"id":"back-door","op');
  await sleep(200);
  assert.equal(values().length, 0, 'half a record is not a record');
  await sensor.raw('en":false}\n{"id":"fridge",');
  await sleep(100);
  await sensor.raw('"celsius":-1.5}\n');
  await until('both records', () => values().length === 2);
  assert.deepEqual(values(), [
    { deviceId: 'back-door', values: { open: false } },
    { deviceId: 'fridge', values: { celsius: -1.5 } },
  ]);
  assert.equal(count('ok'), 2);
  assert.equal(count('malformed'), 0);
});

test('serial lines - a too long line is dropped and the next one read', async (t) => {
  const { sensor, values, count } = await startLine(t, { maxLineBytes: 64 });
  for (let i = 0; i < 10; i++) await sensor.raw('{"id":"fridge","junk":"' + 'x'.repeat(40));
  await sensor.raw('"}\n');
  await sensor.send('{"id":"fridge","celsius":2}');
  await until('the next record', () => values().length === 1);
  assert.deepEqual(values(), [{ deviceId: 'fridge', values: { celsius: 2 } }]);
  assert.equal(count('too_long'), 1);
});

test('serial lines - a record from an unknown device is counted, not read', async (t) => {
  const { sensor, values, count, logger } = await startLine(t);
  await sensor.send('{"id":"intruder","celsius":99}');
  await sensor.send('{"id":"fridge","celsius":3}');
  await until('the known device', () => values().length === 1);
  assert.equal(count('unknown_device'), 1);
  assert.deepEqual(values(), [{ deviceId: 'fridge', values: { celsius: 3 } }]);
  assert.ok(logger.lines.some((l) => l.includes('serial record refused') && l.includes('intruder')));
});

test('serial lines - the far end vanishing puts the devices offline; back online with data', async (t) => {
  const { pair, sensor, connect, source, readings, logger } = await startLine(t);
  await sensor.send('{"id":"fridge","celsius":4}');
  await until('first reading', () => readings.some((r) => r.values));
  readings.length = 0;

  await pair.stop();
  await until('offline', () => readings.length === 3);
  assert.deepEqual(
    readings.map((r) => `${r.deviceId} ${r.status}`),
    ['fridge offline', 'back-door offline', 'oven offline'],
  );
  assert.equal(source.health().ok, false);
  // Several reopen attempts fail meanwhile (50, 100, 200 ms...): the log says it once per cause.
  await sleep(600);
  const closedLines = logger.lines.filter((l) => /serial line (still )?closed/.test(l));
  assert.ok(closedLines.length <= 2, closedLines.join('\n'));
  assert.equal(readings.length, 3, 'offline is said once');

  // A new cable at the same path (socat makes its links again in the same directory).
  const again = await PtyPair.start(pair.dir);
  t.after(() => again.dispose());
  await until('port reopened', () => source.health().ok);
  readings.length = 0;
  const sensor2 = await connect();
  await sensor2.send('{"id":"oven","status":"ok"}');
  await until('oven back', () => readings.length === 2);
  assert.deepEqual(readings, [
    { deviceId: 'oven', status: 'online' },
    { deviceId: 'oven', values: { status: 'ok', serial: 'SN-77' } },
  ]);
});
