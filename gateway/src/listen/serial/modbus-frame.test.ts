import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc16, INCOMPLETE, readRequest, readResponse, withCrc, type Expected } from './modbus-frame.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Frames from the Modbus specifications and the usual worked examples, CRCs checked by hand.
const SPEC_REPLY = hex('11 03 06 AE41 5652 4340 49AD');
const SPEC_EXPECT: Expected = { unit: 0x11, fn: 3, count: 3 };

test('modbus frame - CRC-16/MODBUS matches the reference check value and known frames', () => {
  assert.equal(crc16(Buffer.from('123456789')), 0x4b37);
  assert.deepEqual(withCrc(hex('01 03 0000 000A')), hex('01 03 0000 000A C5CD'));
  assert.deepEqual(withCrc(hex('01 83 02')), hex('01 83 02 C0F1'));
});

test('modbus frame - read requests carry address and count big-endian and the CRC low byte first', () => {
  assert.deepEqual(readRequest(1, 3, 0, 10), hex('01 03 0000 000A C5CD'));
  assert.deepEqual(readRequest(0x11, 3, 0x6b, 3), hex('11 03 006B 0003 7687'));
  assert.deepEqual(readRequest(1, 4, 0x1234, 2).subarray(0, 6), hex('01 04 1234 0002'));
  assert.throws(() => readRequest(0, 3, 0, 1), RangeError);
  assert.throws(() => readRequest(248, 3, 0, 1), RangeError);
  assert.throws(() => readRequest(1, 3, 0, 126), RangeError);
  assert.throws(() => readRequest(1, 3, 65535, 2), RangeError);
});

