import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import type { IncidentChange } from '../route/incidents.js';
import { harness, openT, T0, type Harness } from '../route/testing.js';
import type { Channel, Notification } from './channel.js';
import { DeliveryWorker } from './deliveries.js';
import { EngageScheduler } from './scheduler.js';

let h: Harness;
let scheduler: EngageScheduler | undefined;
afterEach(() => {
  scheduler?.stop();
  h?.close();
});

function setup() {
  h = harness();
  const sent: Notification[] = [];
  const waiters: (() => void)[] = [];
  const record: Channel = {
    name: 'console',
    type: 'console',
    send: (n) => {
      sent.push(n);
      for (const w of waiters.splice(0)) w();
      return Promise.resolve({ ok: true });
    },
  };
  const channels = new Map<string, Channel>([
    ['console', record],
    ['ops-webhook', { ...record, name: 'ops-webhook', type: 'webhook' }],
  ]);
  const worker = new DeliveryWorker({
    db: h.db,
    channels,
    clock: h.clock,
    logger: memoryLogger(),
    metrics: new Registry(),
    incidents: h.service,
  });
  scheduler = new EngageScheduler({
    clock: h.clock,
    incidents: h.service,
    deliveries: worker,
    logger: memoryLogger(),
  });
  const changes: IncidentChange[] = [];
  scheduler.onChanges((cs) => changes.push(...cs));
  const until = (n: number, ms = 3000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (sent.length >= n ? resolve() : waiters.push(check));
      setTimeout(() => reject(new Error(`${sent.length} of ${n} notifications after ${ms} ms`)), ms).unref();
      check();
    });
  return { worker, sent, changes, until };
}

test('scheduler - kick sends step 0, then the manual clock drives step 1', async () => {
  const { worker, sent, changes, until } = setup();
  scheduler!.start();
  h.apply([openT(T0)]);
  scheduler!.kick();
  await until(3);
  await worker.idle();
  assert.deepEqual(sent.map((n) => `${n.recipient.kind}:${n.recipient.id}@${n.step}`).sort(), [
    'person:alice@0',
    'person:bob@0',
    'team:security@0',
  ]);
  h.clock.advance(19_000);
  scheduler!.kick();
  assert.equal(changes.length, 0);
  h.clock.advance(1000);
  scheduler!.kick();
  assert.deepEqual(
    changes.map((c) => `${c.kind}:${c.incident.escalationStep}`),
    ['escalated:1'],
  );
  await until(4);
  assert.equal(sent[3].recipient.id, 'carol');
  assert.equal(sent[3].step, 1);
});

test('scheduler - the real timer wakes it when the next escalation falls due', async () => {
  const { sent, until } = setup();
  h.apply([openT(T0)]);
  scheduler!.start();
  await until(3);
  // The manual clock says the step is due in 30 ms; move it there, the armed timer does the rest.
  h.clock.set(T0 + 20_000 - 30);
  scheduler!.kick();
  h.clock.set(T0 + 20_000);
  await until(4);
  assert.equal(sent[3].recipient.id, 'carol');
});
