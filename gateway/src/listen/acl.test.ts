import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { loadSite } from '../site/load.js';
import { filterWithin, isValidFilter, TopicAcl, topicMatches } from './acl.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const site = loadSite(join(ROOT, 'rules/examples/site.yaml'));
const acl = new TopicAcl(site);
const door = acl.principal('door-g12')!;
const bridge = acl.principal('z2m-bridge')!;

test('acl - topic filter matching follows MQTT 4.7', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
    ['a/b', 'a/b/', false],
  ];
  for (const [f, t, want] of cases) assert.equal(topicMatches(f, t), want, `${f} vs ${t}`);
});

test('acl - a filter is within another only if every topic it matches is', () => {
  const cases: Array<[string, string, boolean]> = [
    ['vigie/airport/door/door-g12/#', 'vigie/airport/door/door-g12/#', true],
    ['vigie/airport/door/door-g12', 'vigie/airport/door/door-g12/#', true],
    ['vigie/airport/door/door-g12/status', 'vigie/airport/door/door-g12/#', true],
    ['vigie/airport/door/+', 'vigie/airport/door/door-g12/#', false],
    ['vigie/airport/#', 'vigie/airport/door/door-g12/#', false],
    ['#', 'vigie/airport/door/door-g12/#', false],
    ['zigbee2mqtt/bridge/request/x', 'zigbee2mqtt/bridge/request/#', true],
    ['zigbee2mqtt/+/request/x', 'zigbee2mqtt/bridge/request/#', false],
    ['a/+/c', 'a/+/c', true],
    ['a/b/c', 'a/+/c', true],
    ['a/#', 'a/+/#', false],
    ['$SYS/#', '#', false],
  ];
  for (const [inner, outer, want] of cases)
    assert.equal(filterWithin(inner, outer), want, `${inner} within ${outer}`);
});

test('acl - malformed filters are refused', () => {
  for (const f of ['a/#/b', 'a/b#', 'a+/b', '', 'a/\u0000']) assert.equal(isValidFilter(f), false, f);
  for (const f of ['#', '+', 'a/+/b', 'a/#', '/a']) assert.equal(isValidFilter(f), true, f);
});

test('acl - a device publishes only its own data and status topics', () => {
  const cases: Array<[string, boolean]> = [
    ['vigie/airport/door/door-g12', true],
    ['vigie/airport/door/door-g12/status', true],
    ['vigie/airport/door/door-g14', false],
    ['vigie/airport/temperature/door-g12', false],
    ['vigie/airport/door/door-g12/other', false],
    ['vigie/airport/incidents/x', false],
    ['vigie/other-site/door/door-g12', false],
    ['$SYS/broker/x', false],
    ['zigbee2mqtt/lobby_side_door', false],
  ];
  for (const [t, want] of cases) assert.equal(acl.canPublish(door, t), want, t);
});

test('acl - a device subscribes only inside its own topics', () => {
  const cases: Array<[string, boolean]> = [
    ['vigie/airport/door/door-g12/#', true],
    ['vigie/airport/door/door-g12/config', true],
    ['vigie/airport/#', false],
    ['vigie/airport/door/+', false],
    ['vigie/airport/door/+/status', false],
    ['#', false],
    ['vigie/airport/incidents/#', false],
  ];
  for (const [f, want] of cases) assert.equal(acl.canSubscribe(door, f), want, f);
});

test('acl - a client grant stays within its filters and never reaches incidents or $SYS', () => {
  assert.equal(acl.canPublish(bridge, 'zigbee2mqtt/lobby_side_door'), true);
  assert.equal(acl.canPublish(bridge, 'vigie/airport/door/door-g12'), false);
  assert.equal(acl.canSubscribe(bridge, 'zigbee2mqtt/bridge/request/permit_join'), true);
  assert.equal(acl.canSubscribe(bridge, 'zigbee2mqtt/#'), false);
  const everything = new TopicAcl({
    ...site,
    clients: [{ username: 'root', passwordHash: bridge.passwordHash, publish: ['#'], subscribe: ['#'] }],
  }).principal('root')!;
  assert.equal(acl.canPublish(everything, 'vigie/airport/incidents/INC-1'), false);
  assert.equal(acl.canPublish(everything, '$SYS/x'), false);
  assert.equal(acl.canPublish(everything, 'vigie/airport/door/door-g12'), true);
  assert.equal(acl.canSubscribe(everything, '$SYS/#'), false);
  assert.equal(acl.canSubscribe(everything, 'vigie/airport/incidents/#'), true);
});

test('acl - a device will must be its own status topic; anonymous and unknown users have no principal', () => {
  assert.equal(acl.canWill(door, 'vigie/airport/door/door-g12/status'), true);
  assert.equal(acl.canWill(door, 'vigie/airport/door/door-g14/status'), false);
  assert.equal(acl.canWill(door, 'vigie/airport/door/door-g12'), false);
  assert.equal(acl.principal(undefined), undefined);
  assert.equal(acl.principal(''), undefined);
  assert.equal(acl.principal('nobody'), undefined);
  // Foreign devices have no credentials: they never log in themselves.
  assert.equal(acl.principal('door-lobby'), undefined);
});
