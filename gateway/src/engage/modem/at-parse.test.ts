import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  finalResult,
  isPrompt,
  isUnsolicited,
  LineSplitter,
  parseCmgl,
  parseCmgr,
  parseCmti,
  sctsToIso,
  splitFields,
} from './at-parse.js';

test('at lines - CRLF framing, echo ending in CR, chunks cut anywhere', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('AT\r\r\nO'), ['AT']);
  assert.deepEqual(s.push('K\r'), ['OK']);
  assert.deepEqual(s.push('\n\r\n+CMTI: "SM",'), []);
  assert.deepEqual(s.push('3\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n'), ['+CMTI: "SM",3', '+CSQ: 20,99', 'OK']);
  assert.equal(s.partial, '');
});

test('at lines - the SMS prompt has no line end and stays partial', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('\r\n> '), []);
  assert.equal(s.partial, '> ');
  assert.ok(isPrompt(s.partial));
  assert.ok(isPrompt('>'));
  assert.ok(!isPrompt('> hello'));
  assert.ok(!isPrompt(''));
  s.clear();
  assert.deepEqual(s.push('\r\n+CMGS: 7\r\n'), ['+CMGS: 7']);
});

test('at lines - final result codes', () => {
  const cases: [string, ReturnType<typeof finalResult>][] = [
    ['OK', { ok: true }],
    ['ERROR', { ok: false, text: 'ERROR' }],
    ['+CME ERROR: 10', { ok: false, text: '+CME ERROR: 10' }],
    ['+CMS ERROR: 500', { ok: false, text: '+CMS ERROR: 500' }],
    ['+CME ERROR: SIM not inserted', { ok: false, text: '+CME ERROR: SIM not inserted' }],
    ['+CMGS: 12', undefined],
    ['OKAY', undefined],
    ['Call me, OK', undefined],
  ];
  for (const [line, want] of cases) assert.deepEqual(finalResult(line), want, line);
});

test('at lines - unsolicited codes, unless the running command answers with the same code', () => {
  assert.ok(isUnsolicited('+CMTI: "SM",4'));
  assert.ok(isUnsolicited('RING'));
  assert.ok(isUnsolicited('+CREG: 1'));
  assert.ok(isUnsolicited('^RSSI:17'));
  assert.ok(isUnsolicited('+CPIN: READY'));
  assert.ok(!isUnsolicited('+CPIN: READY', '+CPIN:'));
  assert.ok(!isUnsolicited('+CMGS: 3'));
  assert.ok(!isUnsolicited('ACK 4821'));
});

test('at lines - +CMTI and quoted fields', () => {
  assert.deepEqual(parseCmti('+CMTI: "SM",12'), { storage: 'SM', index: 12 });
  assert.deepEqual(parseCmti('+CMTI: "ME", 3'), { storage: 'ME', index: 3 });
  assert.equal(parseCmti('+CMTI: garbage'), undefined);
  assert.deepEqual(splitFields(' "REC UNREAD","+33612345678",,"26/11/23,10:00:00+04"'), [
    'REC UNREAD',
    '+33612345678',
    '',
    '26/11/23,10:00:00+04',
  ]);
});

test('at lines - +CMGR header then text lines', () => {
  const sms = parseCmgr(3, ['+CMGR: "REC UNREAD","+33612345678",,"26/11/23,10:00:00+04"', 'ACK 4821']);
  assert.deepEqual(sms, {
    index: 3,
    status: 'REC UNREAD',
    number: '+33612345678',
    timestamp: '26/11/23,10:00:00+04',
    text: 'ACK 4821',
  });
  const two = parseCmgr(1, [
    '+CMGR: "REC READ","+447700900123","Bob","26/11/23,10:00:00+00",145,4,0,0,"+447785016005",145,9',
    'line one',
    'Arriv\x05 \x00 10h',
  ]);
  assert.equal(two?.text, 'line one\nArrivé @ 10h');
  assert.equal(two?.number, '+447700900123');
  assert.equal(parseCmgr(9, []), undefined);
});

test('at lines - +CMGL lists several messages with their text', () => {
  const list = parseCmgl([
    '+CMGL: 1,"REC UNREAD","+33612345678",,"26/11/23,09:58:00+04"',
    '1',
    '+CMGL: 2,"REC READ","+33698765432",,"26/11/23,09:59:00+04"',
    'ACK 4821',
    'merci',
    '+CMGL: 4,"STO UNSENT","+33600000000",,',
    'draft',
  ]);
  assert.deepEqual(
    list.map((m) => [m.index, m.status, m.number, m.text]),
    [
      [1, 'REC UNREAD', '+33612345678', '1'],
      [2, 'REC READ', '+33698765432', 'ACK 4821\nmerci'],
      [4, 'STO UNSENT', '+33600000000', 'draft'],
    ],
  );
  assert.equal(list[2].timestamp, undefined);
  assert.deepEqual(parseCmgl([]), []);
});

test('at lines - service centre time stamps to ISO 8601 (zone in quarter hours)', () => {
  assert.equal(sctsToIso('26/11/23,10:00:00+04'), '2026-11-23T10:00:00+01:00');
  assert.equal(sctsToIso('26/06/01,23:59:59-22'), '2026-06-01T23:59:59-05:30');
  assert.equal(sctsToIso('26/11/23,10:00:00+0'), '2026-11-23T10:00:00+00:00');
  assert.equal(sctsToIso('yesterday'), undefined);
});
