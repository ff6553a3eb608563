/*
 * Telemetry: what the gateway records for history, charts and dashboards.
 *
 * Three measurements, in InfluxDB and described in README "Telemetry":
 *   sensor        tags site, zone, kind, device          fields: the event's values (numbers,
 *                                                        booleans, strings), `battery`, `online`
 *                                                        (status events), `openMs` (on the event
 *                                                        that closes a door: how long it was open)
 *   incident      tags site, zone, rule, severity,       fields: id (string), device (string),
 *                      transition (opened|acknowledged|  ttaMs (on acknowledged), ttrMs (on resolved),
 *                      escalated|cleared|resolved)       openMs (on cleared), step (on escalated),
 *                                                        count = 1
 *   notification  tags site, zone, channel, outcome      fields: incident (string), delivery (string),
 *                      (delivered|sent|failed|retry|     latencyMs, attempt, success (1 for delivered
 *                      cancelled|suppressed), severity   or sent, else 0)
 * Points carry epoch milliseconds; they are written with precision ns so that `tiebreak` can keep
 * two points of one series in the same millisecond apart.
 */

export type FieldValue = number | boolean | string;

/** A field name a chart may ask for: also what keeps it safe inside an InfluxQL query. */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export type Measurement = 'sensor' | 'incident' | 'notification';

export interface TelemetryPoint {
  measurement: Measurement;
  tags: Readonly<Record<string, string>>;
  fields: Readonly<Record<string, FieldValue>>;
  /** Epoch ms. */
  time: number;
  /**
   * Nanoseconds added to `time` (0..999999) so two points of one series in the same millisecond do
   * not overwrite each other in InfluxDB (a point is keyed by series and time): timeline points use
   * their `seq` modulo 1e6.
   */
  tiebreak?: number;
}

/** Where points go: the InfluxDB writer. Never throws and never blocks: it buffers instead. */
export interface TelemetrySink {
  write(points: readonly TelemetryPoint[]): void;
}

export interface TelemetryStatus {
  /** False when no InfluxDB is configured. */
  enabled: boolean;
  /** The last write or ping succeeded. */
  connected: boolean;
  /** Points waiting in memory and on disk. */
  buffered: number;
  /** Points dropped because the disk buffer was full, since start. */
  dropped: number;
  /** Points written to InfluxDB since start. */
  written: number;
  lastError?: string;
}

/** One chart series: a device's field over time. */
export interface HistorySeries {
  device: string;
  field: string;
  /** Where the points came from. */
  source: 'influx' | 'store';
  /** [epoch ms, value] ascending; booleans as 1/0. */
  points: [number, number][];
}

export interface ZoneKpi {
  zone: string;
  /** Open or acknowledged now (always from the gateway's store: it is the live truth). */
  open: number;
  /** Incidents opened in the window. */
  opened: number;
  /** Mean time to acknowledge / resolve over the window, ms; absent when none was. */
  mttaMs?: number;
  mttrMs?: number;
}

export interface Kpis {
  /** Where the durations came from. */
  source: 'influx' | 'store';
  since: number;
  until: number;
  open: number;
  opened: number;
  mttaMs?: number;
  mttrMs?: number;
  zones: ZoneKpi[];
}

/** What the console's charts and KPI tiles read: InfluxDB when configured, else the gateway's store. */
export interface HistoryReader {
  series(device: string, field: string, since: number, until: number): Promise<HistorySeries>;
  kpis(since: number, until: number): Promise<Kpis>;
}

/** A row of the audit trail with what telemetry needs of its incident (telemetry/timeline-tail.ts). */
export interface TimelineRow {
  /** The timeline's own sequence number: unique and increasing. */
  seq: number;
  incidentId: string;
  at: number;
  kind: string;
  actor: string;
  detail: Readonly<Record<string, unknown>>;
  site: string;
  zone: string;
  rule: string;
  severity: string;
  device: string;
  openedAt: number;
}
