import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { FieldValue, TelemetryPoint } from '../../src/telemetry/model.js';
import type { Influxd, InfluxResult } from './influxd.js';

/**
 * The Grafana dashboards (dashboards/grafana) as a test sees them: their panels' InfluxQL with
 * Grafana's macros expanded, a day of the example airport written in the telemetry schema
 * (gateway/src/telemetry/model.ts), and every panel run against a real InfluxDB.
 */

export const ROOT = resolve(import.meta.dirname, '../../../..');
export const GRAFANA_DIR = join(ROOT, 'dashboards/grafana');
export const DASHBOARDS_DIR = join(GRAFANA_DIR, 'dashboards');
export const DATASOURCE_UID = 'vigie-influxdb';

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId: string;
  datasource?: DatasourceRef;
  rawQuery?: boolean;
  query?: string;
  resultFormat?: string;
  alias?: string;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FieldOverride {
  matcher: { id: string; options?: unknown };
  properties: { id: string; value?: unknown }[];
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: GridPos;
  datasource?: DatasourceRef;
  targets?: Target[];
  /** A row's panels: kept here while the row is collapsed. */
  panels?: Panel[];
  collapsed?: boolean;
  /** Grafana's "min interval": `$__interval` is never shorter. */
  interval?: string;
  /** Grafana's relative time override: this panel always shows the last `timeFrom`. */
  timeFrom?: string;
  fieldConfig?: { defaults?: { unit?: string }; overrides?: FieldOverride[] };
}

export interface Variable {
  name: string;
  type: string;
  query?: string;
  datasource?: DatasourceRef;
  multi?: boolean;
  includeAll?: boolean;
  current?: { text?: string | string[]; value?: string | string[] };
}

export interface Annotation {
  name: string;
  builtIn?: number;
  enable?: boolean;
  datasource?: DatasourceRef;
  query?: string;
}

export interface Dashboard {
  /** The file it was read from (set by loadDashboards, not part of Grafana's model). */
  file: string;
  uid: string;
  title: string;
  schemaVersion: number;
  editable: boolean;
  refresh: string;
  time: { from: string; to: string };
  tags?: string[];
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  query: string;
  interval?: string;
  timeFrom?: string;
}

export function loadDashboards(dir: string = DASHBOARDS_DIR): Dashboard[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      try {
        return { ...(JSON.parse(readFileSync(file, 'utf8')) as Omit<Dashboard, 'file'>), file };
      } catch (err) {
        throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
      }
    });
}

/** Every panel, rows included, with the panels of collapsed rows. */
export function allPanels(d: Pick<Dashboard, 'panels'>): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export function panelQueries(d: Dashboard): PanelQuery[] {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      dashboard: d.uid,
      panel: p.title,
      refId: t.refId,
      query: t.query ?? '',
      ...(p.interval ? { interval: p.interval } : {}),
      ...(p.timeFrom ? { timeFrom: p.timeFrom } : {}),
    })),
  );
}

/** The InfluxDB annotation queries (markers drawn on every time series). */
export function annotationQueries(d: Dashboard): PanelQuery[] {
  return d.annotations.list
    .filter((a) => a.datasource?.uid === DATASOURCE_UID)
    .map((a) => ({
      dashboard: d.uid,
      panel: `annotation: ${a.name}`,
      refId: 'annotation',
      query: a.query ?? '',
    }));
}

export function variableQueries(d: Dashboard): PanelQuery[] {
  return d.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({
      dashboard: d.uid,
      panel: `variable: ${v.name}`,
      refId: 'variable',
      query: v.query ?? '',
    }));
}

export interface MacroContext {
  from: number;
  to: number;
  intervalMs: number;
  /** The zones selected; All is every value of the variable's query. */
  zone?: readonly string[];
  /** Other single-valued variables (a textbox), substituted as typed. */
  vars?: Readonly<Record<string, string>>;
}

/**
 * A query as Grafana sends it to InfluxDB: dashboard variables first (the browser), then the
 * InfluxQL data source's macros (pkg/tsdb/influxdb/models/query.go: `$timeFilter` as
 * `time >= Xms and time <= Yms`, `$interval` and `$__interval` as a whole unit, `$__interval_ms`).
 * `$__timeFilter` is not one of them: a query using it would reach InfluxDB as typed, so it is
 * refused here like any variable left over.
 */
