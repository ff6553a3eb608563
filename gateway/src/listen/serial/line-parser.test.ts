import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_KINDS } from '../../site/kinds.js';
import type { Device, SerialLine } from '../../site/model.js';
import { compileRecordParser, convert, LineFramer, type Frame } from './line-parser.js';
import { testLine } from './testing.js';

// Framing and parsing of text-line records, table-driven: what a sensor prints -> what the rules see.

const base: SerialLine = testLine({ maxLineBytes: 32 });

function device(id: string, kind: string, match = id, fixed: Record<string, string> = {}): Device {
  return {
    id,
    kind,
    name: id,
    site: 's',
    zone: 'z',
    tags: [],
    line: { line: 'l1', match, registers: [], fixed },
  };
}

const texts = (frames: Frame[]) => frames.map((f) => (f.ok ? f.text : `!${f.reason}`));

test('line framer - records split on the delimiter, line endings dropped, halves joined', () => {
  const f = new LineFramer({ delimiter: '\n', maxLineBytes: 32 });
  assert.deepEqual(texts(f.push(Buffer.from('a=1\r\nb=2\n\r\n\nc='))), ['a=1', 'b=2']);
  assert.deepEqual(texts(f.push(Buffer.from('3'))), []);
  assert.deepEqual(texts(f.push(Buffer.from('\nd'))), ['c=3']);
  f.reset();
  assert.deepEqual(texts(f.push(Buffer.from('e\n'))), ['e'], 'a reset forgets the half record');
});

test('line framer - a multi-byte delimiter cut across chunks', () => {
  const f = new LineFramer({ delimiter: '\r\n', maxLineBytes: 32 });
  assert.deepEqual(texts(f.push(Buffer.from('t=1\r'))), []);
  assert.deepEqual(texts(f.push(Buffer.from('\nt=2\r\n'))), ['t=1', 't=2']);
  const g = new LineFramer({ delimiter: ';', maxLineBytes: 32 });
  assert.deepEqual(texts(g.push(Buffer.from('x=1;y=2;'))), ['x=1', 'y=2']);
});

test('line framer - a record past maxLineBytes is dropped up to the next delimiter, once', () => {
  const f = new LineFramer({ delimiter: '\n', maxLineBytes: 8 });
  assert.deepEqual(texts(f.push(Buffer.from('123456789\nok\n'))), ['!too_long', 'ok']);
  // Without a delimiter in sight: refused as soon as it is too long, then skipped however long it goes.
  assert.deepEqual(texts(f.push(Buffer.from('x'.repeat(20)))), ['!too_long']);
  assert.deepEqual(texts(f.push(Buffer.from('y'.repeat(1000)))), []);
  assert.deepEqual(texts(f.push(Buffer.from('zz\nafter\n'))), ['after']);
  // Exactly the limit, with CRLF, is fine.
  assert.deepEqual(texts(f.push(Buffer.from('12345678\r'))), []);
  assert.deepEqual(texts(f.push(Buffer.from('\n'))), ['12345678']);
  const g = new LineFramer({ delimiter: '<>', maxLineBytes: 8 });
  assert.deepEqual(texts(g.push(Buffer.from('x'.repeat(30) + '<'))), ['!too_long']);
  assert.deepEqual(texts(g.push(Buffer.from('>ok<>'))), ['ok'], 'a delimiter cut in two ends the skip');
});

test('line framer - bytes that are not text are garbage, and the next record is read', () => {
  const f = new LineFramer({ delimiter: '\n', maxLineBytes: 64 });
  const frames = f.push(
    Buffer.concat([
      Buffer.from([0xff, 0xfe, 0x80, 0x0a]),
      Buffer.from('t\u0000=1\n'),
      Buffer.from('ok\tfine\n'),
      Buffer.from('\u001b[2J\n'),
      Buffer.from('température=3\n'),
    ]),
  );
  assert.deepEqual(texts(frames), ['!garbage', '!garbage', 'ok\tfine', '!garbage', 'température=3']);
  assert.match((frames[0] as { detail: string }).detail, /not UTF-8 text: fffe80/);
});

const json = { ...base, deviceField: 'id' };
const regex: SerialLine = {
  ...base,
  format: 'regex',
  regex: '^(?<sensor>\\w+) T=(?<celsius>\\S+)(?: ts=(?<ts>\\S+))?$',
  deviceField: 'sensor',
};
const kinds = BUILTIN_KINDS;
const devices = [
  device('cold-1', 'temperature', 'T1'),
  device('door-1', 'door'),
  device('oven-1', 'appliance', 'oven-1', { serial: 'SN-9' }),
];

