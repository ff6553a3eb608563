import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Crm, CrmQuery, CrmResult } from './crm.js';
import { lookupCustomer } from './lookup.js';

// CRMs that misbehave in every way the route workflow must survive.

function fakeCrm(answer: (q: CrmQuery, signal: AbortSignal) => Promise<CrmResult> | CrmResult): Crm & {
  calls: number;
  signals: AbortSignal[];
} {
  const crm = {
    kind: 'rest' as const,
    calls: 0,
    signals: [] as AbortSignal[],
    lookup(q: CrmQuery, signal: AbortSignal) {
      crm.calls++;
      crm.signals.push(signal);
      return Promise.resolve().then(() => answer(q, signal));
    },
  };
  return crm;
}

const CUSTOMER = { id: 'c1', name: 'Alpha', source: 'rest' as const };

test('lookupCustomer - passes a good answer through', async () => {
  const crm = fakeCrm(() => ({ found: true, customer: CUSTOMER }));
  assert.deepEqual(await lookupCustomer(crm, { serial: 'S' }, { deadlineMs: 1000 }), {
    found: true,
    customer: CUSTOMER,
  });
  assert.deepEqual(
    await lookupCustomer(
      fakeCrm(() => ({ found: false })),
      { site: 's' },
      { deadlineMs: 1000 },
    ),
    {
      found: false,
    },
  );
});

test('lookupCustomer - an empty query asks nothing', async () => {
  const crm = fakeCrm(() => ({ found: true, customer: CUSTOMER }));
  assert.deepEqual(await lookupCustomer(crm, { serial: '' }, { deadlineMs: 1000 }), { found: false });
  assert.equal(crm.calls, 0);
});

test('lookupCustomer - a CRM past the deadline gives an error and its signal is aborted', async () => {
  const crm = fakeCrm(
    (_q, signal) =>
      new Promise((resolve) => {
        const t = setTimeout(() => resolve({ found: true, customer: CUSTOMER }), 3000);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve({ found: false });
        });
      }),
  );
  const t0 = Date.now();
  const r = await lookupCustomer(crm, { serial: 'S' }, { deadlineMs: 100 });
  assert.ok(Date.now() - t0 < 1000);
  assert.deepEqual(r, { error: 'the rest CRM did not answer within 100 ms' });
  assert.equal(crm.signals[0].aborted, true);
});

test('lookupCustomer - a throwing CRM or one answering nonsense gives an error', async () => {
  const cases: [Crm, RegExp][] = [
    [fakeCrm(() => Promise.reject(new Error('boom'))), /lookup failed: boom/],
    [
      {
        kind: 'directory',
        lookup: () => {
          throw new TypeError('sync boom');
        },
      },
      /sync boom/,
    ],
    [fakeCrm(() => ({ found: true }) as unknown as CrmResult), /neither a customer/],
    [fakeCrm(() => null as unknown as CrmResult), /neither a customer/],
  ];
  for (const [crm, why] of cases) {
    const r = await lookupCustomer(crm, { serial: 'S' }, { deadlineMs: 1000 });
    assert.ok('error' in r && why.test(r.error), JSON.stringify(r));
  }
});

test('lookupCustomer - the caller giving up ends the lookup at once', async () => {
  const crm = fakeCrm(() => new Promise(() => {}));
  const caller = new AbortController();
  setTimeout(() => caller.abort(), 20);
  const t0 = Date.now();
  assert.deepEqual(await lookupCustomer(crm, { serial: 'S' }, { deadlineMs: 5000, signal: caller.signal }), {
    error: 'CRM lookup cancelled',
  });
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(crm.signals[0].aborted, true);
  caller.abort();
  assert.deepEqual(await lookupCustomer(crm, { serial: 'S' }, { deadlineMs: 5000, signal: caller.signal }), {
    error: 'CRM lookup cancelled',
  });
  assert.equal(crm.calls, 1);
});
