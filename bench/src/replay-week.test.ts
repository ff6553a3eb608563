import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RecordedEvent, RecordedItem } from '../../gateway/src/workbench/model.js';
import { emptyRead, readRecording } from '../../gateway/src/workbench/recording.js';
import { replayFile } from '../../gateway/src/workbench/replay.js';
import { loadWorkbench } from '../../gateway/src/workbench/setup.js';
import { median, summarizeProfile } from './replay-week.js';
import { generateWeek, planSite, type GeneratedWeek } from './week-traffic.js';

// A small site over two days: the same generator as the benchmark's week, cheap enough for a test.
const dirs: string[] = [];
let week: GeneratedWeek;
let items: RecordedItem[];
const read = emptyRead();

function generate(seed: number): GeneratedWeek {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-replay-week-test-'));
  dirs.push(dir);
  return generateWeek({ devices: 100, days: 2, seed }, dir);
}
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const HEARTBEAT_MS: Record<string, number> = {
  '10m': 600_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '40m': 2_400_000,
};

before(async () => {
  week = generate(8);
  items = [];
  for await (const it of readRecording(week.recording, read)) items.push(it);
});

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('replay-week - the recording reads back whole: header, every event in time order, clean end', () => {
  assert.equal(read.bad, 0, read.problems.join('; '));
  assert.equal(read.header?.site, 'airport-1k');
  assert.equal(read.kinds.size, 100);
  const events = items.filter((i): i is RecordedEvent => i.type === 'event');
  assert.equal(events.length, week.totalEvents);
  assert.equal(read.end?.events, week.totalEvents);
  assert.equal(read.end?.stoppedAt, week.to);
  assert.equal(items.length - events.length, week.actions);
  const times = items.map((i) => (i.type === 'event' ? i.receivedAt : i.at));
  assert.ok(
    times.every((t, i) => i === 0 || t >= times[i - 1]),
    'items in time order',
  );
  assert.ok(times[0] >= week.from && times.at(-1)! < week.to);
  assert.ok(events.every((e) => read.kinds.has(e.deviceId)));
});

test('replay-week - the same seed writes the same file, another seed another one', () => {
  assert.equal(sha(generate(8).recording), sha(week.recording));
  assert.notEqual(sha(generate(9).recording), sha(week.recording));
});

test('replay-week - a device is silent past its heartbeat only in a scripted outage', () => {
  const devices = planSite(100, 8);
  const last = new Map<string, number>();
  const late = new Set<string>();
  for (const it of items) {
    if (it.type !== 'event') continue;
    const d = devices.find((x) => x.id === it.deviceId)!;
    const prev = last.get(d.id) ?? week.from;
    if (it.receivedAt - prev > HEARTBEAT_MS[d.heartbeat]) late.add(d.id);
    last.set(d.id, it.receivedAt);
  }
  const scripted = new Set(
    week.notes.filter((n) => /offline|silent/.test(n)).map((n) => n.slice(0, n.indexOf(':'))),
  );
  assert.ok(scripted.size >= 5, `outages scripted: ${[...scripted].join(', ')}`);
  // A device going offline with a last will sends nothing more until it is back: late too.
  assert.deepEqual([...late].sort(), [...scripted].sort());
});

test('replay-week - the example rules compile against the site and each one fires on the traffic', async () => {
  const { workbench, problems } = await loadWorkbench({
    rulesDir: week.rulesDir,
    siteFile: week.siteFile,
    channels: ['voice', 'sms'],
  });
  assert.deepEqual(problems, []);
  assert.ok(workbench);
  const r = await replayFile(workbench, week.recording);
  assert.equal(r.skipped, 0, r.problems.join('; '));
  assert.deepEqual(r.problems, []);
  const fired = new Set(r.incidents.map((i) => i.ruleId));
  assert.deepEqual(
    [...fired].sort(),
    workbench.rules.map((x) => x.id).sort(),
    'every example rule opens at least one incident',
  );
  // Only the scripted outages take a device offline: no heartbeat misses from the generator.
  const offline = new Set(r.incidents.filter((i) => i.ruleId === 'sensor-offline').map((i) => i.deviceId));
  const scripted = week.notes.filter((n) => /offline|silent/.test(n)).map((n) => n.slice(0, n.indexOf(':')));
  assert.deepEqual([...offline].sort(), scripted.sort());
  // Every scripted acknowledgement finds its incident open.
  assert.equal(r.incidents.filter((i) => i.acknowledgedAt !== undefined).length, week.actions);
  assert.ok(
    r.notifications.some((n) => n.channelType === 'voice' && n.outcome === 'sent'),
    'someone is called',
  );
});

test('replay-week - median and the CPU profile summary', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const root = 'file:///x/dist/';
  const frame = (id: number, functionName: string, url: string) => ({
    id,
    callFrame: { functionName, url, lineNumber: 9 },
  });
  const s = summarizeProfile(
    {
      nodes: [
        frame(1, '(idle)', ''),
        frame(2, 'decodeLine', `${root}gateway/src/workbench/recording.js`),
        frame(3, 'ingest', `${root}rules/src/engine.js`),
        frame(4, '(garbage collector)', ''),
      ],
      samples: [1, 2, 2, 3, 4],
      timeDeltas: [5000, 1000, 2000, 4000, 1000],
    },
    root,
  );
  // Idle time is not work: 8 ms of samples.
  assert.equal(s.totalMs, 8);
  assert.match(s.areas[0].area, /rules engine/);
  assert.equal(s.areas[0].ms, 4);
  assert.match(s.areas[1].area, /reading the file/);
  assert.equal(s.areas[1].ms, 3);
  assert.equal(s.functions[1].name, '`decodeLine` gateway/src/workbench/recording.js:10');
});
