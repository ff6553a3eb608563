import type { InfluxDB } from 'influx';
import type { InfluxConfig } from '../config/schema.js';
import { VigieError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { influxClient } from './influx-client.js';
import { FIELD_NAME, type HistorySeries } from './model.js';
import type { Durations } from './store-kpis.js';

/*
 * What the console's charts and KPI tiles ask InfluxDB (measurements in model.ts). Every method
 * throws when InfluxDB cannot answer: the caller (history-reader.ts) falls back to the gateway's store.
 */

/** A chart is a few hundred pixels wide: more points than this draw nothing more. */
const BUCKETS = 300;
/** Booleans are not averaged (mean() refuses them): the latest state changes, raw. */
const MAX_RAW = 5000;
/** A field not seen yet is looked up again at most this often. */
const FIELD_KEYS_TTL_MS = 10_000;

interface RawResult {
  error?: string;
  series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
}

/** An InfluxQL string literal: `'` and `\` escaped, newlines written as `\n` (a raw one ends the string). */
export function influxString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

export class InfluxReader {
  private readonly influx: InfluxDB;
  private readonly from: (measurement: string) => string;
  private fieldTypes = new Map<string, string>();
  private fieldTypesAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly cfg: InfluxConfig,
    deps: { logger: Logger; timeoutMs?: number },
  ) {
    this.influx = influxClient(cfg, deps.timeoutMs ?? cfg.timeout);
    // Qualified with the writer's policy: another one may be (made) the default.
    this.from = (m) => `"${cfg.retentionPolicy}"."${m}"`;
  }

  /** A device's field over [since, until]: numbers averaged into at most ~300 buckets, booleans raw as 1/0. */
  async series(device: string, field: string, since: number, until: number): Promise<HistorySeries> {
    if (!FIELD_NAME.test(field))
      throw new VigieError(
        'VIGIE_ERR_BAD_REQUEST',
        `field must be a name (letters, digits, _): ${field.slice(0, 80)}`,
      );
    if (!Number.isFinite(since) || !Number.isFinite(until) || until < since)
      throw new VigieError('VIGIE_ERR_BAD_REQUEST', 'since and until must be epoch ms, since before until');
    const out: HistorySeries = { device, field, source: 'influx', points: [] };
    const type = await this.fieldType(field);
    if (type !== 'float' && type !== 'integer' && type !== 'boolean') return out;
    const where = `"device" = ${influxString(device)} AND time >= ${Math.floor(since)}ms AND time <= ${Math.floor(until)}ms`;
    if (type === 'boolean') {
      const [r = {}] = await this.query(
        `SELECT "${field}" FROM ${this.from('sensor')} WHERE ${where} ORDER BY time DESC LIMIT ${MAX_RAW}`,
      );
      for (const [t, v] of r.series?.[0]?.values ?? []) {
        if (typeof t === 'number' && typeof v === 'boolean') out.points.push([t, v ? 1 : 0]);
      }
      out.points.reverse();
      return out;
    }
    const bucket = Math.max(1, Math.ceil((until - since) / BUCKETS));
    const [r = {}] = await this.query(
      `SELECT mean("${field}") FROM ${this.from('sensor')} WHERE ${where} GROUP BY time(${bucket}ms) fill(none)`,
    );
    for (const [t, v] of r.series?.[0]?.values ?? []) {
      if (typeof t === 'number' && typeof v === 'number') out.points.push([t, v]);
    }
    return out;
  }

  /**
   * Incidents opened in the window, and the mean time to acknowledge / resolve of the
   * acknowledgements and resolutions that happened in it; overall and per zone.
   */
  async durations(since: number, until: number): Promise<Durations> {
    const from = this.from('incident');
    const when = `time >= ${Math.floor(since)}ms AND time <= ${Math.floor(until)}ms`;
    const opened = `SELECT count("count") AS "opened" FROM ${from} WHERE "transition" = 'opened' AND ${when}`;
    const means = `SELECT mean("ttaMs") AS "tta", mean("ttrMs") AS "ttr" FROM ${from} WHERE ${when}`;
    const [all = {}, byZone = {}, meanAll = {}, meanByZone = {}] = await this.query(
      `${opened}; ${opened} GROUP BY "zone"; ${means}; ${means} GROUP BY "zone"`,
    );
    const zones = new Map<string, { zone: string; opened: number; mttaMs?: number; mttrMs?: number }>();
    const zone = (name: string) => {
      let z = zones.get(name);
      if (!z) zones.set(name, (z = { zone: name, opened: 0 }));
      return z;
    };
    for (const s of byZone.series ?? []) zone(s.tags?.zone ?? 'unknown').opened = num(row(s, 'opened')) ?? 0;
    for (const s of meanByZone.series ?? []) {
      const z = zone(s.tags?.zone ?? 'unknown');
      setMean(z, 'mttaMs', row(s, 'tta'));
      setMean(z, 'mttrMs', row(s, 'ttr'));
    }
    const total = all.series?.[0];
    const m = meanAll.series?.[0];
    const out: Durations = {
      opened: (total && num(row(total, 'opened'))) ?? 0,
      zones: [...zones.values()].sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0)),
    };
    if (m) {
      setMean(out, 'mttaMs', row(m, 'tta'));
      setMean(out, 'mttrMs', row(m, 'ttr'));
    }
    return out;
  }

  private async fieldType(field: string): Promise<string | undefined> {
    const known = this.fieldTypes.get(field);
    if (known !== undefined || Date.now() - this.fieldTypesAt < FIELD_KEYS_TTL_MS) return known;
    const [r = {}] = await this.query(`SHOW FIELD KEYS FROM ${this.from('sensor')}`);
    const types = new Map<string, string>();
    for (const [k, t] of r.series?.[0]?.values ?? []) {
      // A field written with two types (two shards) is charted when either is a number.
      if (typeof k === 'string' && typeof t === 'string' && (!types.has(k) || t !== 'string'))
        types.set(k, t);
    }
    this.fieldTypes = types;
    this.fieldTypesAt = Date.now();
    return types.get(field);
  }

  private async query(q: string): Promise<RawResult[]> {
    const body = (await this.influx.queryRaw(q, { database: this.cfg.database, precision: 'ms' })) as {
      results?: RawResult[];
      error?: string;
    };
    if (body.error) throw new Error(`InfluxDB: ${body.error}`);
    const results = body.results ?? [];
    for (const r of results) if (r.error) throw new Error(`InfluxDB: ${r.error}`);
    return results;
  }
}

/** The value of `column` in the first row of a series. */
function row(s: { columns: string[]; values: unknown[][] }, column: string): unknown {
  const i = s.columns.indexOf(column);
  return i < 0 ? undefined : s.values[0]?.[i];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function setMean(o: { mttaMs?: number; mttrMs?: number }, key: 'mttaMs' | 'mttrMs', v: unknown): void {
  const n = num(v);
  if (n !== undefined) o[key] = Math.round(n);
}
