import type { InfluxDB, IPoint } from 'influx';
import type { InfluxConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Registry } from '../core/metrics.js';
import { DiskBuffer } from './disk-buffer.js';
import {
  durationLiteral,
  goDurationMs,
  httpStatus,
  influxClient,
  influxErrorMessage,
  influxServer,
  toIPoint,
} from './influx-client.js';
import type { TelemetryPoint, TelemetrySink, TelemetryStatus } from './model.js';

/*
 * Points to InfluxDB 1.x in batches (batchSize points, or flushInterval after the first one).
 *
 *   connecting --ok--> direct <--buffer empty-- draining
 *        |               |  queue overflow ------->^
 *        +----fail----> down --probe (/ping, 1 s..30 s) ok--^
 *
 * `direct`: batches wait in memory (a few) and go straight out, one request at a time. `down`: they
 * go to the disk buffer. `draining`: InfluxDB is back and the disk buffer is sent oldest first; new
 * batches keep going to disk behind it so that the order holds, and writes go direct again once it
 * is empty. A 4xx answer is about the points, not the server: they are dropped, counted, and logged
 * once per kind of error. Network errors, 5xx and timeouts are the server's: the points are kept.
 */

const MAX_QUEUED_BATCHES = 4;
const PROBE_MIN_MS = 1000;
const PROBE_MAX_MS = 30_000;
/** InfluxDB refuses retention policies shorter than this. */
const MIN_RETENTION_MS = 3_600_000;
const MAX_LOGGED_KINDS = 200;

type Mode = 'connecting' | 'direct' | 'draining' | 'down';
type Sent = 'ok' | 'rejected' | 'transient';

interface Batch {
  n: number;
  points: TelemetryPoint[];
}

export interface InfluxWriterDeps {
  logger: Logger;
  metrics: Registry;
  clock?: Clock;
}

