import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import { createStepResolver } from '../engage/step-resolver.js';
import { IncidentService } from '../route/incidents.js';
import { T0, testSite } from '../route/testing.js';
import type { Site } from '../site/model.js';
import { openDatabase } from '../store/db.js';
import { GATEWAY_DEVICE_ID } from './model.js';
import {
  checkWatch,
  clearTransition,
  notifyRecipients,
  openTransition,
  problemOfRule,
  systemRule,
  systemRules,
} from './system-rules.js';

function site(): Site {
  const s = testSite();
  return {
    ...s,
    people: [
      { id: 'alice', name: 'Alice', phone: '+33600000001', channels: { default: ['sms', 'email'] } },
      { id: 'bob', name: 'Bob', email: 'bob@example.test' },
      { id: 'carol', name: 'Carol' },
    ],
    oncall: {
      night: {
        id: 'night',
        timezone: 'Europe/Paris',
        rotation: { members: ['bob'], everyMs: 7 * 24 * 3600_000, start: '2026-01-01T08:00' },
        overrides: [],
      },
    },
  };
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The real route stage with the gateway's step resolver, the built-in rules resolved by id. */
function route(watch: { notify: string[]; via?: string[] }) {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-watch-'));
  dirs.push(dir);
  const db = openDatabase(dir);
  const s = site();
  const logger = memoryLogger();
  const service = new IncidentService({
    db,
    clock: new ManualClock(T0),
    site: s,
    logger,
    resolveStep: createStepResolver(s, new Set(['console']), logger),
  });
  const rules = systemRules(watch);
  return {
    db,
    service,
    apply: (ts: Parameters<IncidentService['applyTransitions']>[0]) =>
      service.applyTransitions(
        ts,
        { upserts: [], deletes: [] },
        (id) => rules.get(id),
        () => undefined,
      ),
  };
}

describe('watch system rules - incidents', () => {
  it('opens on the gateway pseudo-device with the rule name and reason, and clears', () => {
    const r = route({ notify: ['team:security'] });
    const [opened] = r.apply([openTransition('disk-low', T0, '100 MB free of 16 GB', { freeBytes: 1 })]);
    assert.equal(opened.kind, 'opened');
    const i = opened.incident;
    assert.equal(i.ruleId, 'gateway-disk-low');
    assert.equal(i.deviceId, GATEWAY_DEVICE_ID);
    assert.equal(i.severity, 'major');
    assert.equal(i.message, 'Gateway disk almost full: 100 MB free of 16 GB');
    assert.deepEqual(i.context, {});
    const [cleared] = r.apply([clearTransition('disk-low', T0 + 1000, '2 GB free')]);
    assert.equal(cleared.kind, 'cleared');
    r.db.close();
  });

  it('without via, each person gets their own first channel; people without channels are left out', () => {
    const r = route({ notify: ['team:security', 'person:carol'] });
    const [c] = r.apply([openTransition('broker-down', T0, 'broker unreachable for 30 s')]);
    const d = r.service.deliveries(c.incident.id).map((x) => `${x.channel} ${x.recipient}`);
    assert.deepEqual(d, ['sms person:alice']);
    r.db.close();
  });

  it('via: [] behaves as no via', () => {
    const r = route({ notify: ['person:alice'], via: [] });
    const [c] = r.apply([openTransition('uplink-down', T0, 'x')]);
    assert.deepEqual(
      r.service.deliveries(c.incident.id).map((x) => x.channel),
      ['sms'],
    );
    r.db.close();
  });

  it('with via, everyone reached hears on those channels, on-call resolved at the time', () => {
    const r = route({ notify: ['person:alice', 'oncall:night'], via: ['modem'] });
    const [c] = r.apply([openTransition('broker-down', T0, 'x')]);
    const d = r.service.deliveries(c.incident.id).map((x) => `${x.channel} ${x.recipient}`);
    assert.deepEqual(d.sort(), ['modem person:alice', 'modem person:bob']);
    r.db.close();
  });

  it('store-failing queues nothing: the fallback alarm did the telling', () => {
    const r = route({ notify: ['person:alice'], via: ['sms'] });
    const [c] = r.apply([openTransition('store-failing', T0, 'SQLITE_FULL')]);
    assert.equal(c.incident.severity, 'critical');
    assert.deepEqual(r.service.deliveries(c.incident.id), []);
    r.db.close();
  });
});

describe('watch system rules - definitions', () => {
  it('one rule per problem, routed to the contact center, found back from its id', () => {
    const rules = systemRules({ notify: ['person:alice'] });
    assert.equal(rules.size, 7);
    for (const [id, rule] of rules) {
      assert.equal(rule.id, id);
      assert.deepEqual(rule.route, { context: [], contactCenter: true });
      assert.equal(problemOfRule(id) !== undefined, true);
    }
    assert.equal(problemOfRule('door-held-open'), undefined);
    assert.deepEqual(systemRule('clock-jump', { notify: [] }).engage.steps, []);
  });
});

describe('watch system rules - recipients and checks', () => {
  it('the fallback alarm reaches everyone named, on-call included, with their addresses', () => {
    const r = notifyRecipients(site(), ['team:security', 'oncall:night', 'carol'], T0);
    assert.deepEqual(
      r.map((x) => [x.id, x.phone, x.email]),
      [
        ['alice', '+33600000001', undefined],
        ['bob', undefined, 'bob@example.test'],
        ['carol', undefined, undefined],
      ],
    );
  });

  it('warns about unknown entries, unknown channels and people who would hear nothing', () => {
    const w = checkWatch(
      { enabled: true, notify: ['team:security', 'person:nobody', 'oncall:day', 'carol'], fallback: ['gsm'] },
      site(),
      new Set(['sms', 'email']),
    );
    assert.equal(
      w.some((x) => x.includes('"person:nobody" names no person')),
      true,
    );
    assert.equal(
      w.some((x) => x.includes('"oncall:day" names no person')),
      true,
    );
    assert.equal(
      w.some((x) => x.includes('watch.fallback: no channel named "gsm"')),
      true,
    );
    assert.equal(
      w.some((x) => x.startsWith('watch.notify reaches bob, who has no channel')),
      true,
    );
    assert.equal(
      w.some((x) => x.startsWith('watch.notify reaches alice')),
      false,
    );
    assert.equal(
      w.some((x) => x.startsWith('carol has no phone or e-mail')),
      true,
    );
    assert.deepEqual(
      checkWatch({ enabled: true, notify: ['person:alice'] }, site(), new Set(['sms', 'email'])),
      [],
    );
    assert.equal(checkWatch({ enabled: true, notify: [] }, site()).length, 1);
    assert.deepEqual(checkWatch({ enabled: false, notify: [] }, site()), []);
  });

  it('with via, nobody lacks a channel', () => {
    const w = checkWatch({ enabled: true, notify: ['person:bob'], via: ['sms'] }, site(), new Set(['sms']));
    assert.deepEqual(w, []);
  });
});