const cases: [string, SerialLine, string, unknown][] = [
  [
    'json, device by match',
    json,
    '{"id":"T1","celsius":4.5}',
    { deviceId: 'cold-1', values: { celsius: 4.5 } },
  ],
  [
    'json, number as text',
    json,
    '{"id":"T1","celsius":" -3.25 "}',
    { deviceId: 'cold-1', values: { celsius: -3.25 } },
  ],
  [
    'json, boolean spellings',
    json,
    '{"id":"door-1","open":"ON"}',
    { deviceId: 'door-1', values: { open: true } },
  ],
  [
    'json, boolean 0',
    json,
    '{"id":"door-1","open":0,"badge":"B7"}',
    { deviceId: 'door-1', values: { open: false, badge: 'B7' } },
  ],
  [
    'json, unknown keys dropped, null absent',
    json,
    '{"id":"T1","celsius":1,"rssi":-70,"x":null}',
    { deviceId: 'cold-1', values: { celsius: 1 } },
  ],
  [
    'json, fixed values added, numeric code kept as text',
    json,
    '{"id":"oven-1","status":"fault","code":42}',
    { deviceId: 'oven-1', values: { status: 'fault', code: '42', serial: 'SN-9' } },
  ],
  [
    'json, ts in epoch ms',
    json,
    '{"id":"T1","celsius":1,"ts":1700000000000}',
    { deviceId: 'cold-1', values: { celsius: 1 }, ts: 1700000000000 },
  ],
  [
    'json, ts in ISO 8601',
    json,
    '{"id":"T1","celsius":1,"ts":"2024-03-01T10:00:00Z"}',
    { deviceId: 'cold-1', values: { celsius: 1 }, ts: Date.UTC(2024, 2, 1, 10) },
  ],
  ['json, not JSON', json, '{"id":"T1",', 'malformed'],
  ['json, not an object', json, '[1,2]', 'malformed'],
  ['json, no device field', json, '{"celsius":1}', 'unknown_device'],
  ['json, device not on the line', json, '{"id":"T9","celsius":1}', 'unknown_device'],
  ['json, device by id when a match is set', json, '{"id":"cold-1","celsius":1}', 'unknown_device'],
  ['json, not a number', json, '{"id":"T1","celsius":"warm"}', 'bad_value'],
  ['json, not finite', json, '{"id":"T1","celsius":"Infinity"}', 'bad_value'],
  ['json, hex is not a number', json, '{"id":"T1","celsius":"0x1f"}', 'bad_value'],
  ['json, not a boolean', json, '{"id":"door-1","open":"maybe"}', 'bad_value'],
  ['json, object for a string', json, '{"id":"door-1","open":true,"badge":{}}', 'bad_value'],
  ['json, bad ts', json, '{"id":"T1","celsius":1,"ts":"yesterday"}', 'bad_value'],
  ['regex, fields from groups', regex, 'T1 T=21.5', { deviceId: 'cold-1', values: { celsius: 21.5 } }],
  [
    'regex, ts group in ms',
    regex,
    'T1 T=21.5 ts=1700000000000',
    { deviceId: 'cold-1', values: { celsius: 21.5 }, ts: 1700000000000 },
  ],
  ['regex, no match', regex, 'hello', 'no_match'],
  ['regex, bad number', regex, 'T1 T=--', 'bad_value'],
  ['regex, unknown device', regex, 'T2 T=1', 'unknown_device'],
];

for (const [name, line, text, want] of cases) {
  test(`record parser - ${name}`, () => {
    const r = compileRecordParser(line, devices, kinds)(text);
    if (typeof want === 'string') {
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(!r.ok && r.reason, want);
      assert.ok(!r.ok && r.detail.length > 0);
    } else {
      assert.deepEqual(r, { ok: true, reading: want });
    }
  });
}

test('record parser - a line with one device needs no device field', () => {
  const one = { ...base, format: 'regex' as const, regex: '^(?<celsius>[-\\d.]+)C$' };
  const parse = compileRecordParser(one, [device('probe', 'temperature')], kinds);
  assert.deepEqual(parse('-18.5C'), { ok: true, reading: { deviceId: 'probe', values: { celsius: -18.5 } } });
  const none = compileRecordParser(one, [], kinds)('1C');
  assert.equal(!none.ok && none.reason, 'unknown_device');
});

test('record parser - a key named like an Object member is not a field', () => {
  const parse = compileRecordParser(json, devices, kinds);
  const r = parse('{"id":"T1","__proto__":{"celsius":5},"constructor":1}');
  assert.deepEqual(r, { ok: true, reading: { deviceId: 'cold-1', values: {} } });
});

test('convert - the spellings accepted per type', () => {
  assert.equal(convert('1e3', 'number'), 1000);
  assert.equal(convert('', 'number'), undefined);
  assert.equal(convert(true, 'number'), undefined);
  assert.equal(convert('off', 'boolean'), false);
  assert.equal(convert(1, 'boolean'), true);
  assert.equal(convert(2, 'boolean'), undefined);
  assert.equal(convert('', 'string'), '');
  assert.equal(convert(false, 'string'), 'false');
  assert.equal(convert([], 'string'), undefined);
});
