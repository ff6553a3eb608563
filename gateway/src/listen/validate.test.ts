import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_KINDS } from '../site/kinds.js';
import { compileKind, decodeJson, MALFORMED, parseTs } from './validate.js';

const door = compileKind(BUILTIN_KINDS.door);
const temp = compileKind(BUILTIN_KINDS.temperature);

test('validate - kind fields are checked and unknown fields dropped', () => {
  const cases: Array<[ReturnType<typeof compileKind>, Record<string, unknown>, unknown]> = [
    [door, { open: true }, { values: { open: true } }],
    [
      door,
      { open: false, badge: 'A1234', extra: 1, __proto__x: 2 },
      { values: { open: false, badge: 'A1234' } },
    ],
    [door, {}, 'missing_field'],
    [door, { open: null }, 'missing_field'],
    [door, { open: 'true' }, 'wrong_type'],
    [door, { open: 1 }, 'wrong_type'],
    [door, { open: true, badge: 42 }, 'wrong_type'],
    [door, { open: true, badge: 'x'.repeat(65) }, 'out_of_range'],
    [temp, { celsius: 21.5 }, { values: { celsius: 21.5 } }],
    [temp, { celsius: '21.5' }, 'wrong_type'],
    [temp, { celsius: 151 }, 'out_of_range'],
    [temp, { celsius: -91 }, 'out_of_range'],
    [temp, { celsius: Infinity }, 'out_of_range'],
    [temp, { celsius: NaN }, 'out_of_range'],
    [temp, { celsius: 20, battery: 87 }, { values: { celsius: 20 }, battery: 87 }],
    [temp, { celsius: 20, battery: 101 }, 'out_of_range'],
    [temp, { celsius: 20, battery: -1 }, 'out_of_range'],
    [temp, { celsius: 20, battery: '50' }, 'wrong_type'],
    [temp, { celsius: 20, ts: 1_700_000_000_000 }, { values: { celsius: 20 }, ts: 1_700_000_000_000 }],
    [
      temp,
      { celsius: 20, ts: '2026-11-23T19:00:00Z' },
      { values: { celsius: 20 }, ts: Date.UTC(2026, 10, 23, 19) },
    ],
    [temp, { celsius: 20, ts: 'yesterday' }, 'bad_ts'],
    [temp, { celsius: 20, ts: -5 }, 'bad_ts'],
    [temp, { celsius: 20, ts: 1e300 }, 'bad_ts'],
    [temp, { celsius: 20, ts: true }, 'bad_ts'],
  ];
  for (const [check, input, want] of cases) assert.deepEqual(check(input), want, JSON.stringify(input));
});

test('validate - prototype keys in a payload never reach the values', () => {
  const obj = decodeJson(Buffer.from('{"__proto__":{"open":true},"constructor":{"x":1}}')) as Record<
    string,
    unknown
  >;
  assert.equal(door(obj), 'missing_field');
  assert.equal(({} as Record<string, unknown>).open, undefined);
});

test('validate - ts accepts epoch ms and ISO 8601 only', () => {
  assert.equal(parseTs(1234), 1234);
  assert.equal(parseTs('2026-01-02T03:04:05.678+01:00'), Date.UTC(2026, 0, 2, 2, 4, 5, 678));
  assert.equal(parseTs('2026-01-02'), Date.UTC(2026, 0, 2));
  for (const bad of ['Tue, 01 Jan 2026', '1700000000000', '', '2026-13-45T99:99', 0, NaN]) {
    assert.equal(parseTs(bad), undefined, String(bad));
  }
});

test('validate - JSON decoding refuses invalid UTF-8 and garbage without throwing', () => {
  assert.equal(decodeJson(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), MALFORMED);
  assert.equal(decodeJson(Buffer.from('{"a":')), MALFORMED);
  assert.equal(decodeJson(Buffer.from('['.repeat(100_000))), MALFORMED);
  assert.deepEqual(decodeJson(Buffer.from('{"a":1}')), { a: 1 });
});
