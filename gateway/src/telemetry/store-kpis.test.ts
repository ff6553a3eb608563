import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { harness, openT, T0 } from '../route/testing.js';
import { StoreKpis, zoneKpis } from './store-kpis.js';

describe('KPIs from the incident store', () => {
  const h = harness();
  after(() => h.close());

  it('counts what is open now and averages time to acknowledge and to resolve per zone', () => {
    const actor = { id: 'token:ops/alice', via: 'api' };
    // Door G12 (zone T2-gates): opened at T0, acknowledged after 60 s, resolved after 300 s.
    h.clock.set(T0);
    const [a] = h.apply([openT(T0)]);
    h.clock.set(T0 + 60_000);
    h.service.acknowledge(a.incident.id, actor);
    h.clock.set(T0 + 300_000);
    h.service.resolve(a.incident.id, actor);
    // Opened again at T0 + 400 s, acknowledged after 120 s, still open.
    h.clock.set(T0 + 400_000);
    const [b] = h.apply([openT(T0 + 400_000)]);
    h.clock.set(T0 + 520_000);
    h.service.acknowledge(b.incident.id, actor);
    // The fridge (zone kitchen): opened, nobody has acknowledged it.
    h.apply([openT(T0 + 600_000, 'fridge-1')]);

    const kpis = new StoreKpis(h.db);
    const open = kpis.openByZone();
    assert.deepEqual([...open.entries()].sort(), [
      ['T2-gates', 1],
      ['kitchen', 1],
    ]);
    const d = kpis.durations(T0 - 1, T0 + 3_600_000);
    assert.equal(d.opened, 3);
    assert.equal(d.mttaMs, 90_000);
    assert.equal(d.mttrMs, 300_000);
    assert.deepEqual(zoneKpis(open, d), [
      { zone: 'T2-gates', open: 1, opened: 2, mttaMs: 90_000, mttrMs: 300_000 },
      { zone: 'kitchen', open: 1, opened: 1 },
    ]);
    // The window counts incidents by when they opened.
    assert.equal(kpis.durations(T0 + 500_000, T0 + 3_600_000).opened, 1);
  });
});
