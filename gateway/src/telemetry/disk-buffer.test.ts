import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { DiskBuffer } from './disk-buffer.js';
import type { TelemetryPoint } from './model.js';

const T0 = Date.UTC(2025, 0, 6, 8, 0, 0);
const dirs: string[] = [];
const open: DiskBuffer[] = [];

afterEach(() => {
  for (const b of open.splice(0)) b.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigie-tbuf-'));
  dirs.push(d);
  return d;
}

function buffer(dir: string, maxBytes = 1024 * 1024, segmentBytes = 2048): DiskBuffer {
  const b = DiskBuffer.open(dir, { maxBytes, segmentBytes });
  open.push(b);
  return b;
}

function pts(from: number, n: number): TelemetryPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    measurement: 'sensor' as const,
    tags: { site: 'cdg', zone: 'kitchen', kind: 'temperature', device: 'temp-1' },
    fields: { celsius: from + i, label: 'é😀' },
    time: T0 + (from + i) * 1000,
  }));
}

/** Reads and acknowledges everything, `max` at a time; returns the celsius values in order. */
function drain(b: DiskBuffer, max = 7): number[] {
  const out: number[] = [];
  for (let c = b.peek(max); c; c = b.peek(max)) {
    out.push(...c.points.map((p) => p.fields.celsius as number));
    b.ack(c);
  }
  return out;
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

test('points come back oldest first, across segments, and nothing is left once acknowledged', () => {
  const dir = tempDir();
  const b = buffer(dir);
  b.append(pts(0, 40));
  b.append(pts(40, 40));
  assert.equal(b.size, 80);
  assert.ok(b.files().length > 1, 'several segments');
  assert.deepEqual(drain(b), range(0, 80));
  assert.equal(b.size, 0);
  assert.equal(b.bytes, 0);
  assert.deepEqual(readdirSync(dir), [], 'segments and cursor removed');
});

test('a chunk not acknowledged is read again (InfluxDB did not take it)', () => {
  const b = buffer(tempDir());
  b.append(pts(0, 10));
  const first = b.peek(4);
  assert.deepEqual(
    first?.points.map((p) => p.fields.celsius),
    [0, 1, 2, 3],
  );
  assert.deepEqual(
    b.peek(4)?.points.map((p) => p.fields.celsius),
    [0, 1, 2, 3],
  );
  b.ack(first!);
  b.ack(first!); // twice: no effect
  assert.equal(b.size, 6);
  assert.deepEqual(drain(b), range(4, 6));
});

test('a new process finds the points again, from where InfluxDB stopped taking them', () => {
  const dir = tempDir();
  const a = buffer(dir);
  a.append(pts(0, 50));
  const c = a.peek(12)!;
  a.ack(c);
  a.peek(5); // read, sent, then the process died before the acknowledgement
  // No close(): as after a crash.
  const b = buffer(dir);
  assert.equal(b.size, 38);
  b.append(pts(50, 5));
  assert.deepEqual(drain(b), range(12, 43));
});

test('past maxBytes the oldest points are dropped and counted; the newest are kept', () => {
  const b = buffer(tempDir(), 8 * 1024, 1024);
  for (let i = 0; i < 20; i++) b.append(pts(i * 10, 10));
  assert.ok(b.bytes <= 8 * 1024, `bytes ${b.bytes}`);
  assert.ok(b.dropped > 0);
  assert.equal(b.size + b.dropped, 200, 'every point is either kept or counted');
  const kept = drain(b);
  assert.equal(kept.at(-1), 199, 'the newest is kept');
  assert.deepEqual(kept, range(200 - kept.length, kept.length), 'a contiguous newest tail');
});

test('a chunk of a segment dropped while in flight is not acknowledged into the next one', () => {
  const b = buffer(tempDir(), 4 * 1024, 1024);
  b.append(pts(0, 5));
  const inFlight = b.peek(3)!;
  for (let i = 1; i < 12; i++) b.append(pts(i * 5, 5));
  const before = b.size;
  b.ack(inFlight);
  assert.equal(b.size, before);
});

test('a torn last line (died mid-append) is cut off; the rest is read and appends go on', () => {
  const dir = tempDir();
  const a = buffer(dir, 1024 * 1024, 1024 * 1024);
  a.append(pts(0, 3));
  const [seg] = a.files();
  appendFileSync(join(dir, seg), '{"measurement":"sensor","tags":{"site":"c');
  const b = buffer(dir);
  assert.equal(b.size, 3);
  b.append(pts(3, 2));
  assert.deepEqual(drain(b), range(0, 5));
});

test('an unreadable line is skipped and counted as dropped', () => {
  const dir = tempDir();
  const lines = pts(0, 3).map((p) => JSON.stringify(p));
  writeFileSync(
    join(dir, '000000000001.jsonl'),
    [lines[0], 'not json', '{"x":1}', lines[1], lines[2], ''].join('\n'),
  );
  const b = buffer(dir);
  assert.equal(b.size, 5);
  assert.deepEqual(drain(b, 1), [0, 1, 2]);
  assert.equal(b.dropped, 2);
  assert.equal(b.size, 0);
});
