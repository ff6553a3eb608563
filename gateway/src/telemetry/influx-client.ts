import { InfluxDB, type IPoint, type IPoolOptions } from 'influx';
import type { InfluxConfig } from '../config/schema.js';
import type { TelemetryPoint } from './model.js';

// Talking to InfluxDB 1.x with the `influx` package: the client, errors as they may be logged,
// points as the package writes them, and InfluxQL durations. Shared by the writer and the reader.

/**
 * The pool's own failure handling takes a host out of rotation for up to 10 s after a network
 * error, answering "No host available" meanwhile (even once InfluxDB is back): the writer has its
 * own probe and backoff, so the host is never taken out.
 */
const NO_BACKOFF: NonNullable<IPoolOptions['backoff']> = {
  getDelay: () => 0,
  next: () => NO_BACKOFF,
  reset: () => NO_BACKOFF,
};

/** A client for `cfg`: no retries of its own, every request bounded by `timeoutMs`. */
export function influxClient(cfg: InfluxConfig, timeoutMs: number): InfluxDB {
  const url = new URL(cfg.url);
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  const path = url.pathname.replace(/\/+$/, '');
  const username = cfg.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = cfg.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  return new InfluxDB({
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === 'https' ? 443 : 80,
    protocol,
    ...(path ? { path } : {}),
    database: cfg.database,
    ...(username !== undefined ? { username, password: password ?? '' } : {}),
    pool: { maxRetries: 0, requestTimeout: timeoutMs, backoff: NO_BACKOFF },
  });
}

/** Where InfluxDB is, for logs: never the credentials. */
export function influxServer(cfg: InfluxConfig): string {
  const url = new URL(cfg.url);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The text of an error from the `influx` package. Only this is logged: the error object itself
 * holds the request, and with it the Authorization header.
 */
export function influxErrorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const body = /error occurred: (.*)$/s.exec(msg)?.[1];
  if (body) {
    try {
      const e = (JSON.parse(body) as { error?: unknown }).error;
      if (typeof e === 'string') return e.slice(0, 500);
    } catch {
      /* not JSON: the message as it is */
    }
  }
  return msg.trim().slice(0, 500);
}

export function httpStatus(err: unknown): number | undefined {
  const s = (err as { res?: { statusCode?: unknown } } | undefined)?.res?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** A TelemetryPoint as the `influx` package writes it; undefined when no field is writable. */
export function toIPoint(p: TelemetryPoint): IPoint | undefined {
  let fields: Record<string, number | boolean | string> = p.fields as Record<
    string,
    number | boolean | string
  >;
  let clean = true;
  let any = false;
  for (const k in p.fields) {
    if (writable(p.fields[k])) any = true;
    else clean = false;
  }
  if (!any) return undefined;
  if (!clean) {
    fields = {};
    for (const k in p.fields) if (writable(p.fields[k])) fields[k] = p.fields[k];
  }
  let tags = p.tags as Record<string, string>;
  for (const k in p.tags) {
    const v = p.tags[k];
    // Not valid line protocol: an empty tag value, a newline in one.
    if (typeof v !== 'string' || v === '' || v.includes('\n')) {
      tags = {};
      for (const t in p.tags) {
        const tv = p.tags[t];
        if (typeof tv === 'string' && tv !== '') tags[t] = tv.replace(/\n/g, ' ');
      }
      break;
    }
  }
  return { measurement: p.measurement, tags, fields, timestamp: nanoseconds(p.time, p.tiebreak) };
}

function writable(v: unknown): boolean {
  return typeof v === 'number' ? Number.isFinite(v) : typeof v === 'string' || typeof v === 'boolean';
}

/** Epoch ns as a string (ms * 1e6 is past Number's exact range): the tiebreak fills the last six digits. */
export function nanoseconds(ms: number, tiebreak = 0): string {
  const t = Math.min(999_999, Math.max(0, Math.floor(tiebreak)));
  return `${Math.round(ms)}${String(t).padStart(6, '0')}`;
}

const UNITS: [string, number][] = [
  ['w', 604_800_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** ms as an InfluxQL duration literal in the largest exact unit: 2592000000 -> 30d. */
export function durationLiteral(ms: number): string {
  const n = Math.round(ms);
  for (const [u, f] of UNITS) if (n % f === 0) return `${n / f}${u}`;
  return `${n}ms`;
}

/** A Go duration as SHOW RETENTION POLICIES prints it ("720h0m0s", "0s" = infinite) in ms. */
export function goDurationMs(s: string): number {
  const f: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|h|m|s)/g)) total += Number(m[1]) * f[m[2]];
  return Math.round(total);
}
