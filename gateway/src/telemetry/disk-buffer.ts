import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { TelemetryPoint } from './model.js';

/*
 * Points waiting for InfluxDB, on disk: numbered segment files of JSON lines, appended to the newest,
 * read from the oldest, deleted whole once read and acknowledged or when the bound drops them.
 * `cursor.json` remembers how far into the oldest segment InfluxDB has accepted.
 *
 * A chunk is acknowledged only after InfluxDB accepted it: if the process dies between the write and
 * the acknowledgement, the chunk is sent again after the restart. That is harmless: InfluxDB keys a
 * point by series and timestamp, so the repeat overwrites the point with itself.
 *
 * No fsync: the buffer is for a process that crashes or restarts (the kernel still holds what was
 * written); syncing every batch would wear the gateway's flash for a power cut we do not promise.
 */

export interface DiskBufferOptions {
  /** Past this (all segment files together), the oldest segments are dropped. */
  maxBytes: number;
  /** A new segment starts past this size (default: maxBytes / 16, 1 KiB..4 MiB). */
  segmentBytes?: number;
}

/** Points read from the buffer, to acknowledge once InfluxDB took them. */
export interface BufferedChunk {
  readonly points: TelemetryPoint[];
  readonly segment: number;
  /** Byte offset in the segment just past the chunk. */
  readonly end: number;
  /** Lines consumed, unreadable ones included. */
  readonly lines: number;
  readonly unreadable: number;
}

interface Segment {
  id: number;
  bytes: number;
  /** Lines not yet acknowledged. */
  lines: number;
}

const SEGMENT = /^(\d{12})\.jsonl$/;
const CURSOR = 'cursor.json';
const BLOCK = 64 * 1024;
const NL = 0x0a;
const MEASUREMENTS = new Set(['sensor', 'incident', 'notification']);

export class DiskBuffer {
  private readonly segments: Segment[] = [];
  /** Acknowledged bytes of segments[0]. */
  private head = 0;
  /** The segment appended to, open; undefined until the first append after open or after it emptied. */
  private active: { seg: Segment; fd: number } | undefined;
  private nextId = 1;
  private totalBytes = 0;
  private pending = 0;
  private droppedPoints = 0;
  private closed = false;
  private readonly segmentBytes: number;