export function expandMacros(query: string, ctx: MacroContext): string {
  let q = query.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    if (name === 'zone' && ctx.zone) return regexAlternatives(ctx.zone);
    if (ctx.vars && Object.hasOwn(ctx.vars, name)) return ctx.vars[name];
    return m;
  });
  const interval = formatInterval(ctx.intervalMs);
  q = q
    .replaceAll('$timeFilter', `time >= ${Math.floor(ctx.from)}ms and time <= ${Math.floor(ctx.to)}ms`)
    .replaceAll('$interval', interval)
    .replaceAll('$__interval_ms', String(Math.floor(ctx.intervalMs)))
    .replaceAll('$__interval', interval);
  const left = /\$\{?\w+/.exec(q);
  if (left) throw new Error(`variable ${left[0]} left unexpanded in: ${q}`);
  return q;
}

/** A multi-value variable inside `/^$zone$/`, escaped the way Grafana's InfluxDB data source does. */
function regexAlternatives(values: readonly string[]): string {
  if (values.length === 0) throw new Error('no zone selected');
  const escaped = values.map((v) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&'));
  return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
}

const UNITS: [string, number][] = [
  ['y', 365 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** Grafana's interval text: the largest unit that fits, truncated (90 s is "1m"). */
export function formatInterval(ms: number): string {
  for (const [unit, size] of UNITS) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  const size = m[2] === 'w' ? 7 * 86_400_000 : UNITS.find(([u]) => u === m[2])![1];
  return Number(m[1]) * size;
}

// ----------------------------------------------------------------------------------------------
// Running every panel

export type InfluxTarget = Pick<Influxd, 'url' | 'query'>;

export interface CheckRange {
  from: number;
  to: number;
  /** What Grafana would compute for the range and panel width; a panel's min interval wins. */
  intervalMs: number;
  /** Default: All (the values the zone variable's own query returns). */
  zone?: string[];
  vars?: Record<string, string>;
  /** Default: the dashboards in dashboards/grafana/dashboards. */
  dashboards?: Dashboard[];
}

export interface PanelCheck extends PanelQuery {
  /** What was sent to InfluxDB. */
  expanded: string;
  series: number;
  /** Cells other than `time` that are not null. */
  values: number;
  /** Of those, the ones that are not 0 (a `fill(0)` query over nothing is all zeros). */
  nonZero: number;
  error?: string;
}

/** Runs every panel, annotation and variable query of the dashboards; never throws for one query. */
export async function checkAllPanels(
  influx: InfluxTarget,
  db: string,
  range: CheckRange,
): Promise<PanelCheck[]> {
  const checks: PanelCheck[] = [];
  for (const d of range.dashboards ?? loadDashboards()) {
    const vars = { ...textVariables(d), ...range.vars };
    const zone = range.zone ?? (await zoneValues(influx, db, d));
    for (const pq of [...variableQueries(d), ...annotationQueries(d), ...panelQueries(d)]) {
      const from = pq.timeFrom ? range.to - parseDuration(pq.timeFrom) : range.from;
      const intervalMs = Math.max(range.intervalMs, pq.interval ? parseDuration(pq.interval) : 0);
      const check: PanelCheck = { ...pq, expanded: '', series: 0, values: 0, nonZero: 0 };
      checks.push(check);
      try {
        check.expanded = expandMacros(pq.query, { from, to: range.to, intervalMs, zone, vars });
        count(check, await influx.query(db, check.expanded));
      } catch (err) {
        check.error = (err as Error).message;
      }
    }
  }
  return checks;
}

function count(check: PanelCheck, results: InfluxResult[]): void {
  for (const s of results.flatMap((r) => r.series ?? [])) {
    check.series++;
    const timeCol = s.columns.indexOf('time');
    for (const row of s.values) {
      row.forEach((v, i) => {
        if (i === timeCol || v === null || v === undefined) return;
        check.values++;
        if (v !== 0) check.nonZero++;
      });
    }
  }
}

/** Throws, naming each one, when a query failed or found nothing to draw. */
export function assertPanelData(checks: readonly PanelCheck[]): void {
  const bad = checks.filter((c) => c.error !== undefined || c.nonZero === 0);
  if (bad.length === 0) return;
  const lines = bad.map(
    (c) =>
      `${c.dashboard} / ${c.panel} [${c.refId}]: ${c.error ?? `no data (${c.series} series)`}\n    ${c.expanded}`,
  );
  throw new Error(`${bad.length} of ${checks.length} queries drew nothing:\n${lines.join('\n')}`);
}

async function zoneValues(influx: InfluxTarget, db: string, d: Dashboard): Promise<string[] | undefined> {
  const v = d.templating.list.find((x) => x.name === 'zone' && x.type === 'query');
  if (!v?.query) return undefined;
  const [res] = await influx.query(db, v.query);
  const values = (res?.series ?? []).flatMap((s) =>
    s.values.map((row) => String(row[s.columns.indexOf('value')])),
  );
  return values.length > 0 ? values : undefined;
}

/** Textbox, custom and constant variables at their saved value. */
function textVariables(d: Dashboard): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of d.templating.list) {
    if (v.type === 'query') continue;
    const current = v.current?.value;
    const value = Array.isArray(current) ? current[0] : (current ?? v.query);
    if (value !== undefined) out[v.name] = value;
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// A day at the example airport

interface SiteDevice {
  id: string;
  kind: string;
  zone: string;
  source?: unknown;
}

export interface SeedSummary {
  from: number;
  to: number;
  points: number;
  zones: string[];
  opened: number;
  critical: number;
  escalations: number;
  meanTtaMs: number;
  meanTtrMs: number;
  /** The longest door opening (sensor openMs). */
  longestOpenMs: number;
  /** delivered or sent / (delivered, sent or failed), all channels and per channel. */
  deliverySuccess: number;
  successByChannel: Record<string, number>;
}

const DAY = 86_400_000;
const MIN = 60_000;

/**
 * Writes 24 hours ending at `endMs` of the example site (rules/examples/site.yaml): temperatures
 * with a hot afternoon at the gates and a server-room cooling failure, doors opening through the
 * terminal's hours (a few held open), an AED taken out, an appliance fault, a Zigbee door going
 * offline; the incidents those open, acknowledged, escalated, cleared and resolved; and their
 * notifications per channel with retries, failures, cancellations. Same points for the same
 * `endMs`. Creates the database like the gateway does (retention policy `vigie`, the default).
 */
export async function seedAirportDay(influx: InfluxTarget, db: string, endMs: number): Promise<SeedSummary> {
  const site = parse(readFileSync(join(ROOT, 'rules/examples/site.yaml'), 'utf8')) as {
    site: string;
    timezone: string;
    devices: SiteDevice[];
  };
  const points = new AirportDay(site.site, site.timezone, site.devices, endMs).generate();
  await createDatabase(influx, db);
  const lines = points.map(lineProtocol);
  for (let i = 0; i < lines.length; i += 5000) {
    const r = await fetch(`${influx.url}/write?db=${encodeURIComponent(db)}&precision=ms`, {
      method: 'POST',
      body: lines.slice(i, i + 5000).join('\n'),
    });
    if (r.status !== 204) throw new Error(`influx write ${r.status}: ${await r.text()}`);
  }
  return summarize(points, endMs - DAY, endMs);
}

async function createDatabase(influx: InfluxTarget, db: string): Promise<void> {
  const [res] = await influx.query(db, 'SHOW DATABASES');
  if ((res?.series?.[0]?.values ?? []).some((v) => v[0] === db)) return;
  const q = `CREATE DATABASE "${db}" WITH DURATION 30d REPLICATION 1 NAME "vigie"`;
  const r = await fetch(`${influx.url}/query?q=${encodeURIComponent(q)}`, { method: 'POST' });
  if (!r.ok) throw new Error(`influx ${r.status}: ${await r.text()}`);
}

/** InfluxDB line protocol (docs.influxdata.com/influxdb/v1.6/write_protocols/line_protocol_reference). */
export function lineProtocol(p: TelemetryPoint): string {
  const esc = (s: string) => s.replace(/[,= ]/g, '\\$&');
  const tags = Object.entries(p.tags)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `,${esc(k)}=${esc(v)}`)
    .join('');
  const fields = Object.entries(p.fields)
    .map(([k, v]) => `${esc(k)}=${fieldValue(v)}`)
    .join(',');
  return `${p.measurement}${tags} ${fields} ${Math.round(p.time)}`;
}

function fieldValue(v: FieldValue): string {
  if (typeof v === 'string') return `"${v.replace(/["\\]/g, '\\$&')}"`;
  return String(v);
}

function summarize(points: TelemetryPoint[], from: number, to: number): SeedSummary {
  const inRange = points.filter((p) => p.time >= from && p.time <= to);
  const of = (m: string, transition?: string) =>
    inRange.filter((p) => p.measurement === m && (!transition || p.tags.transition === transition));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const num = (p: TelemetryPoint, f: string) => p.fields[f] as number;
  const final = of('notification').filter((p) => ['delivered', 'sent', 'failed'].includes(p.tags.outcome));
  const successByChannel: Record<string, number> = {};
  for (const ch of new Set(final.map((p) => p.tags.channel))) {
    successByChannel[ch] = mean(final.filter((p) => p.tags.channel === ch).map((p) => num(p, 'success')));
  }
  const opened = of('incident', 'opened');
  return {
    from,
    to,
    points: points.length,
    zones: [...new Set(of('sensor').map((p) => p.tags.zone))].sort(),
    opened: opened.length,
    critical: opened.filter((p) => p.tags.severity === 'critical').length,
    escalations: of('incident', 'escalated').length,
    meanTtaMs: mean(of('incident', 'acknowledged').map((p) => num(p, 'ttaMs'))),
    meanTtrMs: mean(of('incident', 'resolved').map((p) => num(p, 'ttrMs'))),
    longestOpenMs: Math.max(...of('sensor').flatMap((p) => ('openMs' in p.fields ? [num(p, 'openMs')] : []))),
    deliverySuccess: mean(final.map((p) => num(p, 'success'))),
    successByChannel,
  };
}

/** Policies door-security and aed-emergency: voice and SMS first, where the site has them. */
const PEOPLE_CHANNELS = ['voice', 'sms', 'console', 'ops-webhook'];
const STAFF_CHANNELS = ['console', 'ops-webhook'];

interface RulePlan {
  severity: string;
  /** The first tier's wait: an incident not acknowledged by then escalates. */
  escalateAfter?: number;
  channels: string[];
  /** People in the first tier. */
  recipients: number;
}

const plan = (
  severity: string,
  escalateAfter: number | undefined,
  channels: string[],
  recipients: number,
) => ({
  severity,
  escalateAfter,
  channels,
  recipients,
});

/** The example rules (rules/examples/*.yaml) the seeded incidents follow. */
const RULES: Record<string, RulePlan> = {
  'door-held-open': plan('major', 20_000, PEOPLE_CHANNELS, 1),
  'door-forced': plan('major', MIN, STAFF_CHANNELS, 2),
  'door-outside-hours': plan('major', 2 * MIN, STAFF_CHANNELS, 2),
  'temperature-out-of-range': plan('minor', MIN, STAFF_CHANNELS, 2),
  'server-room-overheat': plan('major', MIN, STAFF_CHANNELS, 2),
  'aed-removed': plan('critical', 30_000, PEOPLE_CHANNELS, 3),
  'appliance-fault': plan('minor', undefined, STAFF_CHANNELS, 1),
  'sensor-offline': plan('major', 5 * MIN, STAFF_CHANNELS, 2),
};

interface IncidentPlan {
  rule: string;
  device: SiteDevice;
  openedAt: number;
  clearedAt: number;
  ttaMs: number;
  resolvedAfterClearMs: number;
}

/** Per channel: latency range (ms) and one delivery in how many is retried (console: suppressed). */
const DELIVERY: Record<string, [number, number, number]> = {
  console: [20, 250, 30],
  'ops-webhook': [80, 600, 12],
  sms: [1500, 9000, 8],
  voice: [8000, 28_000, 4],
};

class AirportDay {
  private readonly points: TelemetryPoint[] = [];
  /** Series keys with the times they use: two points of one series at one ms would be one point. */
  private readonly used = new Set<string>();
  private readonly random: () => number;
  private readonly start: number;
  private incidentSeq = 0;
  private deliverySeq = 0;
  /** Deliveries per channel so far. */
  private readonly sent: Record<string, number> = {};
  private readonly hourOf: (t: number) => number;

  constructor(
    private readonly site: string,
    timezone: string,
    private readonly devices: SiteDevice[],
    private readonly end: number,
  ) {
    this.start = end - DAY;
    this.random = mulberry32(end % 2 ** 31);
    const fmt = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    this.hourOf = (t) => {
      const parts = fmt.formatToParts(t);
      const h = Number(parts.find((p) => p.type === 'hour')?.value);
      return h + Number(parts.find((p) => p.type === 'minute')?.value) / 60;
    };
  }

  generate(): TelemetryPoint[] {
    const incidents: IncidentPlan[] = [];
    for (const d of this.devices) {
      this.sensor(d, this.start + 1000 + this.between(0, 5000), { online: true });
      if (d.kind === 'temperature') incidents.push(...this.temperatures(d));
      if (d.kind === 'door') incidents.push(...this.doors(d));
    }
    incidents.push(...this.aed(), ...this.appliance(), ...this.offline());
    for (const plan of incidents) this.incident(plan);
    return this.points.filter((p) => p.time <= this.end).sort((a, b) => a.time - b.time);
  }

  private temperatures(d: SiteDevice): IncidentPlan[] {
    const zigbee = d.source !== undefined;
    const every = zigbee ? 10 * MIN : 2 * MIN;
    const base = d.zone === 'technical' ? 21 : d.zone === 'gates-g' ? 22.5 : 21.5;
    // Gates G is glazed: the afternoon sun pushes it past 27 °C; the server room's cooling fails once.
    const hot = d.id === 'temp-gate-g' ? { at: this.local(15), ms: 45 * MIN, to: 28.4 } : undefined;
    const failure = d.zone === 'technical' ? { at: this.local(3.2), ms: 25 * MIN, to: 31.2 } : undefined;
    const spell = hot ?? failure;
    let battery = 71;
    for (let t = this.start + this.between(0, every); t < this.end; t += every + this.between(-2000, 2000)) {
      const hour = this.hourOf(t);
      let c = base + 1.6 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + this.between(-0.25, 0.25);
      if (spell && t >= spell.at && t < spell.at + spell.ms) c = spell.to + this.between(-0.3, 0.3);
      const fields: Record<string, FieldValue> = { celsius: Math.round(c * 10) / 10 };
      if (zigbee) fields.battery = Math.round((battery -= 0.02));
      this.sensor(d, t, fields);
    }
    if (!spell) return [];
    return [
      {
        rule: hot ? 'temperature-out-of-range' : 'server-room-overheat',
        device: d,
        openedAt: spell.at + 30_000,
        clearedAt: spell.at + spell.ms,
        ttaMs: this.between(2 * MIN, 9 * MIN),
        resolvedAfterClearMs: this.between(5 * MIN, 20 * MIN),
      },
    ];
  }

  private doors(d: SiteDevice): IncidentPlan[] {
    const perDay: Record<string, number> = {
      'door-g12': 36,
      'door-g14': 30,
      'door-staff-b': 70,
      'door-lobby': 24,
    };
    // Terminal hours, 05:00 to 23:30; the service door only in service hours (07:00 to 19:00).
    const [open, close] = d.id === 'door-service-1' ? [7, 19] : [5, 23.5];
    const times = Array.from({ length: perDay[d.id] ?? 10 }, () =>
      this.between(this.start, this.end - 15 * MIN),
    )
      .filter((t) => this.hourOf(t) >= open && this.hourOf(t) < close)
      .sort((a, b) => a - b);
    const plans: IncidentPlan[] = [];
    let freeAt = this.start;
    let battery = 64;
    for (const [i, t0] of times.entries()) {
      const t = Math.max(t0, freeAt + 10_000);
      // One opening in fifteen is held: a cart through a jet-bridge door, a wedge in the staff door.
      const held = i % 15 === 7;
      const openMs = Math.round(held ? this.between(40_000, 7 * MIN) : this.between(3000, 22_000));
      const extra: Record<string, FieldValue> = d.source ? { battery: Math.round((battery -= 0.05)) } : {};
      this.sensor(d, t, { open: true, ...extra });
      this.sensor(d, t + openMs, { open: false, openMs, ...extra });
      freeAt = t + openMs;
      if (held) {
        plans.push({
          rule: 'door-held-open',
          device: d,
          openedAt: t + 30_000,
          clearedAt: t + openMs,
          // The security desk often has the camera up already; otherwise the on-call phone rings.
          ttaMs: this.random() < 0.4 ? this.between(8000, 19_000) : this.between(25_000, 6 * MIN),
          resolvedAfterClearMs: this.between(MIN, 8 * MIN),
        });
      }
    }
    if (d.id === 'door-staff-b') {
      const t = this.local(22.8);
      this.sensor(d, t, { open: true });
      this.sensor(d, t + 6000, { open: false, openMs: 6000 });
      plans.push({
        rule: 'door-forced',
        device: d,
        openedAt: t,
        clearedAt: t + 6000,
        ttaMs: 95_000,
        resolvedAfterClearMs: 12 * MIN,
      });
    }
    if (d.id === 'door-service-1') {
      // A delivery at the service yard before service hours open.
      const t = this.local(6.25);
      this.sensor(d, t, { open: true });
      this.sensor(d, t + 4 * MIN, { open: false, openMs: 4 * MIN });
      plans.push({
        rule: 'door-outside-hours',
        device: d,
        openedAt: t,
        clearedAt: t + 4 * MIN,
        ttaMs: 3.5 * MIN,
        resolvedAfterClearMs: 10 * MIN,
      });
    }
    return plans;
  }

  private aed(): IncidentPlan[] {
    const plans: IncidentPlan[] = [];
    for (const d of this.devices.filter((x) => x.kind === 'aed')) {
      for (let t = this.start + 3 * MIN; t < this.end; t += 10 * MIN) this.sensor(d, t, { present: true });
      if (d.zone !== 'hall-b') continue;
      const t = this.local(10.7) + 17_000;
      this.sensor(d, t, { present: false });
      this.sensor(d, t + 12 * MIN, { present: true });
      plans.push({
        rule: 'aed-removed',
        device: d,
        openedAt: t,
        clearedAt: t + 12 * MIN,
        ttaMs: 48_000,
        resolvedAfterClearMs: 20 * MIN,
      });
    }
    return plans;
  }

  private appliance(): IncidentPlan[] {
    const d = this.devices.find((x) => x.kind === 'appliance');
    if (!d) return [];
    const fault = this.local(8.3);
    for (let t = this.start + 4 * MIN; t < this.end; t += 15 * MIN) {
      if (t < fault || t > fault + 40 * MIN) this.sensor(d, t, { status: 'ok' });
    }
    this.sensor(d, fault, { status: 'fault', code: 'E21' });
    this.sensor(d, fault + 40 * MIN, { status: 'ok' });
    return [
      {
        rule: 'appliance-fault',
        device: d,
        openedAt: fault,
        clearedAt: fault + 40 * MIN,
        ttaMs: 4 * MIN,
        resolvedAfterClearMs: 10 * MIN,
      },
    ];
  }

  private offline(): IncidentPlan[] {
    const d = this.devices.find((x) => x.id === 'door-lobby');
    if (!d) return [];
    const t = this.local(17.5);
    this.sensor(d, t, { online: false });
    this.sensor(d, t + 25 * MIN, { online: true, battery: 60 });
    return [
      {
        rule: 'sensor-offline',
        device: d,
        openedAt: t + 1000,
        clearedAt: t + 25 * MIN,
        ttaMs: 9 * MIN,
        resolvedAfterClearMs: 3 * MIN,
      },
    ];
  }

  /** An incident's transitions and the notifications each notify step sent. */
  private incident(plan: IncidentPlan): void {
    const rule = RULES[plan.rule];
    const id = `inc-${String(++this.incidentSeq).padStart(4, '0')}`;
    const tags = { site: this.site, zone: plan.device.zone, rule: plan.rule, severity: rule.severity };
    const base = { id, device: plan.device.id, count: 1 };
    const ackAt = plan.openedAt + Math.round(plan.ttaMs);
    const resolvedAt = Math.max(ackAt, plan.clearedAt) + Math.round(plan.resolvedAfterClearMs);
    this.push('incident', { ...tags, transition: 'opened' }, base, plan.openedAt);
    this.notify(id, plan, rule, plan.openedAt, ackAt);
    if (rule.escalateAfter !== undefined && plan.ttaMs > rule.escalateAfter) {
      const at = plan.openedAt + rule.escalateAfter;
      this.push('incident', { ...tags, transition: 'escalated' }, { ...base, step: 1 }, at);
      this.notify(id, plan, rule, at, ackAt);
    }
    this.push(
      'incident',
      { ...tags, transition: 'acknowledged' },
      { ...base, ttaMs: ackAt - plan.openedAt },
      ackAt,
    );
    const clearedAt = Math.round(plan.clearedAt);
    this.push(
      'incident',
      { ...tags, transition: 'cleared' },
      { ...base, openMs: clearedAt - plan.openedAt },
      clearedAt,
    );
    this.push(
      'incident',
      { ...tags, transition: 'resolved' },
      { ...base, ttrMs: resolvedAt - plan.openedAt },
      resolvedAt,
    );
  }

  private notify(incident: string, plan: IncidentPlan, rule: RulePlan, at: number, ackAt: number): void {
    for (const channel of rule.channels) {
      // A webhook is one call per step; people channels go to each recipient.
      const recipients = channel === 'ops-webhook' ? 1 : rule.recipients;
      for (let r = 0; r < recipients; r++) {
        const start = at + r * 1500 + this.between(50, 400);
        const tags = { site: this.site, zone: plan.device.zone, channel, severity: rule.severity };
        const delivery = `dlv-${String(++this.deliverySeq).padStart(5, '0')}`;
        const send = (outcome: string, attempt: number, latencyMs: number, t: number) =>
          this.push(
            'notification',
            { ...tags, outcome },
            {
              incident,
              delivery,
              latencyMs: Math.round(latencyMs),
              attempt,
              success: outcome === 'delivered' || outcome === 'sent' ? 1 : 0,
            },
            t,
          );
        // A call still ringing when someone else acknowledged is hung up: cancelled.
        if (channel === 'voice' && r > 0 && ackAt < start + 20_000) {
          send('cancelled', 1, ackAt - start, ackAt);
          continue;
        }
        this.deliver(channel, send, start);
      }
    }
  }

  /**
   * One delivery: through at the first attempt, except every few on each channel (counted, not
   * drawn, so every day has some): retried, and one retry in two never gets through.
   */
  private deliver(
    channel: string,
    send: (outcome: string, attempt: number, ms: number, t: number) => void,
    t: number,
  ): void {
    const [lo, hi, retryEvery] = DELIVERY[channel];
    const n = (this.sent[channel] = (this.sent[channel] ?? 0) + 1);
    const first = this.between(lo, hi);
    if (channel === 'console') {
      return send(n % retryEvery === 5 ? 'suppressed' : 'delivered', 1, first, t + first);
    }
    const ok = channel === 'ops-webhook' ? 'sent' : 'delivered';
    if (n % retryEvery !== 2) return send(ok, 1, first, t + first);
    send('retry', 1, hi * 1.5, t + hi * 1.5);
    const retried = (this.sent[`${channel}:retry`] = (this.sent[`${channel}:retry`] ?? 0) + 1);
    const second = 30_000 + hi * 1.5 + this.between(lo, hi);
    send(retried % 2 === 0 ? 'failed' : ok, 2, second, t + second);
  }

  private sensor(d: SiteDevice, t: number, fields: Record<string, FieldValue>): void {
    this.push('sensor', { site: this.site, zone: d.zone, kind: d.kind, device: d.id }, fields, t);
  }

  private push(
    measurement: TelemetryPoint['measurement'],
    tags: Record<string, string>,
    fields: Record<string, FieldValue>,
    t: number,
  ): void {
    const series = `${measurement},${JSON.stringify(tags)}`;
    let time = Math.round(t);
    while (this.used.has(`${series}@${time}`)) time++;
    this.used.add(`${series}@${time}`);
    this.points.push({ measurement, tags, fields, time });
  }

  /** The moment of the day at `hour` site time (17.5 for 17:30). */
  private local(hour: number): number {
    let t = this.start;
    while (t < this.end && Math.abs(this.hourOf(t) - hour) >= 0.5 / 60) t += MIN;
    // Kept clear of the day's ends, so that what follows (acknowledgement, resolution) is in it too.
    return Math.min(Math.max(t, this.start + 30 * MIN), this.end - 90 * MIN);
  }

  private between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }
}

/** A small seeded generator (mulberry32): the same day for the same end time. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
