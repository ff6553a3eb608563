import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SensorEvent } from '../../../rules/src/model.js';
import type { LiveEvent } from '../api/ports.js';
import { LiveHub } from './live-hub.js';

const reading: SensorEvent = {
  site: 'airport',
  deviceId: 'temp-hall-b',
  kind: 'temperature',
  ts: 1000,
  receivedAt: 1001,
  values: { celsius: 21 },
};

describe('live hub - sensor events', () => {
  it('sends sensor events only to listeners that asked, and everything else to all', () => {
    const hub = new LiveHub();
    const consoleSeen: LiveEvent[] = [];
    const redSeen: LiveEvent[] = [];
    hub.subscribe((e) => consoleSeen.push(e));
    assert.equal(hub.wantsSensor, false);
    hub.emitSensor(reading);
    const stop = hub.subscribe((e) => redSeen.push(e), { sensor: true });
    assert.equal(hub.wantsSensor, true);
    hub.emitSensor(reading);
    hub.emit({ type: 'sensor', at: 5, data: reading });
    hub.emit({ type: 'incident', at: 6, data: { id: 'inc-1' } });
    assert.deepEqual(
      consoleSeen.map((e) => e.type),
      ['incident'],
    );
    assert.deepEqual(redSeen, [
      { type: 'sensor', at: 1001, data: reading },
      { type: 'sensor', at: 5, data: reading },
      { type: 'incident', at: 6, data: { id: 'inc-1' } },
    ]);
    stop();
    assert.equal(hub.wantsSensor, false);
    assert.equal(hub.size, 1);
  });

  it('drops a sensor listener that throws, without stopping the others', () => {
    const hub = new LiveHub();
    let heard = 0;
    hub.subscribe(
      () => {
        throw new Error('socket closed');
      },
      { sensor: true },
    );
    hub.subscribe(() => heard++, { sensor: true });
    hub.emitSensor(reading);
    hub.emitSensor(reading);
    assert.equal(heard, 2);
    assert.equal(hub.size, 1);
  });
});
