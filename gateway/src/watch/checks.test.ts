import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Checks, humanBytes, humanMs, type CheckLimits, type Sample } from './checks.js';

const GB = 1024 ** 3;
const MB = 1024 ** 2;
const T0 = Date.UTC(2026, 3, 1, 12, 0, 0);

const limits: CheckLimits = {
  interval: 5000,
  disk: { minFreeBytes: 256 * MB, minFreePercent: 5 },
  clockJump: 120_000,
  brokerDown: 30_000,
  uplinkDown: 300_000,
};

/** Samples 5 s apart on both clocks unless told otherwise; everything healthy. */
function sampler(start = T0) {
  let at = start;
  let mono = 1000;
  return (over: Partial<Sample> & { wallStep?: number; monoStep?: number } = {}): Sample => {
    const { wallStep = 5000, monoStep = wallStep, ...rest } = over;
    at += wallStep;
    mono += monoStep;
    return {
      at,
      mono,
      disk: { freeBytes: 10 * GB, totalBytes: 16 * GB },
      storeOk: true,
      brokerConnected: true,
      uplinkConnected: true,
      hardware: [],
      ...rest,
    };
  };
}

const names = (o: { problem: string }[]) => o.map((c) => c.problem);

describe('watch checks - disk', () => {
  it('starts below either limit and ends only past 1.2x the limits', () => {
    const c = new Checks(limits);
    const next = sampler();
    assert.deepEqual(c.check(next()), { started: [], ended: [] });
    const low = c.check(next({ disk: { freeBytes: 100 * MB, totalBytes: 16 * GB } }));
    assert.deepEqual(names(low.started), ['disk-low']);
    assert.match(low.started[0].reason, /100 MB free of 16 GB \(0\.6 %\).*below the limit of 256 MB or 5 %/);
    assert.equal(low.started[0].values.freeBytes, 100 * MB);
    // Just above the limits (5.5 %): still low, no flapping.
    const slightly = c.check(next({ disk: { freeBytes: 0.055 * 16 * GB, totalBytes: 16 * GB } }));
    assert.deepEqual(slightly, { started: [], ended: [] });
    assert.deepEqual(c.problems(), ['disk-low']);
    const ok = c.check(next({ disk: { freeBytes: 0.061 * 16 * GB, totalBytes: 16 * GB } }));
    assert.deepEqual(names(ok.ended), ['disk-low']);
    assert.deepEqual(c.problems(), []);
  });

  it('the byte limit alone is enough on a big disk', () => {
    const c = new Checks(limits);
    const out = c.check(sampler()({ disk: { freeBytes: 200 * MB, totalBytes: 1 * 1024 * GB } }));
    assert.deepEqual(names(out.started), ['disk-low']);
  });

  it('an unreadable disk changes nothing', () => {
    const c = new Checks(limits);
    const next = sampler();
    c.check(next({ disk: { freeBytes: 1 * MB, totalBytes: 16 * GB } }));
    assert.deepEqual(c.check(next({ disk: undefined, diskError: 'EIO' })), { started: [], ended: [] });
    assert.deepEqual(c.problems(), ['disk-low']);
  });
});

describe('watch checks - store', () => {
  it('starts at the first failing sample with the error, ends at the first good one', () => {
    const c = new Checks(limits);
    const next = sampler();
    const bad = c.check(next({ storeOk: false, storeError: 'SQLITE_FULL: database or disk is full' }));
    assert.deepEqual(names(bad.started), ['store-failing']);
    assert.match(bad.started[0].reason, /SQLITE_FULL/);
    assert.deepEqual(c.check(next({ storeOk: false })), { started: [], ended: [] });
    assert.deepEqual(names(c.check(next()).ended), ['store-failing']);
  });
});

describe('watch checks - clock', () => {
  it('a jump forward or back beyond clockJump is reported each time, with its size, and never ends', () => {
    const c = new Checks(limits);
    const next = sampler();
    c.check(next());
    assert.deepEqual(c.check(next({ wallStep: 5000 + 119_000, monoStep: 5000 })), {
      started: [],
      ended: [],
    });
    const fwd = c.check(next({ wallStep: 5000 + 3_600_000, monoStep: 5000 }));
    assert.deepEqual(names(fwd.started), ['clock-jump']);
    assert.match(fwd.started[0].reason, /jumped forward by 1 h in 5 s/);
    assert.equal(fwd.started[0].values.jumpMs, 3_600_000);
    const back = c.check(next({ wallStep: 5000 - 600_000, monoStep: 5000 }));
    assert.deepEqual(names(back.started), ['clock-jump']);
    assert.match(back.started[0].reason, /jumped back by 10 min/);
    assert.deepEqual(c.check(next()), { started: [], ended: [] });
    // An event: not a condition the heartbeat or /readyz should carry.
    assert.deepEqual(c.problems(), []);
  });

  it('a hung event loop is no jump: both clocks moved', () => {
    const c = new Checks(limits);
    const next = sampler();
    c.check(next());
    assert.deepEqual(c.check(next({ wallStep: 600_000, monoStep: 600_000 })), { started: [], ended: [] });
  });

  it('a boot before NTP (earlier than the last run) is clock-behind until the clock passes the last run', () => {
    const lastRun = T0 + 5000 + 10 * 24 * 3600_000;
    const c = new Checks(limits, { lastRun });
    const next = sampler();
    const first = c.check(next());
    assert.deepEqual(names(first.started), ['clock-behind']);
    assert.match(
      first.started[0].reason,
      /10 d 0 h earlier than the gateway's last run \(2026-04-11T12:00:05Z\)/,
    );
    assert.deepEqual(c.problems(), ['clock-behind']);
    assert.deepEqual(c.check(next()), { started: [], ended: [] });
  });

  it('the clock set forward (NTP) ends clock-behind instead of raising a jump', () => {
    const lastRun = T0 + 24 * 3600_000;
    const c = new Checks(limits, { lastRun });
    const next = sampler();
    c.check(next());
    const synced = c.check(next({ wallStep: 2 * 24 * 3600_000 + 5000, monoStep: 5000 }));
    assert.deepEqual(names(synced.ended), ['clock-behind']);
    assert.deepEqual(synced.started, []);
    assert.match(synced.ended[0].reason, /set forward by 2 d 0 h/);
  });

  it('a clock that catches up slowly ends clock-behind when it passes the last run', () => {
    const c = new Checks(limits, { lastRun: T0 + 200_000 });
    const next = sampler();
    assert.deepEqual(names(c.check(next()).started), ['clock-behind']);
    for (let i = 0; i < 38; i++) assert.deepEqual(c.check(next()).ended, []);
    assert.deepEqual(names(c.check(next()).ended), ['clock-behind']);
  });

  it('within the tolerance of the last run is no problem (a clean reboot)', () => {
    const c = new Checks(limits, { lastRun: T0 + 60_000 });
    assert.deepEqual(c.check(sampler()()), { started: [], ended: [] });
  });
});

