import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInstant } from './instant.js';

test('instant - epoch ms and zoned ISO date-times; a zoneless or unreadable time is refused, not guessed', () => {
  assert.equal(parseInstant('1767634200000'), 1767634200000);
  assert.equal(parseInstant('2026-01-05T18:30:00+01:00'), Date.UTC(2026, 0, 5, 17, 30));
  assert.equal(parseInstant(' 2026-01-05T17:30:00Z '), Date.UTC(2026, 0, 5, 17, 30));
  assert.equal(parseInstant('2026-01-05T18:30:00'), undefined);
  assert.equal(parseInstant('2026-01-05'), undefined);
  assert.equal(parseInstant('yesterday'), undefined);
  assert.equal(parseInstant('2026-13-45T99:00:00Z'), undefined);
});
