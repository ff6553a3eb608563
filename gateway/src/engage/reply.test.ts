import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReply, samePhone } from './reply.js';

test('the replies people actually send are understood', () => {
  for (const t of ['1', 'ACK', 'ok', 'Ok.', ' oui ', 'Yes', 'ack']) {
    assert.deepEqual(parseReply(t), { action: 'acknowledge' }, t);
  }
  assert.deepEqual(parseReply('ACK 4821'), { action: 'acknowledge', code: '4821' });
  assert.deepEqual(parseReply('ack4821'), { action: 'acknowledge', code: '4821' });
  assert.deepEqual(parseReply('1 4821'), { action: 'acknowledge', code: '4821' });
  assert.deepEqual(parseReply('4821'), { action: 'acknowledge', code: '4821' });
  assert.deepEqual(parseReply('2'), { action: 'escalate' });
  assert.deepEqual(parseReply('Escalade 4821'), { action: 'escalate', code: '4821' });
});

test('anything else is not guessed at', () => {
  for (const t of ['', 'who is this?', 'no', '3', 'ACK ACK', 'STOP', '12', 'ACK 12']) {
    assert.equal(parseReply(t), undefined, t);
  }
});

test('phone numbers match whatever the spacing', () => {
  assert.ok(samePhone('+33 6 12 34 56 78', '+33612345678'));
  assert.ok(samePhone('+1 (415) 555-0100', '+14155550100'));
  assert.ok(!samePhone('+33612345678', '+33612345679'));
});