const cases: { name: string; bytes: Buffer; expect?: Expected; final?: boolean; want: unknown }[] = [
  {
    name: 'a whole reply',
    bytes: SPEC_REPLY,
    want: { ok: true, registers: [0xae41, 0x5652, 0x4340] },
  },
  { name: 'nothing yet', bytes: Buffer.alloc(0), want: INCOMPLETE },
  { name: 'the first half of a reply', bytes: SPEC_REPLY.subarray(0, 6), want: INCOMPLETE },
  { name: 'all but the last CRC byte', bytes: SPEC_REPLY.subarray(0, 10), want: INCOMPLETE },
  {
    name: 'garbage, then a reply',
    bytes: Buffer.concat([hex('00 FF 11 11 03 FE 42'), SPEC_REPLY]),
    want: { ok: true, registers: [0xae41, 0x5652, 0x4340] },
  },
  {
    name: 'garbage that looks like the start of a reply, then the reply',
    bytes: Buffer.concat([hex('11 03 06 00'), SPEC_REPLY]),
    want: { ok: true, registers: [0xae41, 0x5652, 0x4340] },
  },
  {
    name: 'garbage that looks like a reply, the real one still arriving',
    bytes: Buffer.concat([hex('11 03 06 00'), SPEC_REPLY.subarray(0, 7)]),
    want: INCOMPLETE,
  },
  {
    name: 'a bad CRC',
    bytes: hex('11 03 06 AE41 5652 4340 49AE'),
    want: { ok: false, error: 'crc', detail: 'bad CRC on a 11-byte frame from unit 17' },
  },
  {
    name: 'a corrupted data byte',
    bytes: hex('11 03 06 AE41 5653 4340 49AD'),
    want: { ok: false, error: 'crc', detail: 'bad CRC on a 11-byte frame from unit 17' },
  },
  {
    name: 'an exception (illegal data address)',
    bytes: hex('01 83 02 C0F1'),
    expect: { unit: 1, fn: 3, count: 1 },
    want: { ok: false, error: 'exception', code: 2, name: 'illegal data address' },
  },
  {
    name: 'an exception after garbage',
    bytes: Buffer.concat([hex('83 01 00'), withCrc(hex('01 84 06'))]),
    expect: { unit: 1, fn: 4, count: 1 },
    want: { ok: false, error: 'exception', code: 6, name: 'slave device busy' },
  },
  {
    name: 'an answer from another unit, at the timeout',
    bytes: withCrc(hex('02 03 02 0001')),
    expect: { unit: 1, fn: 3, count: 1 },
    final: true,
    want: { ok: false, error: 'mismatch', detail: 'a frame from unit 2 while unit 1 was asked' },
  },
  {
    name: 'an input-register answer to a holding-register request, at the timeout',
    bytes: withCrc(hex('01 04 02 0001')),
    expect: { unit: 1, fn: 3, count: 1 },
    final: true,
    want: { ok: false, error: 'mismatch', detail: 'a function 4 answer to a function 3 request' },
  },
  {
    name: 'a wrong byte count, at the timeout',
    bytes: withCrc(hex('01 03 04 0001 0002')),
    expect: { unit: 1, fn: 3, count: 1 },
    final: true,
    want: { ok: false, error: 'mismatch', detail: '4 data bytes where 2 were asked' },
  },
  {
    name: 'an answer from another unit, before the timeout',
    bytes: withCrc(hex('02 03 02 0001')),
    expect: { unit: 1, fn: 3, count: 1 },
    want: INCOMPLETE,
  },
  {
    name: 'a late answer to an earlier request, then ours',
    bytes: Buffer.concat([withCrc(hex('01 03 04 0001 0002')), withCrc(hex('01 03 02 0007'))]),
    expect: { unit: 1, fn: 3, count: 1 },
    want: { ok: true, registers: [7] },
  },
  {
    name: 'a bad frame whose tail could start another one, before the timeout',
    bytes: hex('01 03 02 0007 0001'),
    expect: { unit: 1, fn: 3, count: 1 },
    want: INCOMPLETE,
  },
  {
    name: 'the same bytes once the timeout expired',
    bytes: hex('01 03 02 0007 0001'),
    expect: { unit: 1, fn: 3, count: 1 },
    final: true,
    want: { ok: false, error: 'crc', detail: 'bad CRC on a 7-byte frame from unit 1' },
  },
  {
    name: 'noise that looks like a broken exception frame, the reply still to come',
    bytes: hex('00 FF 07 83 07 03 FE 55'),
    expect: { unit: 7, fn: 3, count: 2 },
    want: INCOMPLETE,
  },
  {
    name: 'noise that looks like a broken exception frame, then the reply',
    bytes: Buffer.concat([hex('00 FF 07 83 07 03 FE 55'), withCrc(hex('07 03 04 0001 001E'))]),
    expect: { unit: 7, fn: 3, count: 2 },
    want: { ok: true, registers: [1, 30] },
  },
  {
    name: 'the same noise alone, at the timeout',
    bytes: hex('00 FF 07 83 07 03 FE 55'),
    expect: { unit: 7, fn: 3, count: 2 },
    final: true,
    want: { ok: false, error: 'crc', detail: 'bad CRC on a 5-byte frame from unit 7' },
  },
  { name: 'garbage only, at the timeout', bytes: hex('FF FF 00'), final: true, want: INCOMPLETE },
];

for (const c of cases) {
  test(`modbus frame - reads ${c.name}`, () => {
    assert.deepEqual(readResponse(c.bytes, c.expect ?? SPEC_EXPECT, c.final), c.want);
  });
}

test('modbus frame - a reply fed one byte at a time is incomplete until its last byte', () => {
  for (let n = 0; n < SPEC_REPLY.length; n++) {
    assert.equal(readResponse(SPEC_REPLY.subarray(0, n), SPEC_EXPECT), INCOMPLETE, `after ${n} bytes`);
  }
  assert.deepEqual(readResponse(SPEC_REPLY, SPEC_EXPECT), { ok: true, registers: [0xae41, 0x5652, 0x4340] });
});

test('modbus frame - 125 registers (the largest read) come back whole', () => {
  const data = Buffer.alloc(250);
  for (let i = 0; i < 125; i++) data.writeUInt16BE(i * 500, i * 2);
  const reply = withCrc(Buffer.concat([hex('05 04 FA'), data]));
  const r = readResponse(reply, { unit: 5, fn: 4, count: 125 });
  assert.ok(r !== INCOMPLETE && r.ok);
  assert.equal(r.registers.length, 125);
  assert.equal(r.registers[124], 62000);
});
