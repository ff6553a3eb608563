import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { memoryLogger } from '../../core/log.js';
import { Registry } from '../../core/metrics.js';
import { BUILTIN_KINDS } from '../../site/kinds.js';
import type { Device, SerialLine } from '../../site/model.js';
import type { LocalReading } from '../local/model.js';
import type { LineIo } from './line-io.js';
import { TextLineSource } from './line-source.js';
import { testLine } from './testing.js';

// The text-line source over an in-memory line: readings, counts, refusals in the log, and the
// devices' status following the port.

class MemoryLine implements LineIo {
  isOpen = false;
  started = 0;
  stopped = 0;
  private data: ((chunk: Buffer) => void)[] = [];
  private state: ((open: boolean, reason?: string) => void)[] = [];
  onData(cb: (chunk: Buffer) => void): void {
    this.data.push(cb);
  }
  onState(cb: (open: boolean, reason?: string) => void): void {
    this.state.push(cb);
  }
  write(): Promise<void> {
    return Promise.reject(new Error('read-only'));
  }
  async start(): Promise<void> {
    this.started++;
    this.set(true);
  }
  async stop(): Promise<void> {
    this.stopped++;
    this.isOpen = false;
  }
  set(open: boolean, reason?: string): void {
    this.isOpen = open;
    for (const cb of this.state) cb(open, reason);
  }
  feed(text: string | Buffer): void {
    for (const cb of this.data) cb(typeof text === 'string' ? Buffer.from(text) : text);
  }
}

const line: SerialLine = testLine({ id: 'bench', path: '/dev/ttyUSB3', deviceField: 'id', maxLineBytes: 64 });

function device(id: string, kind: string): Device {
  return {
    id,
    kind,
    name: id,
    site: 's',
    zone: 'z',
    tags: [],
    line: { line: 'bench', match: id, registers: [], fixed: {} },
  };
}

function setup(emit?: (r: LocalReading) => void) {
  const io = new MemoryLine();
  const readings: LocalReading[] = [];
  const clock = new ManualClock(1_000_000);
  const logger = memoryLogger();
  const metrics = new Registry();
  const source = new TextLineSource({
    line,
    devices: [device('fridge', 'temperature'), device('back-door', 'door')],
    kinds: BUILTIN_KINDS,
    io,
    emit: emit ?? ((r) => readings.push(r)),
    clock,
    logger,
    metrics,
  });
  const count = (result: string) =>
    metrics.counter('vigie_serial_records_total', '').get({ line: 'bench', result });
  const refusals = () =>
    logger.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'serial record refused');
  return { io, source, readings, clock, count, refusals, metrics };
}

test('text line source - records become readings of their device; each comes online with its first', async () => {
  const { io, source, readings, count } = setup();
  assert.equal(source.name, 'line:bench');
  await source.start();
  assert.equal(io.started, 1);
  io.feed('{"id":"fridge","celsius":"4.5"}\n{"id":"back-');
  io.feed('door","open":true}\n{"id":"fridge","celsius":5}\n');
  assert.deepEqual(readings, [
    { deviceId: 'fridge', status: 'online' },
    { deviceId: 'fridge', values: { celsius: 4.5 } },
    { deviceId: 'back-door', status: 'online' },
    { deviceId: 'back-door', values: { open: true } },
    { deviceId: 'fridge', values: { celsius: 5 } },
  ]);
  assert.equal(count('ok'), 3);
  assert.deepEqual(source.health(), { ok: true });
  await source.stop();
  assert.equal(io.stopped, 1);
});

test('text line source - every refusal is counted by reason, and logged at most once a minute', async () => {
  const { io, source, readings, clock, count, refusals, metrics } = setup();
  await source.start();
  io.feed('not json\n{"id":"ghost","celsius":1}\n{"id":"fridge","celsius":"hot"}\n');
  io.feed(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a]));
  io.feed('x'.repeat(100) + '\n');
  io.feed('garbled\n{"id":"fridge","celsius":2}\n');
  assert.equal(count('malformed'), 2);
  assert.equal(count('unknown_device'), 1);
  assert.equal(count('bad_value'), 1);
  assert.equal(count('garbage'), 1);
  assert.equal(count('too_long'), 1);
  assert.equal(count('ok'), 1);
  assert.equal(count('no_match'), 0);
  assert.match(metrics.render(), /vigie_serial_records_total\{line="bench",result="no_match"\} 0/);
  assert.deepEqual(readings.at(-1), { deviceId: 'fridge', values: { celsius: 2 } });
  // The second `malformed` within the minute is not logged...
  assert.deepEqual(
    refusals().map((l) => l.reason),
    ['malformed', 'unknown_device', 'bad_value', 'garbage', 'too_long'],
  );
  assert.equal(refusals()[1].detail, 'no device "ghost"');
  // ...but said at the next one, with how many were left out.
  clock.advance(60_000);
  io.feed('still not json\n');
  assert.deepEqual(refusals().at(-1), { ...refusals().at(-1), reason: 'malformed', suppressed: 1 });
});

test('text line source - the port closing puts every device offline once; online again with data', async () => {
  const { io, source, readings } = setup();
  await source.start();
  io.feed('{"id":"fridge","celsius":1}\n{"id":"fridge","cel');
  readings.length = 0;
  io.set(false, 'connection lost: the serial device hung up');
  io.set(false, 'cannot open /dev/ttyUSB3: No such file or directory');
  assert.deepEqual(readings, [
    { deviceId: 'fridge', status: 'offline' },
    { deviceId: 'back-door', status: 'offline' },
  ]);
  assert.deepEqual(source.health(), {
    ok: false,
    detail: '/dev/ttyUSB3: cannot open /dev/ttyUSB3: No such file or directory',
  });
  readings.length = 0;
  io.set(true);
  assert.deepEqual(readings, [], 'an open port says nothing about the sensors');
  // The half record from before the hang-up is not glued to the next one.
  io.feed('sius":2}\n{"id":"back-door","open":false}\n');
  assert.deepEqual(readings, [
    { deviceId: 'back-door', status: 'online' },
    { deviceId: 'back-door', values: { open: false } },
  ]);
});

test('text line source - a port that never opened has its devices offline', async () => {
  const { io, source, readings } = setup();
  io.start = async () => io.set(false, 'cannot open /dev/ttyUSB3: Permission denied');
  await source.start();
  assert.deepEqual(
    readings.map((r) => `${r.deviceId} ${r.status}`),
    ['fridge offline', 'back-door offline'],
  );
  assert.equal(source.health().ok, false);
  assert.match(source.health().detail ?? '', /Permission denied/);
});

test('text line source - a failing consumer does not stop the line', async () => {
  let calls = 0;
  const { io, source } = setup(() => {
    calls++;
    throw new Error('pipeline full');
  });
  await source.start();
  io.feed('{"id":"fridge","celsius":1}\n{"id":"fridge","celsius":2}\n');
  assert.equal(calls, 3);
});
