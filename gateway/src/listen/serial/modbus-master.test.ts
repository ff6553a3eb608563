import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SlaveLine } from '../../../../firmware-sim/src/serial/modbus-slave.js';
import { silentLogger } from '../../core/log.js';
import { Registry } from '../../core/metrics.js';
import { interFrameGapMs, ModbusError, ModbusMaster, type ModbusMasterOptions } from './modbus-master.js';

type Line = ModbusMasterOptions['line'];
const LINE: Line = {
  id: 'rs485',
  baudRate: 9600,
  dataBits: 8,
  parity: 'none',
  stopBits: 1,
  // Generous: a loaded test machine must not turn a prompt answer into a timeout.
  timeoutMs: 300,
  retries: 2,
};
/** For the tests that wait out timeouts on purpose. */
const SHORT = { timeoutMs: 40 };

async function rig(t: TestContext, over: Partial<Line> = {}) {
  const io = new SlaveLine();
  const metrics = new Registry();
  const master = new ModbusMaster({ line: { ...LINE, ...over }, io, metrics, logger: silentLogger });
  await io.start();
  t.after(async () => {
    await master.close();
    await io.stop();
  });
  const unit = io.slave.unit(1).set('holding', 100, 215, 0xffff).set('input', 0, 42);
  const count = (result: string) =>
    metrics.counter('vigie_modbus_requests_total', '').get({ line: LINE.id, result });
  return { io, master, unit, count };
}

async function until(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(2);
  }
}

async function rejection(p: Promise<unknown>): Promise<ModbusError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ModbusError, `not a ModbusError: ${String(err)}`);
    return err;
  }
  assert.fail('the read did not fail');
}

test('modbus master - the inter-frame gap is 3.5 characters, 1.75 ms above 19200 baud', () => {
  const line = { dataBits: 8, parity: 'none', stopBits: 1 } as const;
  assert.equal(interFrameGapMs({ ...line, baudRate: 9600 }).toFixed(3), '3.646');
  // 8E1 is 11 bits a character.
  assert.equal(interFrameGapMs({ ...line, parity: 'even', baudRate: 19200 }).toFixed(3), '2.005');
  assert.equal(interFrameGapMs({ ...line, baudRate: 38400 }), 1.75);
  assert.equal(interFrameGapMs({ ...line, baudRate: 115200 }), 1.75);
});

test('modbus master - reads holding and input registers, one request frame each', async (t) => {
  const { io, master, count } = await rig(t);
  assert.deepEqual(await master.read(1, 'holding', 100, 2), [215, 0xffff]);
  assert.deepEqual(await master.read(1, 'input', 0, 1), [42]);
  assert.deepEqual(
    io.writes.map((w) => w.toString('hex')),
    ['010300640002' + '85d4', '010400000001' + '31ca'],
  );
  assert.equal(count('ok'), 2);
});

test('modbus master - one request on the line at a time, in the order asked', async (t) => {
  const { io, master } = await rig(t);
  io.slave.unit(2).set('input', 7, 1, 2, 3).faults.slowMs = 20;
  let answers = 0;
  io.onData(() => answers++);
  const write = io.write.bind(io);
  const answersAtWrite: number[] = [];
  io.write = (data) => {
    answersAtWrite.push(answers);
    return write(data);
  };
  const results = await Promise.all([
    master.read(2, 'input', 7, 3),
    master.read(1, 'holding', 100, 1),
    master.read(2, 'input', 8, 1),
  ]);
  assert.deepEqual(results, [[1, 2, 3], [215], [2]]);
  // Each request went out only once the one before it had its answer.
  assert.deepEqual(answersAtWrite, [0, 1, 2]);
});

test('modbus master - waits 3.5 character times of silence before the next request', async (t) => {
  // 1200 baud 8N1: 8.33 ms a character, a 29 ms gap a timer can measure.
  const { io, master } = await rig(t, { baudRate: 1200, timeoutMs: 200 });
  let lastByte = 0;
  io.onData(() => (lastByte = performance.now()));
  const write = io.write.bind(io);
  const gaps: number[] = [];
  io.write = (data) => {
    if (lastByte) gaps.push(performance.now() - lastByte);
    return write(data);
  };
  await master.read(1, 'holding', 100, 1);
  await master.read(1, 'holding', 101, 1);
  await master.read(1, 'input', 0, 1);
  assert.equal(gaps.length, 2);
  for (const g of gaps) assert.ok(g >= 29, `only ${g.toFixed(1)} ms of silence`);
});

