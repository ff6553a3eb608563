import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SensorEvent } from '../../../rules/src/model.js';
import type { LiveEvent } from '../api/ports.js';
import { VigieError } from '../core/errors.js';
import { LiveHub } from '../engage/live-hub.js';
import type { Actor, Incident } from '../route/model.js';
import { createEmbeddedLink, type EmbeddedLinkDeps } from './embedded-link.js';
import type { IncidentEvent } from './link.js';

function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_1',
    site: 'airport',
    ruleId: 'door-held-open',
    ruleName: 'Door held open',
    deviceId: 'door-g12',
    deviceName: 'Door G12',
    zone: 'gates',
    severity: 'high',
    state: 'open',
    reason: 'open for 2m',
    triggerTs: 1000,
    openedAt: 1000,
    updatedAt: 1000,
    escalationStep: 0,
    values: { open: true },
    ...over,
  } as Incident;
}

/** The ports with a live hub that honours `sensor`, and a record of what the link called. */
function fakes() {
  const listeners = new Map<(e: LiveEvent) => void, boolean>();
  const acted: { action: string; id: string; actor: Actor; note?: string }[] = [];
  const injected: { topic: string; payload: string }[] = [];
  const deps: EmbeddedLinkDeps = {
    catalog: () => ({ site: { id: 'airport' } }) as never,
    ruleSources: {
      list: () => [],
      validate: (id, rules) => ({ ok: false, rules: [id], problems: [{ message: `${rules.length}` }] }),
      put: (id, label, rules) => ({ ok: true, rules: [id, label, String(rules.length)], problems: [] }),
      remove: () => false,
    },
    ingest: {
      inject(topic, payload) {
        injected.push({ topic, payload: payload.toString('utf8') });
        return topic.startsWith('vigie/')
          ? { ok: true, deviceId: 'door-g12' }
          : { ok: false, error: 'unmapped_topic' };
      },
    },
    live: {
      subscribe(l, opts) {
        listeners.set(l, opts?.sensor === true);
        return () => listeners.delete(l);
      },
    },
    incidents: {
      list: (f) => (f.state?.includes('open') ? [incident()] : []),
      get: () => undefined,
      timeline: () => [],
      deliveries: () => [],
      acknowledge(id, actor, note) {
        acted.push({ action: 'acknowledge', id, actor, note });
        return incident({ id, state: 'acknowledged' });
      },
      resolve(id, actor, note) {
        acted.push({ action: 'resolve', id, actor, note });
        return incident({ id, state: 'resolved' });
      },
    },
  };
  const emit = (e: LiveEvent) => {
    for (const [l, sensor] of listeners) if (e.type !== 'sensor' || sensor) l(e);
  };
  return { deps, listeners, acted, injected, emit };
}

const sensorEvent: SensorEvent = {
  site: 'airport',
  deviceId: 'door-g12',
  kind: 'door',
  ts: 5,
  receivedAt: 5,
  values: { open: true },
};

describe('embedded link', () => {
  it('hands rule sets, catalog and injected messages to the gateway unchanged', async () => {
    const { deps, injected } = fakes();
    const link = createEmbeddedLink(deps);
    assert.equal(link.mode, 'embedded');
    assert.deepEqual(link.status(), { connected: true });
    assert.equal((await link.catalog()).site.id, 'airport');
    assert.deepEqual((await link.putRules('node-red', 'Flows', [])).rules, ['node-red', 'Flows', '0']);
    assert.equal((await link.validateRules('node-red', [])).ok, false);
    assert.deepEqual(await link.inject('vigie/airport/door/door-g12', '{"open":true}'), {
      ok: true,
      deviceId: 'door-g12',
    });
    assert.deepEqual(await link.inject('zigbee2mqtt/x', Buffer.from('{}')), {
      ok: false,
      error: 'unmapped_topic',
    });
    assert.deepEqual(injected[0], { topic: 'vigie/airport/door/door-g12', payload: '{"open":true}' });
  });

  it('taps sensor events only while someone listens, and gives incidents their transition apart', () => {
    const { deps, listeners, emit } = fakes();
    const link = createEmbeddedLink(deps);
    const sensors: SensorEvent[] = [];
    const incidents: IncidentEvent[] = [];
    const offSensor = link.onSensorEvent((ev) => sensors.push(ev));
    link.onIncident((e) => incidents.push(e));
    assert.deepEqual([...listeners.values()].sort(), [false, true]);

    emit({ type: 'sensor', at: 5, data: sensorEvent });
    emit({ type: 'notification', at: 6, data: {} });
    emit({
      type: 'incident',
      at: 7,
      data: { id: 'inc_1', rule: 'r', device: 'd', state: 'open', transition: 'opened' },
    });
    assert.deepEqual(sensors, [sensorEvent]);
    assert.deepEqual(incidents, [
      { transition: 'opened', incident: { id: 'inc_1', rule: 'r', device: 'd', state: 'open' } },
    ]);

    offSensor();
    assert.deepEqual([...listeners.values()], [false]);
  });

  it('acts on incidents as node-red:BY, with the API checks on who and the note', async () => {
    const { deps, acted } = fakes();
    const link = createEmbeddedLink(deps);
    const i = await link.act('acknowledge', 'inc_1', 'ana', 'on my way');
    assert.equal(i.state, 'acknowledged');
    assert.equal(i.rule, 'door-held-open');
    await link.act('resolve', 'inc_1', 'ana');
    assert.deepEqual(acted, [
      {
        action: 'acknowledge',
        id: 'inc_1',
        actor: { id: 'node-red:ana', via: 'node-red' },
        note: 'on my way',
      },
      { action: 'resolve', id: 'inc_1', actor: { id: 'node-red:ana', via: 'node-red' }, note: undefined },
    ]);
    await assert.rejects(link.act('acknowledge', 'inc_1', 'ana\u0000'), VigieError);
    await assert.rejects(link.act('acknowledge', 'inc_1', ''), /by/);
    await assert.rejects(link.act('acknowledge', 'inc_1', 'ana', 'x'.repeat(1001)), VigieError);
    await assert.rejects(link.act('delete' as never, 'inc_1', 'ana'), /unknown action/);
    assert.equal(acted.length, 2);
  });

  it('lists the incidents not yet resolved as summaries', async () => {
    const link = createEmbeddedLink(fakes().deps);
    const open = await link.openIncidents();
    assert.deepEqual(
      open.map((i) => [i.id, i.rule, i.device, i.state]),
      [['inc_1', 'door-held-open', 'door-g12', 'open']],
    );
  });

  it('drops its subscriptions on close and takes no new ones', async () => {
    const { deps, listeners } = fakes();
    const link = createEmbeddedLink(deps);
    link.onIncident(() => {});
    link.onSensorEvent(() => {});
    await link.close();
    assert.equal(listeners.size, 0);
    link.onIncident(() => {});
    assert.equal(listeners.size, 0);
  });
});

describe('embedded link - a listener that throws', () => {
  it('loses that one event, not its subscription to the live hub', () => {
    const hub = new LiveHub();
    const link = createEmbeddedLink({ ...fakes().deps, live: hub });
    let calls = 0;
    link.onSensorEvent(() => {
      calls++;
      throw new Error('node bug');
    });
    hub.emitSensor(sensorEvent);
    hub.emitSensor(sensorEvent);
    assert.equal(calls, 2);
    assert.equal(hub.wantsSensor, true);
  });
});
