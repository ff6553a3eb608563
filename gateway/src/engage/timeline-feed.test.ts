import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { LiveEvent } from '../api/ports.js';
import { harness, openT, T0 } from '../route/testing.js';
import { TimelineTail } from '../telemetry/timeline-tail.js';
import { LiveHub } from './live-hub.js';
import { TimelineFeed } from './timeline-feed.js';

describe('timeline feed', () => {
  const h = harness();
  after(() => h.close());

  it('tells the console once per incident that its trail grew, and nothing from before it started', () => {
    const live = new LiveHub();
    const tail = new TimelineTail(h.db);
    const [old] = h.apply([openT(T0)]);
    const feed = new TimelineFeed(tail, live, 60_000);
    feed.start();
    feed.stop();
    const heard: LiveEvent[] = [];
    live.subscribe((e) => heard.push(e));

    feed.turn();
    assert.equal(heard.length, 0, 'the opening happened before the feed started');

    const [fresh] = h.apply([openT(T0 + 1000, 'fridge-1')]);
    h.service.annotate(fresh.incident.id, { kind: 'note', actor: 'system', detail: { text: 'a' } });
    h.service.annotate(old.incident.id, { kind: 'crm', actor: 'system', detail: { found: false } });
    feed.turn();
    assert.deepEqual(
      heard
        .map((e) => [
          e.type,
          (e.data as { incidentId: string }).incidentId,
          (e.data as { kind: string }).kind,
        ])
        .sort(),
      [
        ['timeline', fresh.incident.id, 'note'],
        ['timeline', old.incident.id, 'crm'],
      ].sort(),
    );
    feed.turn();
    assert.equal(heard.length, 2, 'each row is told once');
  });

  it('joins each row with its incident for telemetry', () => {
    const tail = new TimelineTail(h.db);
    const rows = tail.after(0, 100);
    const opened = rows.find((r) => r.kind === 'opened');
    assert.ok(opened);
    assert.equal(opened.zone, 'T2-gates');
    assert.equal(opened.rule, 'door-held-open');
    assert.equal(opened.device, 'door-g12');
    assert.equal(opened.openedAt, T0);
    assert.ok(rows.every((r, i) => i === 0 || r.seq > rows[i - 1].seq));
    assert.equal(tail.after(tail.latest(), 10).length, 0);
  });
});
