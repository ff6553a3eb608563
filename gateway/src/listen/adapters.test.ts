import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileAdapter } from './adapters.js';
import { BUILTIN_ADAPTERS } from './presets.js';

const run = (name: string, payload: string | Buffer) =>
  compileAdapter(BUILTIN_ADAPTERS[name])(typeof payload === 'string' ? Buffer.from(payload) : payload);

test('adapters - Zigbee2MQTT door: contact true means the door is CLOSED', () => {
  assert.deepEqual(run('zigbee2mqtt-door', '{"contact":true,"battery":91,"linkquality":120}'), {
    open: false,
    battery: 91,
  });
  assert.deepEqual(run('zigbee2mqtt-door', '{"contact":false,"battery":91}'), { open: true, battery: 91 });
  // No contact reading (e.g. a battery-only report): nothing to say about the door.
  assert.deepEqual(run('zigbee2mqtt-door', '{"battery":50}'), { battery: 50 });
  assert.deepEqual(run('zigbee2mqtt-door', '{"contact":"false"}'), { open: 'false' });
});

test('adapters - Zigbee2MQTT and Tasmota temperatures', () => {
  assert.deepEqual(run('zigbee2mqtt-temperature', '{"temperature":22.4,"humidity":40,"battery":100}'), {
    celsius: 22.4,
    battery: 100,
  });
  assert.deepEqual(
    run(
      'tasmota-temperature',
      '{"Time":"2026-11-23T10:00:00","DS18B20":{"Id":"01","Temperature":21.5},"TempUnit":"C"}',
    ),
    {
      celsius: 21.5,
    },
  );
  assert.deepEqual(run('tasmota-temperature', '{"AM2301":{"Temperature":19,"Humidity":50}}'), {
    celsius: 19,
  });
  const named = compileAdapter({ format: 'json', fields: { celsius: { from: 'DS18B20.Temperature' } } });
  assert.deepEqual(named(Buffer.from('{"DS18B20":{"Temperature":-3.5}}')), { celsius: -3.5 });
  assert.deepEqual(named(Buffer.from('{"AM2301":{"Temperature":19}}')), {});
});

test('adapters - Shelly door text payload', () => {
  assert.deepEqual(run('shelly-door', 'open'), { open: true });
  assert.deepEqual(run('shelly-door', 'close\n'), { open: false });
  assert.deepEqual(run('shelly-door', 'ajar'), {});
  assert.equal(run('shelly-door', Buffer.from([0xff, 0xfe])), 'malformed_json');
});

test('adapters - site-defined mapping: scale, offset, map, invert, whole payload', () => {
  const fahrenheit = compileAdapter({
    format: 'json',
    fields: { celsius: { from: 'f', scale: 5 / 9, offset: -160 / 9 } },
  });
  const out = fahrenheit(Buffer.from('{"f":212}')) as Record<string, number>;
  assert.ok(Math.abs(out.celsius - 100) < 1e-9);
  const status = compileAdapter({
    format: 'json',
    fields: { status: { from: 'state', map: { '1': 'fault', '0': 'ok' } }, serial: { from: 'sn' } },
  });
  assert.deepEqual(status(Buffer.from('{"state":1,"sn":"WM-1"}')), { status: 'fault', serial: 'WM-1' });
  const raw = compileAdapter({ format: 'text', fields: { celsius: { from: '$' } } });
  assert.deepEqual(raw(Buffer.from(' 21.25 ')), { celsius: 21.25 });
  const inverted = compileAdapter({ format: 'json', fields: { present: { from: 'removed', invert: true } } });
  assert.deepEqual(inverted(Buffer.from('{"removed":true}')), { present: false });
});

test('adapters - hostile JSON does not escape the payload', () => {
  const a = compileAdapter({
    format: 'json',
    fields: { open: { from: 'constructor.prototype' }, x: { from: '__proto__.polluted' } },
  });
  assert.deepEqual(a(Buffer.from('{"__proto__":{"polluted":true}}')), { x: true });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(a(Buffer.from('[1,2]')), 'not_an_object');
  assert.equal(a(Buffer.from('{')), 'malformed_json');
});
