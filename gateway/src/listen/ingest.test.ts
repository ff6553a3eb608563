import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import { loadSite } from '../site/load.js';
import { Ingest, REJECTION_TEXT } from './ingest.js';
import { REJECT_REASONS } from './validate.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const site = loadSite(join(ROOT, 'rules/examples/site.yaml'));
const T0 = Date.UTC(2026, 10, 23, 12);

function setup(maxPayloadBytes = 1024) {
  const clock = new ManualClock(T0);
  const metrics = new Registry();
  const logger = memoryLogger();
  const ingest = new Ingest({ site, clock, metrics, logger, maxPayloadBytes });
  return { clock, metrics, logger, ingest };
}

test('ingest - native topics become sensor events', () => {
  const { ingest, metrics } = setup();
  assert.deepEqual(
    ingest.handle(
      'vigie/airport/door/door-g12',
      Buffer.from('{"open":true,"badge":"A1234","battery":80,"junk":[1]}'),
    ),
    {
      site: 'airport',
      deviceId: 'door-g12',
      kind: 'door',
      ts: T0,
      receivedAt: T0,
      values: { open: true, badge: 'A1234' },
      battery: 80,
    },
  );
  const ev = ingest.handle(
    'vigie/airport/temperature/temp-hall-b',
    Buffer.from('{"celsius":21.5,"ts":"2026-11-23T11:59:58Z"}'),
  );
  assert.equal(ev?.ts, T0 - 2000);
  assert.deepEqual(ev?.values, { celsius: 21.5 });
  assert.equal(metrics.render().includes('vigie_events_in_total 2'), true);
});

test('ingest - status topics carry online/offline', () => {
  const { ingest } = setup();
  const ev = ingest.handle('vigie/airport/door/door-g12/status', Buffer.from('offline'));
  assert.equal(ev?.status, 'offline');
  assert.deepEqual(ev?.values, {});
  assert.equal(
    ingest.handle('vigie/airport/door/door-g12/status', Buffer.from('online\n'))?.status,
    'online',
  );
});

test('ingest - foreign topics go through the device adapter (Zigbee2MQTT polarity)', () => {
  const { ingest } = setup();
  const shut = ingest.handle(
    'zigbee2mqtt/lobby_side_door',
    Buffer.from('{"contact":true,"battery":97,"linkquality":80}'),
  );
  assert.deepEqual(
    [shut?.deviceId, shut?.kind, shut?.values, shut?.battery],
    ['door-lobby', 'door', { open: false }, 97],
  );
  const open = ingest.handle('zigbee2mqtt/lobby_side_door', Buffer.from('{"contact":false}'));
  assert.deepEqual(open?.values, { open: true });
  const gone = ingest.handle('zigbee2mqtt/lobby_side_door/availability', Buffer.from('{"state":"offline"}'));
  assert.deepEqual([gone?.deviceId, gone?.status], ['door-lobby', 'offline']);
  assert.equal(
    ingest.handle('zigbee2mqtt/lobby_side_door/availability', Buffer.from('online'))?.status,
    'online',
  );
  const t = ingest.handle('zigbee2mqtt/lounge_climate', Buffer.from('{"temperature":23.1,"humidity":44}'));
  assert.deepEqual([t?.deviceId, t?.values], ['temp-lounge', { celsius: 23.1 }]);
});

test('ingest - every rejection reason is counted', () => {
  const { ingest } = setup(64);
  const cases: Array<[string, string | Buffer, string]> = [
    ['vigie/airport/door/door-g12', '{"open":', 'malformed_json'],
    ['vigie/airport/door/door-g12', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), 'malformed_json'],
    ['vigie/airport/door/door-g12', '[true]', 'not_an_object'],
    ['vigie/airport/door/door-g12', 'null', 'not_an_object'],
    ['vigie/airport/door/door-g12', '{"open":"yes"}', 'wrong_type'],
    ['vigie/airport/door/door-g12', '{"badge":"A1234"}', 'missing_field'],
    ['vigie/airport/temperature/temp-hall-b', '{"celsius":1e999}', 'out_of_range'],
    ['vigie/airport/temperature/temp-hall-b', '{"celsius":20,"battery":150}', 'out_of_range'],
    ['vigie/airport/door/door-g12', `{"open":true,"pad":"${'x'.repeat(64)}"}`, 'too_large'],
    ['vigie/airport/door/door-nope', '{"open":true}', 'unknown_device'],
    ['vigie/other/door/door-g12', '{"open":true}', 'wrong_site'],
    ['vigie/airport/temperature/door-g12', '{"celsius":20}', 'kind_mismatch'],
    ['vigie/airport/door/door-g12/extra', '{"open":true}', 'bad_topic'],
    ['vigie/airport/door', '{"open":true}', 'bad_topic'],
    ['zigbee2mqtt/bridge/state', '{"state":"online"}', 'unmapped_topic'],
    ['zigbee2mqtt/lobby_side_door/availability', 'sleepy', 'bad_status'],
    ['vigie/airport/door/door-g12', '{"open":true,"ts":"soon"}', 'bad_ts'],
    ['vigie/airport/door/door-g12/status', 'maybe', 'bad_status'],
    ['zigbee2mqtt/lobby_side_door', '{"battery":50}', 'missing_field'],
    ['zigbee2mqtt/lobby_side_door', '"closed"', 'not_an_object'],
  ];
  const want = new Map<string, number>();
  for (const [topic, payload, reason] of cases) {
    const buf = typeof payload === 'string' ? Buffer.from(payload) : payload;
    assert.equal(ingest.handle(topic, buf), undefined, `${topic} ${String(payload)}`);
    want.set(reason, (want.get(reason) ?? 0) + 1);
    assert.equal(
      ingest.rejected.get({ reason }),
      want.get(reason),
      `${reason} for ${topic} ${String(payload)}`,
    );
  }
  for (const r of REJECT_REASONS) assert.ok(want.has(r), `reason ${r} is exercised`);
});

