import assert from 'node:assert/strict';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, describe, it } from 'node:test';
import type { Scalar, SensorEvent } from '../../../rules/src/model.js';
import type { WorkbenchConfig } from '../config/schema.js';
import { ManualClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import { loadSite } from '../site/load.js';
import type { RecordedItem, RecordingInfo } from './model.js';
import { Recorder } from './recorder.js';
import { decodeLine, emptyRead, readRecording } from './recording.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const site = loadSite(join(ROOT, 'rules/examples/site.yaml'));
const T0 = Date.UTC(2025, 0, 6, 8, 0, 0);
const kindOf = new Map(site.devices.map((d) => [d.id, d.kind]));

const dirs: string[] = [];
const open: Recorder[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigie-rec-'));
  dirs.push(d);
  return d;
}

const CONFIG: WorkbenchConfig = {
  maxBytes: 1024 * 1024,
  segmentBytes: 256 * 1024,
  whenFull: 'drop-oldest',
  maxActive: 4,
  keep: 50,
  maxReplayBytes: 1024 * 1024,
};

function recorder(o: { dir?: string; config?: Partial<WorkbenchConfig>; clock?: ManualClock } = {}) {
  const logger = memoryLogger();
  const metrics = new Registry();
  const clock = o.clock ?? new ManualClock(T0);
  const dir = o.dir ?? tempDir();
  const rec = new Recorder({
    dir,
    site,
    clock,
    logger,
    metrics,
    config: { ...CONFIG, ...o.config },
    flushMs: 10,
  });
  open.push(rec);
  return { rec, dir, clock, logger, metrics };
}

let seq = 0;
function ev(deviceId: string, at: number, extra: Partial<SensorEvent> = {}): SensorEvent {
  const kind = kindOf.get(deviceId) ?? 'door';
  const values: Record<string, Scalar> =
    kind === 'temperature' ? { celsius: 20 + (seq++ % 10) / 10 } : { open: seq++ % 2 === 0 };
  return { site: site.id, deviceId, kind, ts: at, receivedAt: at, values, ...extra };
}

/** What readRecording gives back for an event fed to the recorder. */
function recorded(e: SensorEvent): RecordedItem {
  return {
    type: 'event',
    receivedAt: e.receivedAt,
    deviceId: e.deviceId,
    ts: e.ts,
    values: e.values,
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.battery !== undefined ? { battery: e.battery } : {}),
  };
}

