import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.js';

const policy = { maxAttempts: 8, backoffMs: 1000, maxBackoffMs: 10_000 };

test('backoff - doubles per attempt and stays within the jitter band', () => {
  assert.equal(
    backoffDelay(policy, 1, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(policy, 1, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(policy, 2, () => 1),
    2000,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 0.5),
    3000,
  );
});

test('backoff - never exceeds maxBackoff', () => {
  for (let a = 1; a < 60; a++) assert.ok(backoffDelay(policy, a, () => 1) <= 10_000);
  assert.equal(
    backoffDelay(policy, 40, () => 1),
    10_000,
  );
});