  private constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    segmentBytes: number | undefined,
  ) {
    this.segmentBytes = segmentBytes ?? Math.min(4 * 1024 * 1024, Math.max(1024, Math.floor(maxBytes / 16)));
  }

  /** Opens (creating it if needed) a buffer directory and finds what a previous process left in it. */
  static open(dir: string, o: DiskBufferOptions): DiskBuffer {
    const b = new DiskBuffer(dir, o.maxBytes, o.segmentBytes);
    mkdirSync(dir, { recursive: true });
    b.recover();
    return b;
  }

  /** Points waiting. */
  get size(): number {
    return this.pending;
  }

  /** Bytes on disk (acknowledged prefix of the oldest segment included: it is still there). */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Points dropped since open: the oldest past the bound, and lines that could not be read. */
  get dropped(): number {
    return this.droppedPoints;
  }

  /** Files in the directory (for tests and diagnostics). */
  files(): string[] {
    return this.segments.map((s) => segmentName(s.id));
  }

  /** Appends in order; past `maxBytes` drops the oldest segments. Throws on an I/O error (disk full). */
  append(points: readonly TelemetryPoint[]): void {
    if (this.closed) throw new Error('telemetry buffer closed');
    let out = '';
    let outBytes = 0;
    let outLines = 0;
    for (const p of points) {
      const line = JSON.stringify(p) + '\n';
      const len = Buffer.byteLength(line);
      const active = this.activeSegment();
      if (active.seg.bytes + outBytes > 0 && active.seg.bytes + outBytes + len > this.segmentBytes) {
        this.writeActive(out, outBytes, outLines);
        [out, outBytes, outLines] = ['', 0, 0];
        this.seal();
      }
      out += line;
      outBytes += len;
      outLines++;
    }
    if (outLines > 0) this.writeActive(out, outBytes, outLines);
    this.enforceBound();
  }

  /** Up to `max` of the oldest points, without removing them: `ack()` does once they are safe. */
  peek(max: number): BufferedChunk | undefined {
    for (;;) {
      const seg = this.segments[0];
      if (!seg || this.closed) return undefined;
      const chunk = this.readChunk(seg, this.head, max);
      if (chunk.points.length > 0) return chunk;
      if (chunk.lines === 0) return undefined;
      // Only unreadable lines: skip them here rather than hand out an empty chunk.
      this.ack(chunk);
    }
  }

  /** Forgets a chunk InfluxDB accepted (or refused for good). A stale chunk (dropped meanwhile) is ignored. */
  ack(chunk: BufferedChunk): void {
    const seg = this.segments[0];
    if (this.closed || !seg || seg.id !== chunk.segment || chunk.end <= this.head) return;
    seg.lines -= chunk.lines;
    this.pending -= chunk.lines;
    this.droppedPoints += chunk.unreadable;
    this.head = chunk.end;
    if (this.head >= seg.bytes) this.removeOldest();
    else this.saveCursor();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.active) closeSync(this.active.fd);
    this.active = undefined;
  }

  private activeSegment(): { seg: Segment; fd: number } {
    if (this.active) return this.active;
    const seg: Segment = { id: this.nextId++, bytes: 0, lines: 0 };
    const fd = openSync(join(this.dir, segmentName(seg.id)), 'a');
    this.segments.push(seg);
    if (this.segments.length === 1) this.head = 0;
    this.active = { seg, fd };
    return this.active;
  }

  private writeActive(text: string, bytes: number, lines: number): void {
    const a = this.activeSegment();
    try {
      writeSync(a.fd, text);
    } catch (err) {
      // A partial line would be read back as garbage: cut the file back to what it was.
      try {
        ftruncateSync(a.fd, a.seg.bytes);
      } catch {
        /* the next open() repairs a torn tail anyway */
      }
      throw err;
    }
    a.seg.bytes += bytes;
    a.seg.lines += lines;
    this.totalBytes += bytes;
    this.pending += lines;
  }

  /** The next append starts a new segment. */
  private seal(): void {
    if (!this.active) return;
    closeSync(this.active.fd);
    this.active = undefined;
  }

  private enforceBound(): void {
    while (this.totalBytes > this.maxBytes && this.segments.length > 1) {
      this.droppedPoints += this.segments[0].lines;
      this.removeOldest();
    }
  }

  private removeOldest(): void {
    const seg = this.segments.shift();
    if (!seg) return;
    if (this.active?.seg === seg) {
      closeSync(this.active.fd);
      this.active = undefined;
    }
    rmSync(join(this.dir, segmentName(seg.id)), { force: true });
    this.totalBytes -= seg.bytes;
    this.pending -= seg.lines;
    this.head = 0;
    this.saveCursor();
  }

  private saveCursor(): void {
    const seg = this.segments[0];
    const path = join(this.dir, CURSOR);
    if (!seg || this.head === 0) {
      rmSync(path, { force: true });
      return;
    }
    // Written aside and renamed: a crash leaves the old cursor or the new one, never half of one.
    writeFileSync(path + '.tmp', JSON.stringify({ segment: seg.id, offset: this.head }));
    renameSync(path + '.tmp', path);
  }

  private readChunk(seg: Segment, from: number, max: number): BufferedChunk {
    const points: TelemetryPoint[] = [];
    let lines = 0;
    let unreadable = 0;
    let end = from;
    const fd = openSync(join(this.dir, segmentName(seg.id)), 'r');
    try {
      const block = Buffer.allocUnsafe(BLOCK);
      let carry: Buffer | undefined;
      let pos = from;
      while (points.length < max && pos < seg.bytes) {
        const n = readSync(fd, block, 0, Math.min(BLOCK, seg.bytes - pos), pos);
        if (n <= 0) break;
        pos += n;
        const buf: Buffer = carry ? Buffer.concat([carry, block.subarray(0, n)]) : block.subarray(0, n);
        let start = 0;
        for (let i = buf.indexOf(NL); i >= 0 && points.length < max; i = buf.indexOf(NL, start)) {
          const p = parsePoint(buf.toString('utf8', start, i));
          if (p) points.push(p);
          else unreadable++;
          lines++;
          end += i + 1 - start;
          start = i + 1;
        }
        carry = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
      }
    } finally {
      closeSync(fd);
    }
    return { points, segment: seg.id, end, lines, unreadable };
  }

  private recover(): void {
    const ids = readdirSync(this.dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const cursor = this.readCursor();
    for (const id of ids) {
      this.nextId = Math.max(this.nextId, id + 1);
      const path = join(this.dir, segmentName(id));
      if (cursor && id < cursor.segment) {
        // Fully acknowledged; the process died before deleting it.
        rmSync(path, { force: true });
        continue;
      }
      const from = cursor && id === cursor.segment ? cursor.offset : 0;
      const { bytes, lines } = scanSegment(path, from);
      if (lines === 0) {
        rmSync(path, { force: true });
        continue;
      }
      if (this.segments.length === 0) this.head = Math.min(from, bytes);
      this.segments.push({ id, bytes, lines });
      this.totalBytes += bytes;
      this.pending += lines;
    }
    this.saveCursor();
    this.enforceBound();
  }

  private readCursor(): { segment: number; offset: number } | undefined {
    try {
      const c = JSON.parse(readFileSync(join(this.dir, CURSOR), 'utf8')) as {
        segment?: unknown;
        offset?: unknown;
      };
      if (typeof c.segment === 'number' && typeof c.offset === 'number' && c.offset >= 0)
        return { segment: c.segment, offset: c.offset };
    } catch {
      /* none, or unreadable: start from the oldest segment (repeats are harmless) */
    }
    return undefined;
  }
}

function segmentName(id: number): string {
  return `${String(id).padStart(12, '0')}.jsonl`;
}

/**
 * Lines after `from`, and the size once a torn last line (the process died mid-append) is cut off,
 * so that the next append does not glue a new line onto half of an old one.
 */
function scanSegment(path: string, from: number): { bytes: number; lines: number } {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  let lines = 0;
  let lastNl = -1;
  try {
    const block = Buffer.allocUnsafe(BLOCK);
    for (let pos = 0; pos < size;) {
      const n = readSync(fd, block, 0, Math.min(BLOCK, size - pos), pos);
      if (n <= 0) break;
      for (let i = block.indexOf(NL); i >= 0 && i < n; i = block.indexOf(NL, i + 1)) {
        lastNl = pos + i;
        if (lastNl >= from) lines++;
      }
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  const bytes = lastNl + 1;
  if (bytes < size) truncateSync(path, bytes);
  return { bytes, lines };
}

function parsePoint(line: string): TelemetryPoint | undefined {
  try {
    const p = JSON.parse(line) as Partial<TelemetryPoint> | null;
    if (
      p &&
      typeof p.measurement === 'string' &&
      MEASUREMENTS.has(p.measurement) &&
      typeof p.time === 'number' &&
      Number.isFinite(p.time) &&
      typeof p.tags === 'object' &&
      p.tags !== null &&
      typeof p.fields === 'object' &&
      p.fields !== null
    )
      return p as TelemetryPoint;
  } catch {
    /* a line the buffer cannot read is skipped and counted as dropped */
  }
  return undefined;
}