test('modbus master - answers with a bad CRC are retried and the read recovers', async (t) => {
  const { io, master, unit, count } = await rig(t);
  unit.faults.badCrc = 2;
  assert.deepEqual(await master.read(1, 'holding', 100, 1), [215]);
  assert.equal(io.slave.requestsTo(1).length, 3);
  assert.equal(count('crc'), 2);
  assert.equal(count('ok'), 1);

  unit.faults.badCrc = 10;
  const err = await rejection(master.read(1, 'holding', 100, 1));
  assert.equal(err.reason, 'crc');
  assert.equal(io.slave.requestsTo(1).length, 6, 'one try and two retries');
});

test('modbus master - a silent slave times out after every retry', async (t) => {
  const { io, master, unit, count } = await rig(t, SHORT);
  unit.faults.silent = true;
  const started = performance.now();
  const err = await rejection(master.read(1, 'input', 0, 1));
  assert.equal(err.reason, 'timeout');
  assert.match(err.message, /no answer within 40 ms/);
  assert.ok(performance.now() - started >= 3 * SHORT.timeoutMs);
  assert.equal(io.slave.requestsTo(1).length, 3);
  assert.equal(count('timeout'), 3);
});

test('modbus master - an exception is the answer: not retried, and the line goes on', async (t) => {
  const { io, master, count } = await rig(t);
  const err = await rejection(master.read(1, 'holding', 500, 1));
  assert.equal(err.reason, 'exception');
  assert.equal(err.code, 2);
  assert.match(err.message, /illegal data address/);
  assert.equal(io.slave.requestsTo(1).length, 1);
  assert.equal(count('exception'), 1);
  assert.deepEqual(await master.read(1, 'holding', 100, 1), [215]);
});

/** A frame from unit 9, as another slave on the bus (or a misaddressed one) would send. */
const FOREIGN = Buffer.from('0903020001' + '9845', 'hex');

test('modbus master - a frame from another unit before the answer is skipped', async (t) => {
  const { io, master, count } = await rig(t);
  const write = io.write.bind(io);
  io.write = async (data) => {
    await write(data);
    io.inject(FOREIGN);
  };
  assert.deepEqual(await master.read(1, 'holding', 100, 1), [215]);
  assert.equal(count('ok'), 1);
  assert.equal(count('mismatch'), 0);
});

test('modbus master - only frames from another unit: a mismatch, retried', async (t) => {
  const { io, master, unit, count } = await rig(t, SHORT);
  unit.faults.silent = true;
  const write = io.write.bind(io);
  io.write = async (data) => {
    await write(data);
    io.inject(FOREIGN);
  };
  const err = await rejection(master.read(1, 'holding', 100, 1));
  assert.equal(err.reason, 'mismatch');
  assert.match(err.message, /a frame from unit 9 while unit 1 was asked/);
  assert.equal(count('mismatch'), 3);
});

test('modbus master - a late answer to a timed-out request is not taken for the next one', async (t) => {
  const { io, master, unit } = await rig(t, { timeoutMs: 100, retries: 0 });
  let chunks = 0;
  io.onData(() => chunks++);
  unit.faults.slowMs = 130;
  await rejection(master.read(1, 'holding', 100, 1));
  unit.faults.slowMs = 0;
  unit.set('holding', 100, 216);
  // The late answer (215) comes while nothing is asked: dropped.
  await until('the late answer', () => chunks === 1);
  assert.deepEqual(await master.read(1, 'holding', 100, 1), [216]);

  // A late answer of another size lands while the next request waits: skipped, the real one taken.
  unit.faults.slowMs = 130;
  await rejection(master.read(1, 'holding', 100, 2));
  unit.faults.slowMs = 60;
  assert.deepEqual(await master.read(1, 'holding', 100, 1), [216]);
  assert.equal(chunks, 4, 'both late answers did arrive');
});

test('modbus master - a port that hangs up fails the request at once, without retries', async (t) => {
  const { io, master, unit, count } = await rig(t, { timeoutMs: 5000 });
  unit.faults.silent = true;
  const started = performance.now();
  const pending = master.read(1, 'holding', 100, 1);
  setTimeout(() => io.setOpen(false, 'unplugged'), 20);
  const err = await rejection(pending);
  assert.equal(err.reason, 'closed');
  assert.ok(performance.now() - started < 1000);
  assert.equal((await rejection(master.read(1, 'holding', 100, 1))).reason, 'closed');
  assert.equal(count('closed'), 2);
});

test('modbus master - close waits for the request in flight and refuses the queued ones', async (t) => {
  const { master, unit } = await rig(t);
  unit.faults.slowMs = 30;
  const inFlight = master.read(1, 'holding', 100, 1);
  const queued = master.read(1, 'holding', 101, 1);
  await sleep(5);
  await master.close();
  assert.deepEqual(await inFlight, [215]);
  assert.equal((await rejection(queued)).reason, 'closed');
});
