import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IllegalTransitionError } from '../core/errors.js';
import { assertTransition, canTransition } from './lifecycle.js';
import type { IncidentState } from './model.js';

const STATES: IncidentState[] = ['open', 'acknowledged', 'cleared', 'resolved'];
const ALLOWED = new Set([
  'open>acknowledged',
  'open>cleared',
  'open>resolved',
  'acknowledged>cleared',
  'acknowledged>resolved',
  'cleared>resolved',
]);

for (const from of STATES) {
  for (const to of STATES) {
    const allowed = ALLOWED.has(`${from}>${to}`);
    test(`lifecycle - ${from} -> ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
      assert.equal(canTransition(from, to), allowed);
      if (allowed) assert.doesNotThrow(() => assertTransition(from, to));
      else
        assert.throws(
          () => assertTransition(from, to),
          (e: unknown) => e instanceof IllegalTransitionError && e.code === 'VIGIE_ERR_ILLEGAL_TRANSITION',
        );
    });
  }
}