test('ingest - rejections are logged at most once a minute per device and per reason', () => {
  const { ingest, logger, clock } = setup();
  for (let i = 0; i < 100; i++) ingest.handle('vigie/airport/door/door-g12', Buffer.from('nope'));
  for (let i = 0; i < 100; i++) ingest.handle(`vigie/airport/door/random-${i}`, Buffer.from('{}'));
  for (let i = 0; i < 100; i++) ingest.handle(`vigie/${i}`, Buffer.from('{}'));
  // Unmapped foreign topics are normal bridge chatter: counted, never logged.
  for (let i = 0; i < 100; i++) ingest.handle(`zigbee2mqtt/other_${i}`, Buffer.from('{}'));
  assert.equal(logger.lines.length, 3);
  clock.advance(61_000);
  ingest.handle('vigie/airport/door/door-g12', Buffer.from('nope'));
  assert.equal(logger.lines.length, 4);
  assert.match(logger.lines[3], /"suppressedSinceLast":99/);
  assert.equal(ingest.rejected.get({ reason: 'malformed_json' }), 101);
});

test('ingest - hostile inputs never throw', () => {
  const { ingest } = setup(1 << 20);
  const inputs = [
    '{"__proto__":{"open":true}}',
    '{"constructor":{"prototype":{"open":true}}}',
    '['.repeat(200_000),
    '{"a":'.repeat(50_000),
    '{"open":true,"open":false}',
    '\u0000\u0001',
    '',
  ];
  for (const p of inputs)
    assert.doesNotThrow(() => ingest.handle('vigie/airport/door/door-g12', Buffer.from(p)));
  for (const t of [
    '',
    '/',
    'vigie',
    'vigie/airport/door/__proto__',
    'vigie/airport/door/constructor',
    'vigie/airport/+/#',
    'vigie/airport/door/door-g12/status/x',
  ]) {
    assert.equal(ingest.handle(t, Buffer.from('{"open":true}')), undefined, t);
  }
  assert.equal(({} as Record<string, unknown>).open, undefined);
  // A later good event still goes through.
  assert.equal(
    ingest.handle('vigie/airport/door/door-g12', Buffer.from('{"open":false}'))?.values.open,
    false,
  );
});

test('ingest - setSite swaps the registry', () => {
  const { ingest } = setup();
  const smaller = { ...site, devices: site.devices.filter((d) => d.id !== 'door-g12') };
  ingest.setSite(smaller);
  assert.equal(ingest.handle('vigie/airport/door/door-g12', Buffer.from('{"open":true}')), undefined);
  assert.equal(ingest.rejected.get({ reason: 'unknown_device' }), 1);
});

test('ingest - the reason of the last refusal is kept for whoever injected the message', () => {
  const { ingest } = setup();
  ingest.handle('vigie/airport/door/nope', Buffer.from('{}'));
  assert.equal(ingest.lastRejection, 'unknown_device');
  ingest.handle('vigie/airport/door/door-g12', Buffer.from('{"open":'));
  assert.equal(ingest.lastRejection, 'malformed_json');
  ingest.lastRejection = undefined;
  assert.ok(ingest.handle('vigie/airport/door/door-g12', Buffer.from('{"open":true}')));
  assert.equal(ingest.lastRejection, undefined);
  for (const r of REJECT_REASONS) assert.ok(REJECTION_TEXT[r].length > 0, r);
});
