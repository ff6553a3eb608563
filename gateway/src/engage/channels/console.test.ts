import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LiveEvent } from '../../api/ports.js';
import { ManualClock } from '../../core/clock.js';
import { memoryLogger } from '../../core/log.js';
import { LiveHub } from '../live-hub.js';
import { createChannels } from '../registry.js';

test('console - a notification is logged and reaches live subscribers', async () => {
  const live = new LiveHub();
  const logger = memoryLogger();
  const seen: LiveEvent[] = [];
  const off = live.subscribe((e) => seen.push(e));
  const channels = createChannels({}, { logger, live, clock: new ManualClock(42) });
  const console = channels.get('console');
  assert.ok(console);
  const incident = { id: 'inc_1', ruleId: 'r', deviceId: 'd', severity: 'critical', state: 'open' } as never;
  const res = await console.send(
    {
      deliveryId: 'dlv_1',
      incident,
      recipient: { kind: 'team', id: 'security', name: 'Security' },
      step: 0,
      attempt: 1,
      message: 'AED cabinet opened',
      language: 'en',
      claimedAt: 0,
    },
    new AbortController().signal,
  );
  assert.deepEqual(res, { ok: true });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].type, 'notification');
  assert.equal(seen[0].at, 42);
  assert.deepEqual((seen[0].data as { recipient: unknown }).recipient, {
    kind: 'team',
    id: 'security',
    name: 'Security',
  });
  assert.ok(logger.lines.some((l) => l.includes('AED cabinet opened')));
  off();
  assert.equal(live.size, 0);
});

test('registry - builds configured channels by type and always has console', () => {
  const channels = createChannels(
    {
      'ops-webhook': {
        type: 'webhook',
        url: 'http://x',
        secret: 's'.repeat(16),
        timeout: 1,
        maxAttempts: 1,
        backoff: 1,
        maxBackoff: 1,
      },
    },
    { logger: memoryLogger() },
  );
  assert.deepEqual([...channels.keys()].sort(), ['console', 'ops-webhook']);
  assert.equal(channels.get('ops-webhook')?.type, 'webhook');
});

test('live hub - a throwing subscriber is dropped, the others still hear', () => {
  const live = new LiveHub();
  let heard = 0;
  live.subscribe(() => {
    throw new Error('socket closed');
  });
  live.subscribe(() => heard++);
  live.emit({ type: 'incident', at: 1, data: {} });
  live.emit({ type: 'incident', at: 2, data: {} });
  assert.equal(heard, 2);
  assert.equal(live.size, 1);
});