describe('watch checks - broker and uplink', () => {
  it('broker-down after brokerDown of disconnection (monotonic), ends on reconnection', () => {
    const c = new Checks(limits);
    const next = sampler();
    for (let i = 0; i < 6; i++) assert.deepEqual(c.check(next({ brokerConnected: false })).started, []);
    const down = c.check(next({ brokerConnected: false }));
    assert.deepEqual(names(down.started), ['broker-down']);
    assert.match(down.started[0].reason, /unreachable for 30 s/);
    const up = c.check(next());
    assert.deepEqual(names(up.ended), ['broker-down']);
    assert.equal(up.ended[0].values.downMs, 35_000);
  });

  it('a short outage raises nothing', () => {
    const c = new Checks(limits);
    const next = sampler();
    c.check(next({ brokerConnected: false }));
    c.check(next({ brokerConnected: false, uplinkConnected: false }));
    assert.deepEqual(c.check(next()), { started: [], ended: [] });
    assert.deepEqual(c.check(next({ brokerConnected: false, wallStep: 29_000 })).started, []);
  });

  it('uplink-down after uplinkDown; no uplink configured is never a problem', () => {
    const c = new Checks(limits);
    const next = sampler();
    c.check(next({ uplinkConnected: false }));
    const down = c.check(next({ uplinkConnected: false, wallStep: 300_000 }));
    assert.deepEqual(names(down.started), ['uplink-down']);
    assert.match(down.started[0].reason, /5 min/);
    const none = new Checks(limits);
    const n2 = sampler();
    none.check(n2({ uplinkConnected: undefined }));
    assert.deepEqual(none.check(n2({ uplinkConnected: undefined, wallStep: 600_000 })).started, []);
  });
});

describe('watch checks - hardware', () => {
  it('a line failing for 2 intervals is named in the reason; ends when every line answers', () => {
    const c = new Checks(limits);
    const next = sampler();
    const bad = { name: 'line:rs485-1', ok: false, detail: 'cannot open /dev/ttyUSB0' };
    const gpio = { name: 'gpio', ok: true };
    assert.deepEqual(c.check(next({ hardware: [gpio, bad] })).started, []);
    assert.deepEqual(c.check(next({ hardware: [gpio, bad] })).started, []);
    const out = c.check(next({ hardware: [gpio, bad] }));
    assert.deepEqual(names(out.started), ['hardware-unavailable']);
    assert.equal(
      out.started[0].reason,
      'cannot use line:rs485-1 (cannot open /dev/ttyUSB0): its sensors are not read',
    );
    assert.equal(out.started[0].values.count, 1);
    assert.deepEqual(names(c.check(next({ hardware: [gpio, { ...bad, ok: true }] })).ended), [
      'hardware-unavailable',
    ]);
  });

  it('a line that opens within the grace raises nothing', () => {
    const c = new Checks(limits);
    const next = sampler();
    c.check(next({ hardware: [{ name: 'gpio', ok: false }] }));
    assert.deepEqual(c.check(next({ hardware: [{ name: 'gpio', ok: true }] })), { started: [], ended: [] });
  });
});

describe('watch checks - after a restart', () => {
  it('a problem a previous run left open ends at the first sample that shows it gone', () => {
    const c = new Checks(limits, { inherited: ['disk-low', 'broker-down', 'clock-jump'] });
    assert.deepEqual(c.problems(), ['disk-low', 'broker-down']);
    const next = sampler();
    // The broker is still connecting at start: broker-down stays until it is connected.
    const first = c.check(next({ brokerConnected: false }));
    assert.deepEqual(names(first.ended), ['disk-low']);
    assert.deepEqual(first.started, []);
    assert.deepEqual(names(c.check(next()).ended), ['broker-down']);
  });
});

describe('watch checks - wording', () => {
  it('sizes and durations read as a person would say them', () => {
    assert.equal(humanBytes(256 * MB), '256 MB');
    assert.equal(humanBytes(1.5 * GB), '1.5 GB');
    assert.equal(humanBytes(512), '512 B');
    assert.equal(humanMs(400), '400 ms');
    assert.equal(humanMs(90_000), '1 min 30 s');
    assert.equal(humanMs(3 * 3600_000), '3 h');
    assert.equal(humanMs(50 * 3600_000), '2 d 2 h');
  });
});
