import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { memoryLogger } from '../core/log.js';
import { harness, openT, T0 } from '../route/testing.js';
import { CombinedHistory, type InfluxHistory } from './history-reader.js';
import { LocalHistory } from './local-history.js';
import type { HistorySeries } from './model.js';
import { StoreKpis } from './store-kpis.js';

describe('history for the console', () => {
  const h = harness();
  after(() => h.close());
  const local = new LocalHistory(h.db, { retention: 3_600_000 * 48, minInterval: 10_000 }, memoryLogger());
  local.record({
    site: 'cdg-t2',
    deviceId: 'fridge-1',
    kind: 'temperature',
    ts: T0,
    receivedAt: T0,
    values: { celsius: 4 },
  });
  local.flush();
  h.apply([openT(T0)]);

  const influx = (over: Partial<InfluxHistory>): InfluxHistory => ({
    series: (device, field): Promise<HistorySeries> =>
      Promise.resolve({ device, field, source: 'influx', points: [[T0, 5]] }),
    durations: () =>
      Promise.resolve({ opened: 7, mttaMs: 1000, zones: [{ zone: 'T2-gates', opened: 7, mttaMs: 1000 }] }),
    ...over,
  });
  const reader = (i?: InfluxHistory) =>
    new CombinedHistory({
      local,
      kpis: new StoreKpis(h.db),
      ...(i ? { influx: i } : {}),
      logger: memoryLogger(),
    });

  it('reads InfluxDB when it answers, and says so', async () => {
    const r = reader(influx({}));
    assert.deepEqual((await r.series('fridge-1', 'celsius', T0 - 1, T0 + 1)).source, 'influx');
    const k = await r.kpis(T0 - 1, T0 + 1);
    assert.equal(k.source, 'influx');
    assert.equal(k.opened, 7);
    // What is open now is the store's live truth, whatever InfluxDB says.
    assert.equal(k.open, 1);
    assert.deepEqual(k.zones, [{ zone: 'T2-gates', open: 1, opened: 7, mttaMs: 1000 }]);
  });

  it('falls back to the gateway store when InfluxDB fails or has nothing for the field', async () => {
    const down = reader(
      influx({
        series: () => Promise.reject(new Error('ECONNREFUSED')),
        durations: () => Promise.reject(new Error('ECONNREFUSED')),
      }),
    );
    assert.deepEqual(await down.series('fridge-1', 'celsius', T0 - 1, T0 + 1), {
      device: 'fridge-1',
      field: 'celsius',
      source: 'store',
      points: [[T0, 4]],
    });
    const k = await down.kpis(T0 - 1, T0 + 1);
    assert.equal(k.source, 'store');
    assert.equal(k.opened, 1);
    const empty = reader(
      influx({ series: (device, field) => Promise.resolve({ device, field, source: 'influx', points: [] }) }),
    );
    assert.equal((await empty.series('fridge-1', 'celsius', T0 - 1, T0 + 1)).source, 'store');
    assert.equal((await reader().series('fridge-1', 'celsius', T0 - 1, T0 + 1)).source, 'store');
  });
});
