import type { Database, Statement } from 'better-sqlite3';
import type { SensorEvent } from '../../../rules/src/model.js';
import type { HistoryConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { HistorySeries } from './model.js';

/** A value that has not changed is still recorded this often, so a chart has no silent gap. */
const KEEPALIVE_MS = 5 * 60_000;
/** Points a chart gets at most; more are averaged into buckets on the way out. */
const MAX_POINTS = 300;
const MAX_PENDING = 50_000;

interface Last {
  at: number;
  value: number;
}

/**
 * The gateway's own history of sensor values (SQLite), for the console's charts when InfluxDB is not
 * configured or away. It is a short, thinned record, not a time-series database: per device and
 * field, a number is kept at most every `minInterval` (plus once every 5 minutes when it does not
 * move) and a boolean at every change. Kept for `retention`.
 * On the hot path `record` only compares with the last kept value and pushes; rows go to SQLite
 * in one transaction per `flush`.
 */
export class LocalHistory {
  private readonly last = new Map<string, Map<string, Last>>();
  private pending: [string, string, number, number][] = [];
  private dropped = 0;
  private readonly s: Record<'insert' | 'prune' | 'range', Statement>;

  constructor(
    private readonly db: Database,
    private readonly cfg: HistoryConfig,
    private readonly logger: Logger,
  ) {
    this.s = {
      insert: db.prepare('INSERT INTO samples (device_id, field, at, value) VALUES (?, ?, ?, ?)'),
      prune: db.prepare('DELETE FROM samples WHERE at < ?'),
      range: db.prepare(
        'SELECT at, value FROM samples WHERE device_id = ? AND field = ? AND at >= ? AND at <= ? ORDER BY at',
      ),
    };
  }

  record(ev: SensorEvent): void {
    const values = ev.values;
    for (const field in values) {
      const raw = values[field];
      let value: number;
      let isBool = false;
      if (typeof raw === 'number') {
        if (!Number.isFinite(raw)) continue;
        value = raw;
      } else if (typeof raw === 'boolean') {
        value = raw ? 1 : 0;
        isBool = true;
      } else continue;
      this.keep(ev.deviceId, field, ev.ts, value, isBool);
    }
    if (ev.battery !== undefined) this.keep(ev.deviceId, 'battery', ev.ts, ev.battery, false);
  }

  private keep(device: string, field: string, at: number, value: number, isBool: boolean): void {
    let fields = this.last.get(device);
    if (!fields) this.last.set(device, (fields = new Map()));
    const prev = fields.get(field);
    if (prev) {
      const gap = at - prev.at;
      // An event older than the last kept one (a late or replayed message) would draw backwards.
      if (gap < 0) return;
      const changed = value !== prev.value;
      const due = isBool ? changed : changed && gap >= this.cfg.minInterval;
      if (!due && gap < KEEPALIVE_MS) return;
      prev.at = at;
      prev.value = value;
    } else fields.set(field, { at, value });
    if (this.pending.length >= MAX_PENDING) {
      // SQLite has not been flushed for a long while (a stalled disk): thin rather than grow.
      this.dropped++;
      return;
    }
    this.pending.push([device, field, at, value]);
  }

  /** Writes what `record` kept; a failure is logged and the rows are retried at the next flush. */
  flush(): void {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    try {
      this.db.transaction(() => {
        for (const r of rows) this.s.insert.run(r[0], r[1], r[2], r[3]);
      })();
    } catch (err) {
      this.pending = rows.concat(this.pending).slice(-MAX_PENDING);
      this.logger.warn('could not write the local history', { error: (err as Error).message });
    }
    if (this.dropped > 0) {
      this.logger.warn('local history fell behind: samples thinned', { dropped: this.dropped });
      this.dropped = 0;
    }
  }

  prune(now: number): number {
    return this.s.prune.run(now - this.cfg.retention).changes;
  }

  series(device: string, field: string, since: number, until: number): HistorySeries {
    const rows = this.s.range.all(device, field, since, until) as { at: number; value: number }[];
    return { device, field, source: 'store', points: thin(rows, since, until) };
  }
}

/** At most MAX_POINTS points: bucket means over the span, each at its bucket's first sample. */
function thin(
  rows: readonly { at: number; value: number }[],
  since: number,
  until: number,
): [number, number][] {
  if (rows.length <= MAX_POINTS) return rows.map((r) => [r.at, r.value]);
  const width = Math.max(1, Math.ceil((until - since) / MAX_POINTS));
  const out: [number, number][] = [];
  let bucket = -1;
  let sum = 0;
  let n = 0;
  let at = 0;
  for (const r of rows) {
    const b = Math.floor((r.at - since) / width);
    if (b !== bucket) {
      if (n > 0) out.push([at, sum / n]);
      bucket = b;
      sum = 0;
      n = 0;
      at = r.at;
    }
    sum += r.value;
    n++;
  }
  if (n > 0) out.push([at, sum / n]);
  return out;
}