async function decode(rec: Recorder, id: string) {
  const read = emptyRead();
  const items: RecordedItem[] = [];
  for await (const item of readRecording(rec.read(id), read)) items.push(item);
  return { items, read };
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const segments = (dir: string, id: string) =>
  readdirSync(join(dir, id))
    .filter((f) => f.startsWith('seg-'))
    .sort();

describe('Recorder', () => {
  it('writes a file that decodes to exactly the events and actions fed, with an end line', async () => {
    const { rec, clock } = recorder();
    const info = rec.start({ name: 'morning' });
    assert.match(info.id, /^rec_[0-9a-z]{15}$/);
    assert.equal(info.state, 'recording');
    const fed: RecordedItem[] = [];
    for (let i = 0; i < 200; i++) {
      const id = site.devices[i % site.devices.length].id;
      const e = ev(id, T0 + i * 1000, i % 17 === 0 ? { ts: T0 + i * 1000 - 300, battery: 87 } : {});
      rec.sensor(e);
      fed.push(recorded(e));
    }
    const offline = ev('door-g12', T0 + 200_000, { values: {}, status: 'offline' });
    rec.sensor(offline);
    fed.push(recorded(offline));
    const action = {
      at: T0 + 201_000,
      action: 'acknowledge' as const,
      ruleId: 'door-held-open',
      deviceId: 'door-g12',
      by: 'person:sec-amina',
    };
    rec.action(action);
    fed.push({ type: 'action', ...action });
    clock.set(T0 + 300_000);
    const stopped = rec.stop(info.id);
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.stopReason, 'requested');
    assert.equal(stopped.stoppedAt, T0 + 300_000);
    assert.equal(stopped.events, 201);
    assert.equal(stopped.actions, 1);
    assert.equal(stopped.firstAt, T0);
    assert.equal(stopped.lastAt, T0 + 201_000);

    const { items, read } = await decode(rec, info.id);
    assert.deepEqual(items, fed);
    assert.equal(read.bad, 0);
    assert.deepEqual(read.end, { type: 'end', stoppedAt: T0 + 300_000, events: 201 });
    assert.equal(read.header?.site, site.id);
    assert.equal(read.header?.id, info.id);
    assert.equal(read.header?.segment, 1);
    assert.equal(read.header?.name, 'morning');
    assert.deepEqual(read.header?.kinds, Object.fromEntries(kindOf));
    assert.equal(rec.get(info.id)?.bytes, (await text(rec.read(info.id))).length);
  });

  it('keeps no credentials, names, phone numbers or addresses: devices are ids and kinds', async () => {
    const { rec, dir } = recorder({ config: { segmentBytes: 4096, maxBytes: 64 * 1024 } });
    const info = rec.start();
    for (let i = 0; i < 300; i++) rec.sensor(ev(site.devices[i % site.devices.length].id, T0 + i));
    rec.stop(info.id);
    await rec.flush();
    assert.ok(segments(dir, info.id).length > 1, 'several segments, each with its header');
    const all = (await text(rec.read(info.id))) + readFileSync(join(dir, info.id, 'meta.json'), 'utf8');
    const secrets = [
      ...site.devices.flatMap((d) => (d.credentials ? [d.credentials.passwordHash] : [])),
      ...site.clients.map((c) => c.passwordHash),
    ];
    assert.ok(secrets.length >= 8, 'the example site holds password hashes');
    for (const s of secrets) assert.ok(!all.includes(s), 'a password hash leaked');
    assert.doesNotMatch(all, /scrypt\$|passwordHash|credentials|token/i);
    for (const p of site.people) {
      if (p.phone) assert.ok(!all.includes(p.phone), `phone of ${p.id}`);
      if (p.email) assert.ok(!all.includes(p.email), `email of ${p.id}`);
      assert.ok(!all.includes(p.name), `name of ${p.id}`);
    }
    for (const d of site.devices) assert.ok(!all.includes(`"${d.name}"`), `name of ${d.id}`);
    for (const line of all.split('\n').filter((l) => l.startsWith('{"vigie"'))) {
      const d = decodeLine(line);
      assert.equal(d.type, 'header');
      if (d.type === 'header') {
        assert.deepEqual(Object.keys(d.header).sort(), [
          'id',
          'kinds',
          'segment',
          'selection',
          'site',
          'startedAt',
          'version',
          'vigie',
        ]);
        for (const v of Object.values(d.header.kinds)) assert.ok(typeof v === 'string' && v in site.kinds);
      }
    }
  });

  it('records only the selected devices, kinds and zones, each list narrowing the others', async () => {
    const { rec } = recorder();
    const byDevice = rec.start({ devices: ['door-g12', 'temp-hall-b', 'door-g12'] });
    const byKind = rec.start({ kinds: ['temperature'] });
    const byZone = rec.start({ zones: ['hall-b'] });
    const both = rec.start({ kinds: ['door'], zones: ['hall-b'] });
    for (const [i, d] of site.devices.entries()) rec.sensor(ev(d.id, T0 + i));
    rec.action({ at: T0 + 999, action: 'resolve', ruleId: 'r', deviceId: 'temp-hall-b', by: 'token:ops' });
    const expect = {
      [byDevice.id]: ['door-g12', 'temp-hall-b'],
      [byKind.id]: site.devices.filter((d) => d.kind === 'temperature').map((d) => d.id),
      [byZone.id]: site.devices.filter((d) => d.zone === 'hall-b').map((d) => d.id),
      [both.id]: site.devices.filter((d) => d.zone === 'hall-b' && d.kind === 'door').map((d) => d.id),
    };
    assert.deepEqual(byDevice.selection, { devices: ['door-g12', 'temp-hall-b'] });
    for (const [id, devices] of Object.entries(expect)) {
      assert.ok(devices.length > 0);
      const { items, read } = await decode(rec, id);
      const events = items.filter((x) => x.type === 'event').map((x) => x.deviceId);
      assert.deepEqual(events.sort(), [...devices].sort(), id);
      assert.deepEqual(
        Object.keys(read.header?.kinds ?? {}).sort(),
        [...devices].sort(),
        'header kinds: selection only',
      );
      const actions = items.filter((x) => x.type === 'action');
      assert.equal(actions.length, devices.includes('temp-hall-b') ? 1 : 0, `action in ${id}`);
    }
  });

  it('refuses a selection naming what the site does not have, listing all of it', () => {
    const { rec } = recorder({ config: { maxActive: 1 } });
    assert.throws(
      () => rec.start({ devices: ['door-g12', 'door-x', 'door-y'], kinds: ['lava'], zones: ['moon'] }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'VIGIE_ERR_BAD_REQUEST');
        assert.match(err.message, /devices door-x, door-y/);
        assert.match(err.message, /kinds lava/);
        assert.match(err.message, /zones moon/);
        assert.doesNotMatch(err.message, /door-g12/);
        return true;
      },
    );
    assert.throws(() => rec.start({ devices: ['door-g12'], kinds: ['temperature'] }), {
      code: 'VIGIE_ERR_BAD_REQUEST',
      message: /matches no device/,
    });
    assert.throws(() => rec.start({ maxBytes: 100 }), { code: 'VIGIE_ERR_BAD_REQUEST' });
    assert.throws(() => rec.start({ durationMs: -5 }), { code: 'VIGIE_ERR_BAD_REQUEST' });
    assert.equal(rec.list().length, 0, 'nothing was created');
    rec.start();
    assert.throws(() => rec.start(), { code: 'VIGIE_ERR_ILLEGAL_TRANSITION', message: /maxActive/ });
    assert.throws(() => rec.stop('rec_nope'), { code: 'VIGIE_ERR_NOT_FOUND' });
  });

  it('rotates segments and, at the size bound, drops the oldest (drop-oldest)', async () => {
    const { rec, dir } = recorder({ config: { segmentBytes: 4096, maxBytes: 16 * 1024 } });
    const info = rec.start({ devices: ['temp-hall-b'] });
    const fed: RecordedItem[] = [];
    for (let i = 0; i < 1500; i++) {
      const e = ev('temp-hall-b', T0 + i * 1000);
      rec.sensor(e);
      fed.push(recorded(e));
    }
    await rec.flush();
    const now = rec.get(info.id) as RecordingInfo;
    assert.ok(now.droppedSegments > 0, 'segments were dropped');
    assert.ok(now.bytes <= 16 * 1024, `bytes ${now.bytes} within the bound`);
    const files = segments(dir, info.id);
    assert.equal(files.length, now.segments);
    const onDisk = files.reduce((n, f) => n + readFileSync(join(dir, info.id, f)).length, 0);
    assert.equal(onDisk, now.bytes);
    assert.equal(
      files[0],
      `seg-${String(now.droppedSegments + 1).padStart(6, '0')}.jsonl`,
      'oldest went first',
    );
    for (const f of files) {
      assert.ok(readFileSync(join(dir, info.id, f)).length <= 4096 + 100, `${f} rotated near 4 KiB`);
      assert.match(readFileSync(join(dir, info.id, f), 'utf8'), /^\{"vigie":"recording"/);
    }
    const { items } = await decode(rec, info.id);
    assert.equal(now.events, 1500);
    assert.equal(items.length + now.droppedEvents, 1500);
    assert.deepEqual(items, fed.slice(now.droppedEvents), 'what is left is the newest, in order');
    assert.equal(now.firstAt, (items[0] as { receivedAt: number }).receivedAt);
    assert.equal(now.state, 'recording', 'a flight recorder goes on');
  });

  it('stops at the size bound with reason full (whenFull: stop), end line included', async () => {
    const { rec, dir } = recorder({ config: { segmentBytes: 4096, maxBytes: 16 * 1024, whenFull: 'stop' } });
    const info = rec.start({ devices: ['temp-hall-b'] });
    for (let i = 0; i < 1500; i++) rec.sensor(ev('temp-hall-b', T0 + i * 1000));
    const now = rec.get(info.id) as RecordingInfo;
    assert.equal(now.state, 'stopped');
    assert.equal(now.stopReason, 'full');
    assert.ok(now.events < 1500 && now.events > 100);
    await rec.flush();
    assert.ok(segments(dir, info.id).length > 1, 'rotated before it filled');
    const { items, read } = await decode(rec, info.id);
    assert.equal(items.length, now.events);
    assert.equal(read.end?.events, now.events);
    const onDisk = segments(dir, info.id).reduce((n, f) => n + readFileSync(join(dir, info.id, f)).length, 0);
    assert.ok(onDisk <= 16 * 1024, `${onDisk} bytes within the bound`);
    assert.equal(onDisk, (rec.get(info.id) as RecordingInfo).bytes);
  });

  it('stops by itself when its duration has run out on the clock', async () => {
    const { rec, clock } = recorder();
    const info = rec.start({ durationMs: 10 * 60_000 });
    assert.equal(info.endsAt, T0 + 10 * 60_000);
    rec.sensor(ev('door-g12', T0 + 1000));
    clock.advance(10 * 60_000 - 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rec.get(info.id)?.state, 'recording');
    clock.advance(1);
    await until(() => rec.get(info.id)?.state === 'stopped', 'the duration stop');
    assert.equal(rec.get(info.id)?.stopReason, 'duration');
    assert.equal(rec.get(info.id)?.stoppedAt, T0 + 10 * 60_000);
    const { read } = await decode(rec, info.id);
    assert.equal(read.end?.stoppedAt, T0 + 10 * 60_000);
  });

  it('is readable while recording, up to what reached the disk', async () => {
    const { rec } = recorder();
    const info = rec.start({ devices: ['door-g12'] });
    const a = ev('door-g12', T0 + 1);
    rec.sensor(a);
    const first = await decode(rec, info.id);
    assert.deepEqual(first.items, [recorded(a)]);
    assert.equal(first.read.end, undefined);
    const b = ev('door-g12', T0 + 2);
    rec.sensor(b);
    assert.deepEqual((await decode(rec, info.id)).items, [recorded(a), recorded(b)]);
  });

  it('after a crash, finds the recording interrupted at its last written event; the files stay readable', async () => {
    const { rec, dir } = recorder();
    const info = rec.start({ devices: ['temp-hall-b', 'door-g12'] });
    const fed: RecordedItem[] = [];
    for (let i = 0; i < 50; i++) {
      const e = ev(i % 2 ? 'door-g12' : 'temp-hall-b', T0 + i * 1000);
      rec.sensor(e);
      fed.push(recorded(e));
    }
    await rec.flush();
    // What a SIGKILL leaves: the files as they are now, meta.json still saying 'recording', and a
    // line cut in the middle of its write.
    const crashed = tempDir();
    cpSync(dir, crashed, { recursive: true });
    const seg = join(crashed, info.id, segments(crashed, info.id).at(-1) as string);
    appendFileSync(seg, '{"t":1736150460000,"d":"temp-ha');
    assert.equal(JSON.parse(readFileSync(join(crashed, info.id, 'meta.json'), 'utf8')).state, 'recording');

    const after = recorder({ dir: crashed });
    assert.equal(after.rec.get(info.id)?.state, 'interrupted', 'marked at once');
    await after.rec.ready;
    const found = after.rec.get(info.id) as RecordingInfo;
    assert.equal(found.state, 'interrupted');
    assert.equal(found.stopReason, undefined);
    assert.equal(found.stoppedAt, T0 + 49_000, 'the last written event');
    assert.equal(found.events, 50);
    assert.equal(found.lastAt, T0 + 49_000);
    assert.match(after.logger.lines.join('\n'), /interrupted/);
    const { items, read } = await decode(after.rec, info.id);
    assert.deepEqual(items, fed);
    assert.equal(read.bad, 1, 'the torn line is skipped');
    assert.equal(read.end, undefined);
    const meta = JSON.parse(readFileSync(join(crashed, info.id, 'meta.json'), 'utf8')) as RecordingInfo;
    assert.equal(meta.state, 'interrupted');
    assert.equal(meta.stoppedAt, T0 + 49_000);
    // The one that was running goes on in the first process; a fresh start records anew.
    assert.equal(after.rec.start().state, 'recording');
  });

  it('closes running recordings as shutdown with their end line; the next start lists them stopped', async () => {
    const { rec, dir } = recorder();
    const info = rec.start();
    rec.sensor(ev('door-g12', T0));
    await rec.close();
    const again = recorder({ dir });
    await again.rec.ready;
    const found = again.rec.get(info.id) as RecordingInfo;
    assert.equal(found.state, 'stopped');
    assert.equal(found.stopReason, 'shutdown');
    assert.equal((await decode(again.rec, info.id)).read.end?.events, 1);
  });

  it('a disk error stops that recording with a logged reason, and the pipeline never sees it', async () => {
    const { rec, dir, logger, metrics } = recorder({ config: { segmentBytes: 4096, maxBytes: 64 * 1024 } });
    const doomed = rec.start({ devices: ['door-g12'] });
    const healthy = rec.start({ devices: ['door-g12'] });
    // The doomed recording's second segment lands on a full disk.
    symlinkSync('/dev/full', join(dir, doomed.id, 'seg-000002.jsonl'));
    let last = 0;
    assert.doesNotThrow(() => {
      for (let i = 0; i < 300; i++) rec.sensor(ev('door-g12', (last = T0 + i * 1000)));
    });
    await rec.flush();
    const failed = rec.get(doomed.id) as RecordingInfo;
    assert.equal(failed.state, 'interrupted');
    assert.ok(failed.stoppedAt !== undefined && failed.stoppedAt > T0 && failed.stoppedAt < last);
    assert.match(logger.lines.join('\n'), /recording stopped: it cannot be written.*ENOSPC/);
    assert.match(metrics.render(), /vigie_recording_errors_total 1\n/);
    assert.match(metrics.render(), /vigie_recordings_active 1\n/);
    const meta = JSON.parse(readFileSync(join(dir, doomed.id, 'meta.json'), 'utf8')) as RecordingInfo;
    assert.equal(meta.state, 'interrupted');
    assert.equal(meta.stoppedAt, failed.stoppedAt);
    rmSync(join(dir, doomed.id, 'seg-000002.jsonl'));
    assert.equal(rec.get(healthy.id)?.state, 'recording');
    assert.equal((await decode(rec, healthy.id)).items.length, 300);
  });

  it('keeps at most `keep` recordings, deleting the oldest stopped ones', async () => {
    const { rec, dir, clock } = recorder({ config: { keep: 2 } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      const info = rec.start();
      ids.push(info.id);
      rec.stop(info.id);
    }
    await rec.flush();
    await until(() => !existsSync(join(dir, ids[0])), 'the oldest deleted');
    assert.deepEqual(
      rec.list().map((r) => r.id),
      [ids[2], ids[1]],
      'newest first',
    );
  });

  it('remove() stops a running recording and deletes its files', async () => {
    const { rec, dir } = recorder();
    const info = rec.start();
    rec.sensor(ev('door-g12', T0));
    await rec.remove(info.id);
    assert.equal(rec.get(info.id), undefined);
    assert.equal(existsSync(join(dir, info.id)), false);
    assert.doesNotThrow(() => rec.sensor(ev('door-g12', T0 + 1)));
    await assert.rejects(rec.remove(info.id), { code: 'VIGIE_ERR_NOT_FOUND' });
  });

  it('counts events, bytes and running recordings for Prometheus', async () => {
    const { rec, metrics } = recorder();
    const info = rec.start({ devices: ['door-g12'] });
    rec.sensor(ev('door-g12', T0));
    rec.sensor(ev('temp-hall-b', T0));
    assert.match(metrics.render(), /vigie_recordings_active 1\n/);
    assert.match(metrics.render(), /vigie_recording_events_total 1\n/);
    rec.stop(info.id);
    await rec.flush();
    const bytes = Number(/vigie_recording_bytes_total (\d+)/.exec(metrics.render())?.[1]);
    assert.equal(bytes, (await text(rec.read(info.id))).length);
    assert.match(metrics.render(), /vigie_recordings_active 0\n/);
  });
});
