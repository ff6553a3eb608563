import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newAckCode } from './ack-code.js';

test('ack codes are four digits, unique among the active ones, longer only when four run short', () => {
  const active = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const code = newAckCode((c) => active.has(c));
    assert.ok(!active.has(code));
    active.add(code);
  }
  assert.ok([...active].every((c) => /^\d{4,5}$/.test(c)));
  assert.ok([...active].filter((c) => c.length === 4).length > 1800, 'mostly four digits');
  // Every four-digit code taken: five digits, after a bounded number of lookups.
  let lookups = 0;
  const code = newAckCode((c) => {
    lookups++;
    return c.length === 4;
  });
  assert.equal(code.length, 5);
  assert.ok(lookups <= 9);
});