export class InfluxWriter implements TelemetrySink {
  private readonly influx: InfluxDB;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly server: string;
  private readonly counts: Record<'written' | 'buffered' | 'dropped' | 'rejected', { inc(n?: number): void }>;
  private disk: DiskBuffer | undefined;
  private diskFailed = false;
  private diskDropped = 0;
  private mode: Mode = 'connecting';
  private stopping = false;
  private stopped = false;
  /** Database and retention policy are in place. */
  private ready = false;
  private connected = false;
  private batch: TelemetryPoint[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly queue: Batch[] = [];
  private batches = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  private pumping: Promise<void> | undefined;
  private connecting: Promise<boolean> | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probeDelay = PROBE_MIN_MS;
  private downSince: number | undefined;
  private drained = 0;
  private written = 0;
  private dropped = 0;
  private lastError: string | undefined;
  private readonly loggedKinds = new Set<string>();

  constructor(
    private readonly cfg: InfluxConfig & { bufferDir: string },
    deps: InfluxWriterDeps,
  ) {
    this.log = deps.logger;
    this.clock = deps.clock ?? systemClock;
    this.influx = influxClient(cfg, cfg.timeout);
    this.server = influxServer(cfg);
    const total = deps.metrics.counter(
      'vigie_telemetry_points_total',
      'Telemetry points by what became of them: written to InfluxDB, buffered on disk, dropped (disk buffer full), rejected by InfluxDB (4xx)',
    );
    this.counts = {
      written: total.labels({ result: 'written' }),
      buffered: total.labels({ result: 'buffered' }),
      dropped: total.labels({ result: 'dropped' }),
      rejected: total.labels({ result: 'rejected' }),
    };
    deps.metrics.gauge('vigie_telemetry_buffered_points', 'Telemetry points waiting for InfluxDB', () => [
      [{}, this.bufferedPoints()],
    ]);
    deps.metrics.gauge('vigie_telemetry_up', '1 when the last write or ping to InfluxDB succeeded', () => [
      [{}, this.connected ? 1 : 0],
    ]);
  }

  /**
   * Finds what an earlier process left in the disk buffer and connects: waits at most `timeout` for
   * InfluxDB (database and retention policy created), then goes on trying in the background.
   */
  async start(): Promise<void> {
    this.openDisk();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.connect(),
      new Promise<void>((r) => (timer = setTimeout(r, this.cfg.timeout).unref())),
    ]);
    clearTimeout(timer);
  }

  write(points: readonly TelemetryPoint[]): void {
    if (points.length === 0) return;
    if (this.stopped) {
      this.drop(points.length, 'telemetry written after stop');
      return;
    }
    for (const p of points) this.batch.push(p);
    if (this.batch.length >= this.cfg.batchSize) this.cut();
    else this.flushTimer ??= setTimeout(() => this.cut(), this.cfg.flushInterval).unref();
  }

  /** Resolves once every point written before the call is in InfluxDB, refused by it, or on disk. */
  async flush(): Promise<void> {
    this.cut();
    const target = this.batches;
    if (this.settled(target)) return;
    await new Promise<void>((resolve) => this.waiters.push({ n: target, resolve }));
  }

  /** The last batches to InfluxDB if it takes them within `timeout`, else to the disk buffer. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.probeTimer);
    this.cut();
    let timer: NodeJS.Timeout | undefined;
    const last = async () => {
      if (this.connecting) await this.connecting;
      if (this.mode === 'direct' || this.mode === 'draining') await this.pump();
    };
    await Promise.race([last(), new Promise<void>((r) => (timer = setTimeout(r, this.cfg.timeout).unref()))]);
    clearTimeout(timer);
    this.spillQueue();
    this.stopped = true;
    this.connected = false;
    this.disk?.close();
    this.log.info('telemetry writer stopped', { buffered: this.disk?.size ?? 0, written: this.written });
  }

  status(): TelemetryStatus {
    const s: TelemetryStatus = {
      enabled: true,
      connected: this.connected,
      buffered: this.bufferedPoints(),
      dropped: this.dropped,
      written: this.written,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  private bufferedPoints(): number {
    let n = this.batch.length + (this.disk?.size ?? 0);
    for (const b of this.queue) n += b.points.length;
    return n;
  }

  /** The batch being filled becomes one (or more) batches to send. */
  private cut(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const size = this.cfg.batchSize;
    while (this.batch.length > 0) {
      const all = this.batch;
      this.batch = all.length > size ? all.slice(size) : [];
      this.dispatch(all.length > size ? all.slice(0, size) : all);
    }
  }

  private dispatch(points: TelemetryPoint[]): void {
    const b: Batch = { n: ++this.batches, points };
    if ((this.mode === 'direct' || this.mode === 'connecting') && this.queue.length < MAX_QUEUED_BATCHES) {
      this.queue.push(b);
      if (this.mode === 'direct') void this.pump();
      return;
    }
    // InfluxDB slower than the sensors: the disk takes the overflow and is drained after the queue.
    if (this.mode === 'direct') this.mode = 'draining';
    this.toDisk(points);
    if (this.mode === 'draining') void this.pump();
  }

  private settled(n: number): boolean {
    return this.queue.length === 0 || this.queue[0].n > n;
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.settled(w.n)) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private pump(): Promise<void> {
    this.pumping ??= this.pumpLoop().finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  /** One request at a time: the memory queue first (it is older than the disk's content), then the disk. */
  private async pumpLoop(): Promise<void> {
    while (this.mode === 'direct' || this.mode === 'draining') {
      const b = this.queue[0];
      if (b) {
        const r = await this.send(b.points);
        // stop() gave up waiting and put the queue on disk: a repeat is harmless (same series and time).
        if (this.queue[0] !== b) continue;
        if (r === 'transient') return this.goDown();
        this.queue.shift();
        this.settle();
        continue;
      }
      if (this.mode !== 'draining' || this.stopping) return;
      const chunk = this.disk?.peek(this.cfg.batchSize);
      if (!chunk) {
        this.mode = 'direct';
        if (this.drained > 0)
          this.log.info('telemetry buffer drained into InfluxDB', { points: this.drained });
        this.drained = 0;
        return;
      }
      const r = await this.send(chunk.points);
      if (r === 'transient') return this.goDown();
      this.disk?.ack(chunk);
      this.drained += chunk.points.length;
    }
  }

  private async send(points: readonly TelemetryPoint[]): Promise<Sent> {
    const out: IPoint[] = [];
    for (const p of points) {
      const ip = toIPoint(p);
      if (ip) out.push(ip);
    }
    if (out.length < points.length) this.reject(points.length - out.length, 'a point without a usable field');
    if (out.length === 0) return 'ok';
    try {
      await this.influx.writePoints(out, {
        precision: 'n',
        database: this.cfg.database,
        retentionPolicy: this.cfg.retentionPolicy,
      });
      this.wrote(out.length);
      return 'ok';
    } catch (err) {
      const status = httpStatus(err);
      const message = influxErrorMessage(err);
      this.lastError = message;
      if (status === 404 || /database not found/i.test(message)) {
        // Dropped behind our back: created again at the next probe, the points wait on disk.
        this.ready = false;
        return 'transient';
      }
      // Credentials are the operator's to fix: keep the points meanwhile.
      if (status === undefined || status >= 500 || status === 401 || status === 403) return 'transient';
      // "partial write: ... dropped=N": InfluxDB wrote the rest of the batch.
      const n = Number(/dropped=(\d+)/.exec(message)?.[1] ?? out.length);
      const refused = Math.min(out.length, n);
      this.wrote(out.length - refused);
      this.reject(refused, message);
      return 'rejected';
    }
  }

  private wrote(n: number): void {
    this.connected = true;
    this.written += n;
    this.counts.written.inc(n);
  }

  private reject(n: number, message: string): void {
    this.counts.rejected.inc(n);
    // One line per kind of error, not per batch: a type conflict repeats with every point.
    const kind = message
      .replace(/"[^"]*"/g, '""')
      .replace(/\d+/g, 'N')
      .slice(0, 200);
    if (this.loggedKinds.has(kind) || this.loggedKinds.size >= MAX_LOGGED_KINDS) return;
    this.loggedKinds.add(kind);
    this.log.warn('InfluxDB refused telemetry points: dropped (logged once per kind of error)', {
      points: n,
      error: message,
    });
  }

  private drop(n: number, why: string): void {
    this.dropped += n;
    this.counts.dropped.inc(n);
    const kind = `drop:${why.replace(/\d+/g, 'N').slice(0, 200)}`;
    if (this.loggedKinds.has(kind) || this.loggedKinds.size >= MAX_LOGGED_KINDS) return;
    this.loggedKinds.add(kind);
    this.log.warn('telemetry points dropped (logged once per reason)', { points: n, reason: why });
  }

  private openDisk(): DiskBuffer | undefined {
    if (this.disk || this.diskFailed) return this.disk;
    try {
      this.disk = DiskBuffer.open(this.cfg.bufferDir, { maxBytes: this.cfg.maxBufferBytes });
      this.diskDropped = this.disk.dropped;
      if (this.disk.size > 0)
        this.log.info('telemetry points left by an earlier run wait for InfluxDB', {
          points: this.disk.size,
        });
    } catch (err) {
      this.diskFailed = true;
      this.log.error('telemetry disk buffer unusable: points are lost while InfluxDB is away', {
        dir: this.cfg.bufferDir,
        error: (err as Error).message,
      });
    }
    return this.disk;
  }

  private toDisk(points: TelemetryPoint[]): void {
    const disk = this.stopped ? undefined : this.openDisk();
    if (!disk) return this.drop(points.length, 'no disk buffer');
    try {
      disk.append(points);
      this.counts.buffered.inc(points.length);
    } catch (err) {
      this.drop(points.length, `disk buffer: ${(err as Error).message}`);
    }
    const lost = disk.dropped - this.diskDropped;
    if (lost > 0) {
      this.diskDropped = disk.dropped;
      this.drop(lost, 'disk buffer full: oldest points dropped');
    }
  }

  /** The memory queue, in order, to the disk. */
  private spillQueue(): void {
    for (const b of this.queue.splice(0)) this.toDisk(b.points);
    this.settle();
  }

  private goDown(): void {
    const wasUp = this.mode === 'direct' || this.mode === 'draining';
    const first = this.mode === 'connecting';
    this.mode = 'down';
    this.connected = false;
    this.spillQueue();
    if (this.stopping) return;
    this.downSince ??= this.clock.now();
    if (wasUp || first)
      this.log.warn(
        first
          ? 'InfluxDB not reachable at start: telemetry waits in the disk buffer'
          : 'InfluxDB unreachable: telemetry waits in the disk buffer',
        { server: this.server, error: this.lastError },
      );
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.stopping || this.probeTimer) return;
    const delay = this.probeDelay;
    this.probeDelay = Math.min(PROBE_MAX_MS, this.probeDelay * 2);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.connect();
    }, delay).unref();
  }

  private connect(): Promise<boolean> {
    this.connecting ??= this.tryConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async tryConnect(): Promise<boolean> {
    try {
      const [ping] = await this.influx.ping(this.cfg.timeout);
      if (!ping?.online)
        throw new Error(ping?.res ? `/ping answered ${ping.res.statusCode}` : 'no answer to /ping');
      if (!this.ready) await this.setup();
    } catch (err) {
      this.lastError = influxErrorMessage(err);
      this.goDown();
      return false;
    }
    if (this.stopped) return false;
    this.connected = true;
    this.probeDelay = PROBE_MIN_MS;
    // stop() waits for this attempt: its last batches then go straight out.
    this.mode = (this.disk?.size ?? 0) > 0 ? 'draining' : 'direct';
    if (this.stopping) return true;
    if (this.downSince !== undefined) {
      this.log.info('InfluxDB is back', {
        server: this.server,
        awayS: Math.round((this.clock.now() - this.downSince) / 1000),
        buffered: this.disk?.size ?? 0,
      });
      this.downSince = undefined;
    }
    void this.pump();
    return true;
  }

  /** Database and retention policy (DURATION `retention`, REPLICATION 1, DEFAULT), created or corrected. */
  private async setup(): Promise<void> {
    const db = this.cfg.database;
    const name = this.cfg.retentionPolicy;
    const ms = Math.max(MIN_RETENTION_MS, this.cfg.retention);
    const options = { database: db, duration: durationLiteral(ms), replication: 1, isDefault: true };
    try {
      if (!(await this.influx.getDatabaseNames()).includes(db)) {
        await this.influx.createDatabase(db);
        this.log.info('InfluxDB database created', { database: db });
      }
      const rp = (await this.influx.showRetentionPolicies(db)).find((r) => r.name === name);
      if (!rp) {
        await this.influx.createRetentionPolicy(name, options);
        this.log.info('InfluxDB retention policy created', {
          database: db,
          name,
          duration: options.duration,
        });
      } else if (goDurationMs(rp.duration) !== ms || !rp.default) {
        await this.influx.alterRetentionPolicy(name, options);
        this.log.info('InfluxDB retention policy altered', {
          database: db,
          name,
          duration: options.duration,
        });
      }
    } catch (err) {
      const status = httpStatus(err);
      if (status !== 401 && status !== 403) throw err;
      // A write-only user may not manage databases: use them as an administrator left them.
      this.log.warn('InfluxDB user may not create the database or retention policy: using them as they are', {
        database: db,
        error: influxErrorMessage(err),
      });
    }
    if (this.cfg.retention < MIN_RETENTION_MS)
      this.log.warn('telemetry retention below InfluxDB minimum: 1h used', {
        retentionMs: this.cfg.retention,
      });
    this.ready = true;
  }
}
