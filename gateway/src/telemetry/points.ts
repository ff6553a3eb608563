import type { SensorEvent } from '../../../rules/src/model.js';
import type { FieldValue, TelemetryPoint, TimelineRow } from './model.js';

// Turns what the gateway sees into points of the schema in model.ts: sensor events (hot path, up to
// 20k/s) and audit-trail rows (incident transitions, notification outcomes).

/** Longer strings are cut: a free-text value must not turn a point into a kilobyte. */
const MAX_STRING = 256;
/** Past this many devices the oldest-seen one is forgotten (unknown ids must not grow the map). */
const MAX_DEVICES = 50_000;

interface DeviceState {
  zone: string;
  kind: string;
  /** Shared by every point of the device: the tags object is read-only once built. */
  tags: Readonly<Record<string, string>>;
  /** `ts` of the event that opened the door, while it is open. */
  openedTs: number | undefined;
  lastTs: number;
  /** Points of this device already in `lastTs`: two events of one millisecond must not overwrite. */
  sameMs: number;
}

export class SensorPoints {
  private readonly devices = new Map<string, DeviceState>();

  point(ev: SensorEvent, device: { zone: string; kind: string } | undefined): TelemetryPoint | undefined {
    const zone = device?.zone || 'unknown';
    const kind = ev.kind || device?.kind || 'unknown';
    let state = this.devices.get(ev.deviceId);
    if (!state || state.zone !== zone || state.kind !== kind || state.tags.site !== ev.site) {
      state = this.remember(ev, zone, kind, state);
    }
    let fields: Record<string, FieldValue> | undefined;
    const values = ev.values;
    for (const k in values) {
      const v = values[k];
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) continue;
      } else if (typeof v === 'string') {
        (fields ??= {})[k] = v.length > MAX_STRING ? cut(v) : v;
        continue;
      } else if (typeof v !== 'boolean') continue;
      (fields ??= {})[k] = v;
    }
    if (typeof ev.battery === 'number' && Number.isFinite(ev.battery)) (fields ??= {}).battery = ev.battery;
    if (ev.status !== undefined) (fields ??= {}).online = ev.status === 'online';
    const open = values.open;
    if (open === true) {
      if (state.openedTs === undefined) state.openedTs = ev.ts;
    } else if (open === false && state.openedTs !== undefined) {
      (fields ??= {}).openMs = Math.max(0, ev.ts - state.openedTs);
      state.openedTs = undefined;
    }
    if (!fields) return undefined;
    let tiebreak = 0;
    if (ev.ts === state.lastTs) tiebreak = ++state.sameMs;
    else {
      state.lastTs = ev.ts;
      state.sameMs = 0;
    }
    const p: TelemetryPoint = { measurement: 'sensor', tags: state.tags, fields, time: ev.ts };
    if (tiebreak > 0) p.tiebreak = tiebreak;
    return p;
  }

  private remember(ev: SensorEvent, zone: string, kind: string, old: DeviceState | undefined): DeviceState {
    if (!old && this.devices.size >= MAX_DEVICES) {
      const oldest = this.devices.keys().next().value;
      if (oldest !== undefined) this.devices.delete(oldest);
    }
    const state: DeviceState = {
      zone,
      kind,
      tags: { site: ev.site, zone, kind, device: ev.deviceId },
      openedTs: old?.openedTs,
      lastTs: old?.lastTs ?? Number.NaN,
      sameMs: old?.sameMs ?? 0,
    };
    this.devices.set(ev.deviceId, state);
    return state;
  }
}

/** Cuts at MAX_STRING without splitting a surrogate pair. */
function cut(s: string): string {
  const end = MAX_STRING - (isHighSurrogate(s.charCodeAt(MAX_STRING - 1)) ? 1 : 0);
  return s.slice(0, end);
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** An empty tag value is not valid line protocol. */
function tag(v: unknown): string {
  return typeof v === 'string' && v !== '' ? v : 'unknown';
}

const TRANSITIONS = new Set(['opened', 'acknowledged', 'escalated', 'cleared', 'resolved']);

/**
 * An audit-trail row as a point: incident transitions (route/incidents.ts, route/escalation.ts) and
 * notification outcomes (engage/deliveries.ts `record()`, engage/responder.ts status callbacks).
 * Other rows (notes, CRM, jobs, a failover's new delivery without an outcome) are not telemetry.
 */
export function timelinePoint(row: TimelineRow): TelemetryPoint | undefined {
  const tiebreak = row.seq % 1_000_000;
  const since = Math.max(0, row.at - row.openedAt);
  if (TRANSITIONS.has(row.kind)) {
    const fields: Record<string, FieldValue> = { id: row.incidentId, device: row.device, count: 1 };
    if (row.kind === 'acknowledged') fields.ttaMs = since;
    else if (row.kind === 'resolved') fields.ttrMs = since;
    else if (row.kind === 'cleared') fields.openMs = since;
    else if (row.kind === 'escalated' && typeof row.detail.step === 'number') fields.step = row.detail.step;
    return {
      measurement: 'incident',
      tags: {
        site: tag(row.site),
        zone: tag(row.zone),
        rule: tag(row.rule),
        severity: tag(row.severity),
        transition: row.kind,
      },
      fields,
      time: row.at,
      tiebreak,
    };
  }
  const d = row.detail;
  if (row.kind !== 'notification' || typeof d.outcome !== 'string') return undefined;
  const fields: Record<string, FieldValue> = {
    incident: row.incidentId,
    success: d.outcome === 'delivered' || d.outcome === 'sent' ? 1 : 0,
  };
  if (typeof d.deliveryId === 'string') fields.delivery = d.deliveryId;
  if (typeof d.latencyMs === 'number' && Number.isFinite(d.latencyMs)) fields.latencyMs = d.latencyMs;
  if (typeof d.attempt === 'number' && Number.isFinite(d.attempt)) fields.attempt = d.attempt;
  return {
    measurement: 'notification',
    tags: {
      site: tag(row.site),
      zone: tag(row.zone),
      channel: tag(d.channel),
      outcome: tag(d.outcome),
      severity: tag(row.severity),
    },
    fields,
    time: row.at,
    tiebreak,
  };
}
