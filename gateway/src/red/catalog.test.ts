import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadSite } from '../site/load.js';
import { buildCatalog } from './catalog.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const site = loadSite(join(ROOT, 'rules/examples/site.yaml'));

describe('red - catalog', () => {
  const rules = [
    { id: 'door-held-open', name: 'Door held open', source: 'rules/examples/door.yaml' },
    { id: 'hall-hot', name: 'Hall B hot', source: 'node-red:node-red' },
  ];
  const catalog = buildCatalog(site, new Set(['ops-webhook', 'console']), rules);

  it('offers the names of the example site the editor needs', () => {
    assert.deepEqual(catalog.site, { id: 'airport', name: 'Airport Terminal 2', timezone: 'Europe/Paris' });
    assert.ok(catalog.kinds.includes('door') && catalog.kinds.includes('temperature'));
    assert.deepEqual(
      catalog.devices.find((d) => d.id === 'temp-hall-b'),
      { id: 'temp-hall-b', kind: 'temperature', name: 'Hall B temperature', zone: 'hall-b', tags: [] },
    );
    assert.ok(catalog.zones.includes('hall-b') && catalog.zones.includes('gates-g'));
    assert.ok(catalog.tags.includes('badge-reader'));
    assert.deepEqual(
      catalog.teams.find((t) => t.id === 'security'),
      { id: 'security', name: 'Security desk' },
    );
    assert.ok(catalog.people.some((p) => p.id === 'sec-amina'));
    assert.deepEqual(catalog.policies.includes('door-security'), true);
    assert.ok(catalog.oncall.includes('security-duty'));
    assert.ok(catalog.templates.includes('door-held'));
    assert.ok(catalog.badgeLists.includes('staff'));
    assert.ok(catalog.schedules.includes('service-hours'));
    assert.ok(catalog.dispatch.length > 0);
  });

  it('lists channels sorted and each running rule with where it comes from', () => {
    assert.deepEqual(catalog.channels, ['console', 'ops-webhook']);
    assert.deepEqual(catalog.rules, rules);
  });

  it('lists each zone and tag once, and is plain JSON', () => {
    assert.equal(new Set(catalog.zones).size, catalog.zones.length);
    assert.equal(new Set(catalog.tags).size, catalog.tags.length);
    assert.deepEqual(JSON.parse(JSON.stringify(catalog)), catalog);
  });
});
