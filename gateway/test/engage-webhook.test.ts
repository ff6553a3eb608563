import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../src/core/clock.js';
import { memoryLogger } from '../src/core/log.js';
import { Registry } from '../src/core/metrics.js';
import { DeliveryWorker } from '../src/engage/deliveries.js';
import { LiveHub } from '../src/engage/live-hub.js';
import { createChannels } from '../src/engage/registry.js';
import { EngageScheduler } from '../src/engage/scheduler.js';
import { startReceiver, verifySignature } from '../src/engage/testing.js';
import { IncidentService } from '../src/route/incidents.js';
import type { RuleInfo } from '../src/route/rule-info.js';
import { door, testSite } from '../src/route/testing.js';
import { openDatabase } from '../src/store/db.js';

const SECRET = 'integration-secret-0123456789abcdef';
const STEP_DELAY = 400;

test('engage - an incident reaches a signed webhook, escalates when nobody acknowledges, and stops after ack', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-engage-'));
  const rx = await startReceiver([200]);
  const db = openDatabase(dir);
  const logger = memoryLogger();
  const site = testSite();
  const incidents = new IncidentService({ db, clock: systemClock, site, logger });
  const channels = createChannels(
    {
      'ops-webhook': {
        type: 'webhook',
        url: rx.url,
        secret: SECRET,
        timeout: 2000,
        maxAttempts: 3,
        backoff: 100,
        maxBackoff: 1000,
      },
    },
    { logger, live: new LiveHub() },
  );
  const deliveries = new DeliveryWorker({
    db,
    channels,
    clock: systemClock,
    logger,
    metrics: new Registry(),
    incidents,
  });
  const scheduler = new EngageScheduler({ clock: systemClock, incidents, deliveries, logger });
  const rule: RuleInfo = {
    id: 'door-held-open',
    name: 'Door held open',
    severity: 'major',
    route: { team: 'security' },
    engage: {
      message: '{device.name} held open ({reason})',
      steps: [
        { afterMs: 0, notify: ['alice'], via: ['ops-webhook'] },
        { afterMs: STEP_DELAY, notify: ['team:supervisors'], via: ['ops-webhook'] },
      ],
      repeat: { everyMs: STEP_DELAY, times: 5 },
    },
  };
  try {
    deliveries.recover();
    scheduler.start();
    const openedAt = Date.now();
    const [opened] = incidents.applyTransitions(
      [
        {
          type: 'open',
          ruleId: rule.id,
          deviceId: door.id,
          severity: 'major',
          at: openedAt,
          triggerTs: openedAt,
          reason: 'open 30s',
          values: { open: true },
        },
      ],
      { upserts: [], deletes: [] },
      () => rule,
      () => door,
    );
    scheduler.kick();

    const [first] = await rx.waitFor(1);
    assert.ok(verifySignature(SECRET, first), 'the receiver can verify the signature with the shared secret');
    assert.equal(first.json.message, 'Door G12 held open (open 30s)');
    assert.equal((first.json.recipient as { id: string }).id, 'alice');
    assert.equal((first.json.incident as { id: string }).id, opened.incident.id);
    assert.deepEqual(first.json.links, {
      cameraStream: 'rtsp://cam-g12/stream',
      cameraSnapshot: 'http://cam-g12/snap.jpg',
      speakerSip: 'sip:spk-g12@pbx',
    });

    const second = (await rx.waitFor(2, 5000))[1];
    assert.ok(verifySignature(SECRET, second));
    assert.equal((second.json.recipient as { id: string }).id, 'carol');
    assert.equal(second.json.step, 1);
    assert.ok(second.at - openedAt >= STEP_DELAY - 5, `step 1 came ${second.at - openedAt} ms after opening`);
    assert.notEqual(second.headers['idempotency-key'], first.headers['idempotency-key']);

    const wouldBeDue = incidents.nextEscalationDue();
    assert.ok(wouldBeDue !== undefined, 'a repeat is scheduled');
    incidents.acknowledge(opened.incident.id, { id: 'carol', via: 'api' });
    scheduler.kick();
    assert.equal(incidents.nextEscalationDue(), undefined);
    const count = rx.received.length;
    // Proving a silence needs waiting: past the moment the repeat would have fired, plus margin.
    await sleep(Math.max(0, wouldBeDue - Date.now()) + STEP_DELAY);
    await deliveries.idle();
    assert.equal(rx.received.length, count, 'nothing is sent after the acknowledgement');
    const kinds = incidents.timeline(opened.incident.id).map((e) => e.kind);
    assert.deepEqual(
      kinds.filter((k) => k !== 'notification'),
      ['opened', 'escalated', 'acknowledged'],
    );
    assert.ok(incidents.deliveries(opened.incident.id).every((d) => d.state === 'delivered'));
  } finally {
    scheduler.stop();
    await deliveries.stop();
    db.close();
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
