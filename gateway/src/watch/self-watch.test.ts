import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Transition } from '../../../rules/src/model.js';
import type { WatchConfig } from '../config/schema.js';
import { ManualClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import type { Channel, Notification, SendResult } from '../engage/channel.js';
import { testSite } from '../route/testing.js';
import type { Sample } from './checks.js';
import { FallbackAlarm } from './fallback-alarm.js';
import { SelfWatch, type LastRun } from './self-watch.js';

const T0 = Date.UTC(2026, 3, 1, 12, 0, 0);
const GB = 1024 ** 3;

const config: WatchConfig = {
  enabled: true,
  heartbeat: 15_000,
  interval: 5000,
  disk: { minFreeBytes: 256 * 1024 ** 2, minFreePercent: 5 },
  clockJump: 120_000,
  brokerDown: 30_000,
  uplinkDown: 300_000,
  notify: ['person:alice'],
};

class SmsFake implements Channel {
  readonly name = 'sms';
  readonly type = 'sms';
  readonly sent: Notification[] = [];
  send(n: Notification): Promise<SendResult> {
    this.sent.push(n);
    return Promise.resolve({ ok: true });
  }
}

function setup(
  over: { lastRun?: number; inherited?: ('disk-low' | 'broker-down')[]; interval?: number } = {},
) {
  const clock = new ManualClock(T0);
  let mono = 0;
  const healthy: Partial<Sample> = {
    disk: { freeBytes: 10 * GB, totalBytes: 16 * GB },
    storeOk: true,
    brokerConnected: true,
    hardware: [],
  };
  let next: Partial<Sample> = {};
  let samples = 0;
  let probeError: Error | undefined;
  let raiseError: Error | undefined;
  const raised: Transition[] = [];
  let pipelineOk = true;
  const saved: number[] = [];
  const lastRun: LastRun = { get: () => over.lastRun, set: (ms) => void saved.push(ms) };
  const sms = new SmsFake();
  const logger = memoryLogger();
  const metrics = new Registry();
  const site = testSite();
  const watch = new SelfWatch({
    config: { ...config, interval: over.interval ?? config.interval },
    site,
    clock,
    logger,
    metrics,
    probes: {
      sample: () => {
        samples++;
        if (probeError) return Promise.reject(probeError);
        return Promise.resolve({ ...healthy, at: clock.now(), mono, ...next } as Sample);
      },
    },
    raise: (ts) => {
      if (raiseError) throw raiseError;
      raised.push(...ts);
    },
    storeHealthy: () => pipelineOk,
    fallback: new FallbackAlarm({
      channels: new Map([['sms', sms]]),
      order: ['sms'],
      recipients: [{ kind: 'person', id: 'alice', name: 'Alice', phone: '+33600000001' }],
      site,
      clock,
      logger,
    }),
    lastRun,
    inherited: over.inherited,
  });
  return {
    watch,
    clock,
    raised,
    sms,
    saved,
    logger,
    metrics,
    samples: () => samples,
    /** The next samples read this (merged over healthy readings). */
    readings: (p: Partial<Sample>) => (next = p),
    pipeline: (ok: boolean) => (pipelineOk = ok),
    failProbe: (err?: Error) => (probeError = err),
    failRaise: (err: Error) => (raiseError = err),
    /** Both clocks move on by ms. */
    tick: (ms = 5000) => {
      clock.advance(ms);
      mono += ms;
    },
  };
}

const brief = (ts: Transition[]) => ts.map((t) => `${t.type} ${t.ruleId} ${t.deviceId} ${t.severity}`);

describe('watch self-watch', () => {
  it('a low disk opens gateway-disk-low, shows in problems() and the metrics, and clears', async () => {
    const h = setup();
    await h.watch.check();
    assert.equal(h.raised.length, 0);
    h.readings({ disk: { freeBytes: 100 * 1024 ** 2, totalBytes: 16 * GB } });
    h.tick();
    await h.watch.check();
    assert.deepEqual(brief(h.raised), ['open gateway-disk-low gateway major']);
    assert.equal(h.raised[0].at, T0 + 5000);
    assert.match(h.raised[0].reason, /100 MB free of 16 GB/);
    assert.deepEqual(h.watch.problems(), ['disk-low']);
    const text = h.metrics.render();
    assert.match(text, /vigie_gateway_problem\{problem="disk-low"\} 1/);
    assert.match(text, /vigie_gateway_problem\{problem="broker-down"\} 0/);
    assert.match(text, /vigie_gateway_checks_total 2/);
    assert.equal(
      h.logger.lines.some((l) => l.includes('gateway problem: Gateway disk almost full')),
      true,
    );
    h.readings({});
    h.tick();
    await h.watch.check();
    assert.deepEqual(brief(h.raised.slice(1)), ['clear gateway-disk-low gateway major']);
    assert.deepEqual(h.watch.problems(), []);
    assert.equal(h.sms.sent.length, 0, 'only the store failing goes around the queue');
  });

  it('the store failing (probe or pipeline) alarms through the fallback and raises the record too', async () => {
    const h = setup();
    h.pipeline(false);
    await h.watch.check();
    assert.deepEqual(brief(h.raised), ['open gateway-store-failing gateway critical']);
    assert.match(h.raised[0].reason, /cannot be committed/);
    await sleep(10);
    assert.equal(h.sms.sent.length, 1);
    assert.match(h.sms.sent[0].message, /Gateway database failing/);
    h.pipeline(true);
    h.readings({ storeOk: false, storeError: 'SQLITE_IOERR' });
    h.tick();
    await h.watch.check();
    assert.equal(h.raised.length, 1, 'still the same episode');
    h.readings({});
    h.tick();
    await h.watch.check();
    assert.deepEqual(brief(h.raised.slice(1)), ['clear gateway-store-failing gateway critical']);
    await sleep(10);
    assert.equal(h.sms.sent.length, 2);
    assert.match(h.sms.sent[1].message, /Back to normal/);
  });

  it('clock-behind from the last run; the wall clock is not recorded while it is behind', async () => {
    const h = setup({ lastRun: T0 + 24 * 3600_000 });
    await h.watch.check();
    assert.deepEqual(brief(h.raised), ['open gateway-clock-behind gateway major']);
    assert.deepEqual(h.saved, []);
    // NTP steps the clock: clock-behind ends, and the corrected clock is recorded.
    h.tick(5000);
    h.clock.advance(2 * 24 * 3600_000);
    await h.watch.check();
    assert.deepEqual(brief(h.raised.slice(1)), ['clear gateway-clock-behind gateway major']);
    assert.deepEqual(h.saved, [T0 + 5000 + 2 * 24 * 3600_000]);
  });

  it('a clock jump opens gateway-clock-jump (never cleared) and is counted', async () => {
    const h = setup({ lastRun: T0 - 1000 });
    await h.watch.check();
    h.tick();
    h.clock.advance(-3600_000);
    await h.watch.check();
    assert.deepEqual(brief(h.raised), ['open gateway-clock-jump gateway warning']);
    assert.match(h.raised[0].reason, /jumped back by 1 h/);
    assert.deepEqual(h.watch.problems(), []);
    assert.match(h.metrics.render(), /vigie_gateway_clock_jumps_total 1/);
  });

  it('records the wall clock of the run at most once a minute, and at stop', async () => {
    const h = setup();
    for (let i = 0; i < 13; i++) {
      await h.watch.check();
      h.tick();
    }
    assert.deepEqual(h.saved, [T0, T0 + 60_000]);
    h.watch.stop();
    assert.equal(h.saved.at(-1), T0 + 65_000);
  });

  it('problems a previous run left open clear once their condition is gone', async () => {
    const h = setup({ inherited: ['disk-low', 'broker-down'] });
    assert.deepEqual(h.watch.problems(), ['disk-low', 'broker-down']);
    await h.watch.check();
    assert.deepEqual(brief(h.raised), [
      'clear gateway-disk-low gateway major',
      'clear gateway-broker-down gateway critical',
    ]);
  });

  it('gives the built-in rules to the pipeline', () => {
    const h = setup();
    const rule = h.watch.rule('gateway-broker-down');
    assert.equal(rule?.name, 'Gateway cannot reach its MQTT broker');
    assert.deepEqual(rule?.engage.steps, [{ afterMs: 0, notify: ['person:alice'], via: [] }]);
    assert.equal(h.watch.rule('door-held-open'), undefined);
  });

  it('a failing probe or raise never breaks the watch', async () => {
    const h = setup();
    h.failProbe(new Error('boom'));
    assert.deepEqual(await h.watch.check(), { started: [], ended: [] });
    assert.equal(
      h.logger.lines.some((l) => l.includes('self-watch check failed')),
      true,
    );
    h.failProbe(undefined);
    h.failRaise(new Error('pipeline stopped'));
    h.readings({ brokerConnected: false });
    h.tick(60_000);
    await h.watch.check();
    h.tick(60_000);
    const out = await h.watch.check();
    assert.deepEqual(
      out.started.map((c) => c.problem),
      ['broker-down'],
    );
    assert.equal(
      h.logger.lines.some((l) => l.includes('could not hand the self-watch transitions over')),
      true,
    );
    assert.deepEqual(h.watch.problems(), ['broker-down']);
  });

  it('start() checks at once and then every interval until stop()', async () => {
    const h = setup({ interval: 20 });
    h.watch.start();
    assert.equal(h.samples(), 1, 'the first check runs at once');
    const t0 = performance.now();
    while (h.samples() < 4 && performance.now() - t0 < 3000) await sleep(5);
    h.watch.stop();
    const n = h.samples();
    assert.ok(n >= 4, `${n} checks`);
    assert.ok(performance.now() - t0 >= 50, 'not faster than every 20 ms');
    await sleep(60);
    assert.equal(h.samples(), n, 'stopped');
  });
});
