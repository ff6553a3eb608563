import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ManualClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import { HeartbeatPublisher, packageVersion, type HeartbeatOptions } from './heartbeat.js';
import type { Heartbeat } from './model.js';

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

interface Sent {
  to: 'nats' | 'mqtt';
  subject: string;
  body: string;
  opts?: { retain?: boolean; qos?: 0 | 1 };
}

function setup(over: Partial<HeartbeatOptions> = {}) {
  const clock = new ManualClock(T0);
  const logger = memoryLogger();
  const sent: Sent[] = [];
  const snap = { ready: true, problems: [] as string[], rssBytes: 50e6, eventsIn: 0, incidentsActive: 1 };
  const p = new HeartbeatPublisher({
    site: 'airport',
    gateway: 'pi-hall-b',
    version: '9.9.9',
    intervalMs: 40,
    clock,
    logger,
    snapshot: () => snap,
    publishNats: (subject, data) =>
      sent.push({ to: 'nats', subject, body: Buffer.from(data).toString('utf8') }),
    publishMqtt: (subject, body, opts) => sent.push({ to: 'mqtt', subject, body, opts }),
    ...over,
  });
  return { p, clock, logger, sent, snap };
}

const heartbeats = (sent: Sent[], to: 'nats' | 'mqtt') =>
  sent
    .filter((s) => s.to === to && s.subject.endsWith('heartbeat'))
    .map((s) => JSON.parse(s.body) as Heartbeat);

let running: HeartbeatPublisher | undefined;
afterEach(() => running?.stop());

describe('heartbeat publisher', () => {
  it('publishes at once on NATS and MQTT (retained) and says online', () => {
    const { p, clock, sent } = setup();
    clock.advance(1234);
    running = p;
    p.start();
    const [hb] = heartbeats(sent, 'nats');
    assert.deepEqual(hb, {
      site: 'airport',
      gateway: 'pi-hall-b',
      version: '9.9.9',
      seq: 1,
      at: T0 + 1234,
      startedAt: T0,
      uptimeMs: 1234,
      ready: true,
      problems: [],
      rssBytes: 50e6,
      eventsIn: 0,
      incidentsActive: 1,
      intervalMs: 40,
    });
    assert.equal(sent[0].subject, 'vigie.airport.gateway.heartbeat');
    assert.deepEqual(
      sent.filter((s) => s.to === 'mqtt').map((s) => [s.subject, s.opts?.retain, s.opts?.qos]),
      [
        ['vigie/airport/gateway/heartbeat', true, 0],
        ['vigie/airport/gateway/status', true, 0],
      ],
    );
    assert.deepEqual(heartbeats(sent, 'mqtt'), [hb]);
    assert.equal(sent.find((s) => s.subject.endsWith('status'))?.body, 'online');
  });

  it('beats every interval with a growing seq and the current snapshot, and says offline on stop', async () => {
    const { p, sent, snap } = setup();
    running = p;
    p.start();
    snap.eventsIn = 42;
    await new Promise((r) => setTimeout(r, 150));
    p.stop();
    const nats = heartbeats(sent, 'nats');
    assert.ok(nats.length >= 3, `${nats.length} heartbeats in 150 ms at 40 ms`);
    assert.deepEqual(
      nats.map((h) => h.seq),
      nats.map((_, i) => i + 1),
    );
    assert.equal(nats.at(-1)?.eventsIn, 42);
    const last = sent.at(-1);
    assert.deepEqual(
      [last?.subject, last?.body, last?.opts?.retain],
      ['vigie/airport/gateway/status', 'offline', true],
    );
    const count = sent.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sent.length, count, 'nothing after stop');
  });

  it('never throws: a failing publisher or snapshot is logged, the others still get the beat', () => {
    let broken = true;
    const { p, sent, logger } = setup({
      publishNats: () => {
        throw new Error('nats away');
      },
      snapshot: () => {
        if (broken) throw new Error('db closed');
        return { ready: false, problems: ['store-failing'], rssBytes: 1, eventsIn: 0, incidentsActive: 0 };
      },
    });
    assert.equal(p.beat(), undefined);
    assert.equal(sent.length, 0);
    broken = false;
    const hb = p.beat();
    assert.deepEqual(hb?.problems, ['store-failing']);
    assert.equal(heartbeats(sent, 'mqtt').length, 1);
    assert.ok(logger.lines.some((l) => l.includes('heartbeat nats failed') && l.includes('nats away')));
    assert.ok(logger.lines.some((l) => l.includes('heartbeat snapshot failed')));
  });

  it('without an uplink it still beats on MQTT', () => {
    const { p, sent } = setup({ publishNats: undefined });
    p.beat();
    assert.deepEqual(
      sent.map((s) => s.to),
      ['mqtt', 'mqtt'],
    );
  });

  it('reads its version from package.json', () => {
    const file = new URL('../../../../package.json', import.meta.url);
    assert.match(packageVersion(file.pathname), /^\d+\.\d+\.\d+/);
    assert.equal(packageVersion('/nonexistent/package.json'), 'unknown');
  });
});
