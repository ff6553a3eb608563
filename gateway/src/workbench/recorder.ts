import {
  createReadStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { SensorEvent } from '../../../rules/src/model.js';
import type { WorkbenchConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { NotFoundError, VigieError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Registry } from '../core/metrics.js';
import { newId } from '../route/ids.js';
import type { Site } from '../site/model.js';
import type { RecordedAction, RecordingHeader, RecordingInfo, RecordingSelection } from './model.js';
import { emptyRead, encodeAction, encodeEnd, encodeEvent, encodeHeader, readRecording } from './recording.js';

/*
 * Recordings of the site's accepted events (issue 8, "Record"). The pipeline hands every event to
 * `sensor`; with no recording running that is one length check. A running recording encodes the
 * event once, appends the line to memory, and a timer (or 64 KiB of lines) moves it to disk with
 * async writes, one chain per recording so lines land in order and the event loop never waits on
 * the disk. A disk that fails or falls too far behind stops that recording, never the pipeline.
 *
 *   <dir>/<id>/meta.json        RecordingInfo, replaced whole (tmp + rename)
 *   <dir>/<id>/seg-000001.jsonl segments, each a valid recording on its own (recording.ts)
 *
 * `events` counts every event recorded, `droppedEvents` those whose segment the size bound deleted.
 */

export interface RecorderOptions {
  dir: string;
  site: Site;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
  config: WorkbenchConfig;
  /** How often buffered lines go to disk and durations are checked (default 250 ms). */
  flushMs?: number;
}

export interface StartRecording {
  name?: string;
  devices?: readonly string[];
  kinds?: readonly string[];
  zones?: readonly string[];
  durationMs?: number;
  maxBytes?: number;
}

export type StopReason = NonNullable<RecordingInfo['stopReason']>;

const FLUSH_MS = 250;
const FLUSH_BYTES = 64 * 1024;
/** Lines waiting for a disk that does not keep up: past this the recording stops rather than eat memory. */
const MAX_QUEUED = 8 * 1024 * 1024;
/** meta.json is rewritten at most this often while recording (and at every state change). */
const META_MS = 5000;
/** Room kept for the end line when the bound stops the recording. */
const END_RESERVE = 64;
export const MIN_RECORDING_BYTES = 16 * 1024;
const MAX_NAME = 200;
const ID = /^rec_[0-9a-z]+$/;
const SEGMENT = /^seg-(\d{6,})\.jsonl$/;
const NL = 0x0a;

interface Segment {
  no: number;
  bytes: number;
  events: number;
  actions: number;
  firstAt?: number;
}

type Op = { kind: 'write'; seg: number; parts: string[]; lastAt?: number } | { kind: 'drop'; seg: number };

interface Rec {
  info: RecordingInfo;
  devices: ReadonlySet<string>;
  kinds: Readonly<Record<string, string>>;
  segBytes: number;
  segs: Segment[];
  ops: Op[];
  queued: number;
  chain: Promise<void>;
  flushQueued: boolean;
  file: { no: number; fh: FileHandle } | undefined;
  /** Bytes of each segment known to be written: a running recording is read up to there. */
  flushed: Map<number, number>;
  flushedLastAt: number | undefined;
  metaAt: number;
  metaDirty: boolean;
  /** Writing gave up (disk error) or the recording is being deleted. */
  dead: boolean;
}

const segName = (no: number) => `seg-${String(no).padStart(6, '0')}.jsonl`;

export class Recorder {
  /** Replaced, never mutated, so `sensor` can iterate while a recording stops under it. */
  private active: readonly Rec[] = [];
  private readonly recs = new Map<string, Rec>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private broken: string | undefined;
  private readonly logger: Logger;
  private readonly flushMs: number;
  private readonly m: Record<'events' | 'bytes' | 'errors', { inc(n?: number): void }>;
  /** Settles once recordings a crash interrupted are counted again from their files. */
  readonly ready: Promise<void>;

  constructor(private readonly o: RecorderOptions) {
    this.logger = o.logger.child('recorder');
    this.flushMs = o.flushMs ?? FLUSH_MS;
    const mt = o.metrics;
    this.m = {
      events: mt
        .counter('vigie_recording_events_total', 'Events and operator actions written to recordings.')
        .labels(),
      bytes: mt.counter('vigie_recording_bytes_total', 'Bytes written to recordings.').labels(),
      errors: mt
        .counter(
          'vigie_recording_errors_total',
          'Recording failures: disk errors (each stops its recording), lines not encoded.',
        )
        .labels(),
    };
    mt.gauge('vigie_recordings_active', 'Recordings running.', () => [[{}, this.active.length]]);
    let interrupted: Rec[] = [];
    try {
      mkdirSync(o.dir, { recursive: true });
      interrupted = this.load();
      this.enforceKeep();
    } catch (err) {
      // Recording is an integrator's tool: a bad directory disables it, not the gateway.
      this.broken = (err as Error).message;
      this.logger.error('recordings are unavailable', { dir: o.dir, error: this.broken });
    }
    this.ready = this.recount(interrupted);
  }

  // ---- hot path --------------------------------------------------------------------------------

  /** Every accepted event. Never throws. */
  sensor(ev: SensorEvent): void {
    const active = this.active;
    if (active.length === 0) return;
    let line: string | undefined;
    try {
      for (let i = 0; i < active.length; i++) {
        const r = active[i];
        if (!r.devices.has(ev.deviceId)) continue;
        line ??= encodeEvent(ev);
        this.add(r, line, ev.receivedAt, false);
      }
    } catch (err) {
      this.m.errors.inc();
      this.logger.error('an event could not be recorded', {
        device: ev.deviceId,
        error: (err as Error).message,
      });
    }
  }

  /** An operator acknowledged or resolved an incident. Never throws. */
  action(a: Omit<RecordedAction, 'type'>): void {
    const active = this.active;
    if (active.length === 0) return;
    try {
      const line = encodeAction(a);
      for (const r of active) if (r.devices.has(a.deviceId)) this.add(r, line, a.at, true);
    } catch (err) {
      this.m.errors.inc();
      this.logger.error('an action could not be recorded', {
        device: a.deviceId,
        error: (err as Error).message,
      });
    }
  }

  // ---- management ------------------------------------------------------------------------------

  start(req: StartRecording = {}): RecordingInfo {
    if (this.closed) throw new VigieError('VIGIE_ERR_STORE', 'the recorder is closed');
    if (this.broken) throw new VigieError('VIGIE_ERR_STORE', `recordings are unavailable: ${this.broken}`);
    const { selection, devices, kinds } = this.select(req);
    const cfg = this.o.config;
    const maxBytes = req.maxBytes ?? cfg.maxBytes;
    if (!Number.isInteger(maxBytes) || maxBytes < MIN_RECORDING_BYTES)
      throw bad(`maxBytes must be a whole number of bytes, at least ${MIN_RECORDING_BYTES}`);
    if (req.durationMs !== undefined && (!Number.isInteger(req.durationMs) || req.durationMs <= 0))
      throw bad('the duration must be a positive number of milliseconds');
    const name = req.name?.trim();
    if (name !== undefined && (name.length === 0 || name.length > MAX_NAME))
      throw bad(`name must be 1 to ${MAX_NAME} characters`);
    if (this.active.length >= cfg.maxActive)
      throw new VigieError(
        'VIGIE_ERR_ILLEGAL_TRANSITION',
        `${this.active.length} recordings are running already (workbench.maxActive): stop one first`,
      );

    const now = this.o.clock.now();
    const id = newId('rec_', now);
    const info: RecordingInfo = {
      id,
      ...(name ? { name } : {}),
      site: this.o.site.id,
      selection,
      state: 'recording',
      startedAt: now,
      ...(req.durationMs ? { endsAt: now + req.durationMs } : {}),
      events: 0,
      actions: 0,
      bytes: 0,
      segments: 0,
      droppedSegments: 0,
      droppedEvents: 0,
      maxBytes,
    };
    const r = newRec(
      info,
      devices,
      kinds,
      Math.min(cfg.segmentBytes, Math.max(4096, Math.floor(maxBytes / 4))),
    );
    try {
      mkdirSync(join(this.o.dir, id));
      writeMetaSync(join(this.o.dir, id), info);
    } catch (err) {
      this.m.errors.inc();
      throw new VigieError('VIGIE_ERR_STORE', `cannot create the recording: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.newSegment(r);
    r.metaAt = now;
    this.recs.set(id, r);
    this.active = [...this.active, r];
    this.enforceKeep();
    this.timer ??= setInterval(() => this.tick(), this.flushMs).unref();
    this.logger.info('recording started', { id, devices: devices.size, ...(name ? { name } : {}) });
    void this.flushRec(r);
    return view(r);
  }

  stop(id: string, reason: StopReason = 'requested'): RecordingInfo {
    const r = this.rec(id);
    this.stopRec(r, reason);
    return view(r);
  }

  /** Newest first. */
  list(): RecordingInfo[] {
    // Stable sort over the creation order reversed: two started in the same millisecond stay in order.
    return [...this.recs.values()]
      .reverse()
      .map(view)
      .sort((a, b) => b.startedAt - a.startedAt);
  }

  get(id: string): RecordingInfo | undefined {
    const r = this.recs.get(id);
    return r && view(r);
  }

  /** Stops it if running and deletes its files. */
  async remove(id: string): Promise<void> {
    await this.discard(this.rec(id));
  }

  /**
   * The whole recording as one file: every segment still on disk in order, each with its header.
   * A running recording is read up to what has reached the disk when reading starts.
   */
  read(id: string): Readable {
    return Readable.from(this.chunks(this.rec(id)));
  }

  /** Writes out everything buffered (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.recs.values()].map((r) => this.flushRec(r)));
  }

  /** Stops running recordings (reason 'shutdown', with their end line) and waits for the disk. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const r of this.active) this.stopRec(r, 'shutdown');
    this.closed = true;
    await this.ready;
    await this.flush();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  // ---- appending -------------------------------------------------------------------------------

  private add(r: Rec, line: string, at: number, action: boolean): void {
    if (r.info.state !== 'recording') return;
    const len = Buffer.byteLength(line);
    let seg = r.segs[r.segs.length - 1];
    const rotate = seg.events + seg.actions > 0 && seg.bytes + len > r.segBytes;
    if (this.o.config.whenFull === 'stop') {
      const header = rotate ? Buffer.byteLength(this.headerLine(r, seg.no + 1)) : 0;
      if (r.info.bytes + header + len > r.info.maxBytes - END_RESERVE) {
        this.stopRec(r, 'full');
        return;
      }
    }
    if (rotate) seg = this.newSegment(r);
    this.queue(r, seg.no, line, len, at);
    seg.bytes += len;
    seg.firstAt ??= at;
    const info = r.info;
    if (action) {
      seg.actions++;
      info.actions++;
    } else {
      seg.events++;
      info.events++;
    }
    info.firstAt ??= at;
    info.lastAt = at;
    this.m.events.inc();
    if (this.o.config.whenFull === 'drop-oldest') {
      while (info.bytes > info.maxBytes && r.segs.length > 1) this.dropOldest(r);
    }
    if (r.queued >= FLUSH_BYTES) {
      if (r.queued > MAX_QUEUED)
        this.fail(r, new Error(`the disk is not keeping up (${r.queued} bytes waiting)`));
      else void this.flushRec(r);
    }
  }

  private queue(r: Rec, seg: number, text: string, len: number, at?: number): void {
    const last = r.ops[r.ops.length - 1];
    if (last?.kind === 'write' && last.seg === seg) {
      last.parts.push(text);
      if (at !== undefined) last.lastAt = at;
    } else {
      r.ops.push({ kind: 'write', seg, parts: [text], ...(at !== undefined ? { lastAt: at } : {}) });
    }
    r.queued += len;
    r.info.bytes += len;
    r.metaDirty = true;
    this.m.bytes.inc(len);
  }

  private headerLine(r: Rec, segment: number): string {
    const h: RecordingHeader = {
      vigie: 'recording',
      version: 1,
      site: r.info.site,
      id: r.info.id,
      segment,
      startedAt: r.info.startedAt,
      selection: r.info.selection,
      kinds: r.kinds,
      ...(r.info.name ? { name: r.info.name } : {}),
    };
    return encodeHeader(h);
  }

  private newSegment(r: Rec): Segment {
    const no = (r.segs[r.segs.length - 1]?.no ?? r.info.droppedSegments) + 1;
    const header = this.headerLine(r, no);
    const seg: Segment = { no, bytes: Buffer.byteLength(header), events: 0, actions: 0 };
    r.segs.push(seg);
    r.info.segments++;
    this.queue(r, no, header, seg.bytes);
    return seg;
  }

  private dropOldest(r: Rec): void {
    const seg = r.segs.shift();
    if (!seg) return;
    const info = r.info;
    info.bytes -= seg.bytes;
    info.segments--;
    info.droppedSegments++;
    info.droppedEvents += seg.events;
    info.firstAt = r.segs.find((s) => s.firstAt !== undefined)?.firstAt;
    r.ops.push({ kind: 'drop', seg: seg.no });
  }

  private stopRec(r: Rec, reason: StopReason): void {
    if (r.info.state !== 'recording') return;
    const info = r.info;
    info.state = 'stopped';
    info.stopReason = reason;
    info.stoppedAt = this.o.clock.now();
    const end = encodeEnd({ stoppedAt: info.stoppedAt, events: info.events - info.droppedEvents });
    const seg = r.segs[r.segs.length - 1];
    const len = Buffer.byteLength(end);
    seg.bytes += len;
    this.queue(r, seg.no, end, len);
    this.deactivate(r);
    this.logger.info('recording stopped', { id: info.id, reason, events: info.events });
    void this.flushRec(r);
  }

  private deactivate(r: Rec): void {
    this.active = this.active.filter((x) => x !== r);
    if (this.active.length === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    const now = this.o.clock.now();
    for (const r of this.active) {
      if (r.info.endsAt !== undefined && now >= r.info.endsAt) this.stopRec(r, 'duration');
      else if (r.ops.length > 0 || (r.metaDirty && now - r.metaAt >= META_MS)) void this.flushRec(r);
    }
  }

  // ---- the disk --------------------------------------------------------------------------------

  private flushRec(r: Rec): Promise<void> {
    if (!r.flushQueued) {
      r.flushQueued = true;
      r.chain = r.chain.then(() => this.drain(r));
    }
    return r.chain;
  }

  /** Never rejects: a failure stops the recording. */
  private async drain(r: Rec): Promise<void> {
    r.flushQueued = false;
    const dir = join(this.o.dir, r.info.id);
    try {
      while (!r.dead && r.ops.length > 0) {
        const ops = r.ops;
        r.ops = [];
        r.queued = 0;
        for (const op of ops) {
          if (r.dead) return;
          if (op.kind === 'write') {
            const fh = await this.fileFor(r, op.seg);
            const text = op.parts.join('');
            const bytes = Buffer.byteLength(text);
            const { bytesWritten } = await fh.write(text);
            if (bytesWritten !== bytes) throw new Error(`short write (${bytesWritten} of ${bytes} bytes)`);
            r.flushed.set(op.seg, (r.flushed.get(op.seg) ?? 0) + bytes);
            if (op.lastAt !== undefined) r.flushedLastAt = op.lastAt;
          } else {
            if (r.file?.no === op.seg) await closeFile(r);
            r.flushed.delete(op.seg);
            await rm(join(dir, segName(op.seg)), { force: true });
          }
        }
      }
      if (r.dead) return;
      const stopped = r.info.state !== 'recording';
      if (stopped) await closeFile(r);
      if (r.metaDirty && (stopped || this.o.clock.now() - r.metaAt >= META_MS)) {
        r.metaDirty = false;
        r.metaAt = this.o.clock.now();
        const meta = join(dir, 'meta.json');
        await writeFile(meta + '.tmp', JSON.stringify(r.info, null, 2) + '\n');
        await rename(meta + '.tmp', meta);
      }
    } catch (err) {
      this.fail(r, err);
    }
  }

  private async fileFor(r: Rec, no: number): Promise<FileHandle> {
    if (r.file?.no === no) return r.file.fh;
    await closeFile(r);
    const fh = await open(join(this.o.dir, r.info.id, segName(no)), 'a');
    r.file = { no, fh };
    return fh;
  }

  /** The recording keeps what reached the disk and is marked interrupted, the way a crash leaves it. */
  private fail(r: Rec, err: unknown): void {
    if (r.dead) return;
    r.dead = true;
    r.ops = [];
    r.queued = 0;
    this.m.errors.inc();
    const info = r.info;
    const message = err instanceof Error ? err.message : String(err);
    this.logger.error('recording stopped: it cannot be written', { id: info.id, error: message });
    if (info.state === 'recording') this.deactivate(r);
    info.state = 'interrupted';
    delete info.stopReason;
    info.stoppedAt = r.flushedLastAt ?? info.startedAt;
    info.bytes = [...r.flushed.values()].reduce((a, b) => a + b, 0);
    void closeFile(r);
    try {
      writeMetaSync(join(this.o.dir, info.id), info);
    } catch {
      /* the same disk: the next start finds meta.json saying 'recording' and marks it interrupted */
    }
  }

  private async discard(r: Rec): Promise<void> {
    if (r.info.state === 'recording') {
      r.info.state = 'stopped';
      r.info.stopReason = 'requested';
      r.info.stoppedAt = this.o.clock.now();
      this.deactivate(r);
    }
    this.recs.delete(r.info.id);
    r.dead = true;
    r.ops = [];
    await r.chain;
    await closeFile(r);
    await rm(join(this.o.dir, r.info.id), { recursive: true, force: true });
    this.logger.info('recording deleted', { id: r.info.id });
  }

  /** Past `keep` recordings, the oldest that are not running go. */
  private enforceKeep(): void {
    let excess = this.recs.size - this.o.config.keep;
    if (excess <= 0) return;
    const old = [...this.recs.values()]
      .filter((r) => r.info.state !== 'recording')
      .sort((a, b) => a.info.startedAt - b.info.startedAt);
    for (const r of old) {
      if (excess-- <= 0) break;
      this.discard(r).catch((err: Error) =>
        this.logger.warn('an old recording could not be deleted', { id: r.info.id, error: err.message }),
      );
    }
  }

  private async *chunks(r: Rec): AsyncGenerator<Buffer> {
    await this.flushRec(r);
    const running = r.info.state === 'recording';
    const parts = r.segs.map((s) => ({ no: s.no, end: running ? (r.flushed.get(s.no) ?? 0) : undefined }));
    for (const { no, end } of parts) {
      if (end === 0) continue;
      let last = NL;
      try {
        const file = createReadStream(join(this.o.dir, r.info.id, segName(no)), end ? { end: end - 1 } : {});
        for await (const chunk of file as AsyncIterable<Buffer>) {
          yield chunk;
          last = chunk[chunk.length - 1];
        }
      } catch (err) {
        // Dropped by the size bound while we were reading the ones before it.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      // A torn last line (crash) must not glue itself to the next header.
      if (last !== NL) yield Buffer.from('\n');
    }
  }

  // ---- selection -------------------------------------------------------------------------------

  private select(req: StartRecording): {
    selection: RecordingSelection;
    devices: Set<string>;
    kinds: Record<string, string>;
  } {
    const site = this.o.site;
    const devices = distinct(req.devices);
    const kinds = distinct(req.kinds);
    const zones = distinct(req.zones);
    const ids = new Set(site.devices.map((d) => d.id));
    const kindNames = new Set([...Object.keys(site.kinds), ...site.devices.map((d) => d.kind)]);
    const zoneNames = new Set(site.devices.map((d) => d.zone));
    const unknown: string[] = [];
    const check = (what: string, list: string[] | undefined, known: ReadonlySet<string>) => {
      const missing = list?.filter((x) => !known.has(x)) ?? [];
      if (missing.length > 0) unknown.push(`${what} ${missing.join(', ')}`);
    };
    check('devices', devices, ids);
    check('kinds', kinds, kindNames);
    check('zones', zones, zoneNames);
    if (unknown.length > 0) throw bad(`the site ${site.id} has no ${unknown.join('; no ')}`);
    // Each list narrows the others: devices [a, b] with kinds [door] keeps the doors among a and b.
    const chosen = site.devices.filter(
      (d) =>
        (!devices || devices.includes(d.id)) &&
        (!kinds || kinds.includes(d.kind)) &&
        (!zones || zones.includes(d.zone)),
    );
    if (chosen.length === 0)
      throw bad('the selection matches no device: its devices, kinds and zones exclude each other');
    const selection: RecordingSelection = {
      ...(devices ? { devices } : {}),
      ...(kinds ? { kinds } : {}),
      ...(zones ? { zones } : {}),
    };
    // Id and kind only: names, locations, credentials and people stay in the site file.
    const kindOf: Record<string, string> = {};
    for (const d of chosen) kindOf[d.id] = d.kind;
    return { selection, devices: new Set(chosen.map((d) => d.id)), kinds: kindOf };
  }

  private rec(id: string): Rec {
    const r = this.recs.get(id);
    if (!r) throw new NotFoundError(`recording ${id}`);
    return r;
  }

  // ---- start after a stop or a crash -----------------------------------------------------------

  /** Finds the stored recordings; returns those a crash interrupted (meta.json still says 'recording'). */
  private load(): Rec[] {
    const interrupted: Rec[] = [];
    for (const id of readdirSync(this.o.dir)
      .filter((f) => ID.test(f))
      .sort()) {
      const dir = join(this.o.dir, id);
      let info: RecordingInfo;
      try {
        info = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as RecordingInfo;
        if (info.id !== id || typeof info.startedAt !== 'number')
          throw new Error('not a recording meta.json');
      } catch (err) {
        this.logger.warn('skipping a recording directory', { id, error: (err as Error).message });
        continue;
      }
      const segs: Segment[] = readdirSync(dir)
        .map((f) => SEGMENT.exec(f)?.[1])
        .filter((n): n is string => n !== undefined)
        .map((n) => ({
          no: Number(n),
          bytes: statSync(join(dir, segName(Number(n)))).size,
          events: 0,
          actions: 0,
        }))
        .sort((a, b) => a.no - b.no);
      const r = newRec(info, new Set(), {}, 0);
      r.segs = segs;
      r.dead = true;
      info.bytes = segs.reduce((a, s) => a + s.bytes, 0);
      info.segments = segs.length;
      if (info.state === 'recording') {
        info.state = 'interrupted';
        info.stoppedAt = info.lastAt ?? info.startedAt;
        info.droppedSegments =
          segs.length > 0 ? segs[segs.length - 1].no - segs.length : info.droppedSegments;
        writeMetaSync(dir, info);
        interrupted.push(r);
        this.logger.warn('a recording was interrupted (the gateway stopped without closing it)', { id });
      }
      this.recs.set(id, r);
    }
    return interrupted;
  }

  /** meta.json lags the files by up to META_MS: count what the files really hold. */
  private async recount(recs: readonly Rec[]): Promise<void> {
    for (const r of recs) {
      try {
        let events = 0;
        let actions = 0;
        let firstAt: number | undefined;
        let lastAt: number | undefined;
        for (const s of r.segs) {
          for await (const item of readRecording(join(this.o.dir, r.info.id, segName(s.no)), emptyRead())) {
            const at = item.type === 'event' ? item.receivedAt : item.at;
            if (item.type === 'event') events++;
            else actions++;
            firstAt ??= at;
            lastAt = at;
          }
        }
        const info = r.info;
        Object.assign(info, {
          events: events + info.droppedEvents,
          actions,
          stoppedAt: lastAt ?? info.startedAt,
        });
        if (firstAt !== undefined) info.firstAt = firstAt;
        if (lastAt !== undefined) info.lastAt = lastAt;
        writeMetaSync(join(this.o.dir, info.id), info);
      } catch (err) {
        this.logger.warn('an interrupted recording could not be counted', {
          id: r.info.id,
          error: (err as Error).message,
        });
      }
    }
  }
}

function newRec(
  info: RecordingInfo,
  devices: ReadonlySet<string>,
  kinds: Readonly<Record<string, string>>,
  segBytes: number,
): Rec {
  return {
    info,
    devices,
    kinds,
    segBytes,
    segs: [],
    ops: [],
    queued: 0,
    chain: Promise.resolve(),
    flushQueued: false,
    file: undefined,
    flushed: new Map(),
    flushedLastAt: undefined,
    metaAt: 0,
    metaDirty: false,
    dead: false,
  };
}

function view(r: Rec): RecordingInfo {
  return { ...r.info };
}

async function closeFile(r: Rec): Promise<void> {
  const f = r.file;
  if (!f) return;
  r.file = undefined;
  await f.fh.close().catch(() => {});
}

/** Written aside and renamed: a crash leaves the old meta.json or the new one, never half of one. */
function writeMetaSync(dir: string, info: RecordingInfo): void {
  const path = join(dir, 'meta.json');
  writeFileSync(path + '.tmp', JSON.stringify(info, null, 2) + '\n');
  renameSync(path + '.tmp', path);
}

function distinct(list: readonly string[] | undefined): string[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  return [...new Set(list)];
}

function bad(message: string): VigieError {
  return new VigieError('VIGIE_ERR_BAD_REQUEST', message);
}
