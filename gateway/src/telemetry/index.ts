import type { Database, Statement } from 'better-sqlite3';
import { join } from 'node:path';
import type { SensorEvent } from '../../../rules/src/model.js';
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Registry } from '../core/metrics.js';
import type { Site } from '../site/model.js';
import { CombinedHistory } from './history-reader.js';
import { InfluxReader } from './influx-reader.js';
import { InfluxWriter } from './influx-writer.js';
import { LocalHistory } from './local-history.js';
import type { HistoryReader, TelemetryStatus } from './model.js';
import { SensorPoints, timelinePoint } from './points.js';
import { StoreKpis } from './store-kpis.js';
import { TimelineTail } from './timeline-tail.js';

export type { HistoryReader, TelemetryStatus } from './model.js';

const CURSOR_KEY = 'telemetry.timeline_seq';
/** Timeline rows turned into points per turn. */
const TIMELINE_BATCH = 1000;
const HISTORY_FLUSH_MS = 1000;
const PRUNE_MS = 60 * 60_000;

export interface TelemetryDeps {
  db: Database;
  config: Config['telemetry'];
  dataDir: string;
  site: Site;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
}

/**
 * Everything the gateway records for later: the local history (always) and InfluxDB (when
 * configured). Sensor values come in from the pipeline's hot path (`sensor`); incident transitions
 * and notification outcomes are read from the audit trail with a durable cursor, moved only once
 * their points are in InfluxDB or in the disk buffer, so a crash never loses one.
 */
export class Telemetry {
  readonly reader: HistoryReader;
  private readonly history: LocalHistory;
  private readonly writer: InfluxWriter | undefined;
  private readonly points = new SensorPoints();
  private readonly devices: Map<string, { zone: string; kind: string }>;
  private readonly tail: TimelineTail;
  private readonly timers: NodeJS.Timeout[] = [];
  private forwarding: Promise<void> | undefined;
  private readonly cursorSql: Record<'get' | 'set', Statement>;

  constructor(private readonly d: TelemetryDeps) {
    const logger = d.logger;
    this.history = new LocalHistory(d.db, d.config.history, logger);
    this.devices = new Map(d.site.devices.map((x) => [x.id, { zone: x.zone, kind: x.kind }]));
    this.tail = new TimelineTail(d.db);
    this.cursorSql = {
      get: d.db.prepare('SELECT value FROM meta WHERE key = ?'),
      set: d.db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
    const influx = d.config.influx;
    if (influx) {
      this.writer = new InfluxWriter(
        { ...influx, bufferDir: influx.bufferDir ?? join(d.dataDir, 'telemetry') },
        { logger, metrics: d.metrics, clock: d.clock },
      );
    }
    this.reader = new CombinedHistory({
      local: this.history,
      kpis: new StoreKpis(d.db),
      ...(influx ? { influx: new InfluxReader(influx, { logger, timeoutMs: influx.timeout }) } : {}),
      logger,
    });
  }

  /** Hot path: one comparison per field for the local history, one point pushed for InfluxDB. */
  sensor(ev: SensorEvent): void {
    this.history.record(ev);
    if (!this.writer) return;
    const p = this.points.point(ev, this.devices.get(ev.deviceId));
    if (p) this.writer.write([p]);
  }

  async start(): Promise<void> {
    this.history.prune(this.d.clock.now());
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(HISTORY_FLUSH_MS, () => this.history.flush());
    every(PRUNE_MS, () => this.history.prune(this.d.clock.now()));
    if (this.writer) {
      // Never throws; InfluxDB being away at start is an outage like any other.
      await this.writer.start();
      every(this.d.config.influx?.flushInterval ?? 1000, () => void this.forward());
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.history.flush();
    if (this.writer) {
      await this.forward();
      await this.writer.stop();
    }
  }

  status(): TelemetryStatus {
    return this.writer?.status() ?? { enabled: false, connected: false, buffered: 0, dropped: 0, written: 0 };
  }

  /** Timeline rows to points, one turn at a time (a turn still running is joined, not doubled). */
  forward(): Promise<void> {
    this.forwarding ??= this.forwardRows().finally(() => (this.forwarding = undefined));
    return this.forwarding;
  }

  private async forwardRows(): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    let cursor = this.cursor();
    for (;;) {
      const rows = this.tail.after(cursor, TIMELINE_BATCH);
      if (rows.length === 0) return;
      const points = [];
      for (const r of rows) {
        const p = timelinePoint(r);
        if (p) points.push(p);
      }
      writer.write(points);
      // In InfluxDB or in the disk buffer: only then is the cursor moved past these rows.
      await writer.flush();
      cursor = rows[rows.length - 1].seq;
      this.saveCursor(cursor);
      if (rows.length < TIMELINE_BATCH) return;
    }
  }

  private cursor(): number {
    const row = this.cursorSql.get.get(CURSOR_KEY) as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }

  private saveCursor(seq: number): void {
    this.cursorSql.set.run(CURSOR_KEY, String(seq));
  }
}
