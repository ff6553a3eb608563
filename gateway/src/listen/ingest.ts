import type { Clock, SensorEvent } from '../../../rules/src/model.js';
import type { Logger } from '../core/log.js';
import type { Counter, Registry } from '../core/metrics.js';
import type { Device, Site } from '../site/model.js';
import { compileAdapter, type Adapt } from './adapters.js';
import { availabilityTopic, BUILTIN_ADAPTERS } from './presets.js';
import { LogLimiter } from './log-limiter.js';
import {
  compileKind,
  decodeJson,
  decodeText,
  isPlainObject,
  MALFORMED,
  REJECT_REASONS,
  type Checker,
  type RejectReason,
} from './validate.js';

interface Route {
  device: Device;
  check: Checker;
  adapt?: Adapt;
  /** A foreign availability topic: the payload is a status. */
  status?: boolean;
}

type Bound = { inc(n?: number): void; readonly value: number };

/**
 * MQTT message -> validated SensorEvent, or a counted, logged rejection. Never throws: every byte
 * sequence a device (or an attacker with a device's password) can send ends in one of the two.
 */
export class Ingest {
  readonly rejected: Counter;
  private readonly accepted: Bound;
  private readonly byReason: Record<RejectReason, Bound>;
  private readonly limiter: LogLimiter;
  private native = new Map<string, Route>();
  private foreign = new Map<string, Route>();
  private siteId = '';
  private readonly maxPayloadBytes: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  /**
   * Why the last refused message was refused. Written only on the (rare) rejection path, so the
   * hot path pays nothing; a caller that needs the reason for one message clears it first.
   */
  lastRejection: RejectReason | undefined;

  constructor(opts: {
    site: Site;
    clock: Clock;
    metrics: Registry;
    logger: Logger;
    maxPayloadBytes: number;
  }) {
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.maxPayloadBytes = opts.maxPayloadBytes;
    this.rejected = opts.metrics.counter(
      'vigie_events_rejected_total',
      'MQTT messages refused by the listen stage, by reason',
    );
    this.accepted = opts.metrics
      .counter('vigie_events_in_total', 'Sensor events accepted by the listen stage')
      .labels();
    const byReason = {} as Record<RejectReason, Bound>;
    for (const r of REJECT_REASONS) byReason[r] = this.rejected.labels({ reason: r });
    this.byReason = byReason;
    this.limiter = new LogLimiter(opts.clock, 60_000);
    this.setSite(opts.site);
  }

  /** Events accepted since start (the heartbeat reports it). */
  get acceptedCount(): number {
    return this.accepted.value;
  }

  /** Swaps the registry (site reload); compiled checkers are rebuilt once here, not per message. */
  setSite(site: Site): void {
    const kinds = new Map<string, Checker>();
    const adapters = new Map<string, Adapt>();
    const native = new Map<string, Route>();
    const foreign = new Map<string, Route>();
    for (const device of site.devices) {
      const spec = site.kinds[device.kind];
      if (!spec) continue;
      let check = kinds.get(device.kind);
      if (!check) kinds.set(device.kind, (check = compileKind(spec)));
      native.set(device.id, { device, check });
      if (device.source) {
        const name = device.source.adapter;
        const aspec = site.adapters[name] ?? BUILTIN_ADAPTERS[name];
        if (!aspec) continue;
        let adapt = adapters.get(name);
        if (!adapt) adapters.set(name, (adapt = compileAdapter(aspec)));
        foreign.set(device.source.topic, { device, check, adapt });
        const availability = availabilityTopic(device.source);
        if (availability) foreign.set(availability, { device, check, status: true });
      }
    }
    this.siteId = site.id;
    this.native = native;
    this.foreign = foreign;
  }

  handle(topic: string, payload: Buffer): SensorEvent | undefined {
    try {
      return this.route(topic, payload);
    } catch (err) {
      // Unreachable by design; kept so one unforeseen input can never take the gateway down.
      this.logger.error('unexpected error while reading a message', { error: (err as Error).message });
      return this.reject('malformed_json', topic, undefined);
    }
  }

  private route(topic: string, payload: Buffer): SensorEvent | undefined {
    const f = this.foreign.get(topic);
    if (f) return this.decode(f, topic, payload, f.status === true);
    const parts = topic.split('/', 6);
    // Bridges publish much more than the devices mapped here (their own state, other sensors).
    if (parts[0] !== 'vigie') return this.reject('unmapped_topic', topic, undefined);
    if (parts.length < 4 || parts.length > 5) return this.reject('bad_topic', topic, undefined);
    if (parts[1] !== this.siteId) return this.reject('wrong_site', topic, undefined);
    const r = this.native.get(parts[3]);
    if (!r) return this.reject('unknown_device', topic, undefined);
    if (r.device.kind !== parts[2]) return this.reject('kind_mismatch', topic, r.device.id);
    if (parts.length === 5) {
      if (parts[4] !== 'status') return this.reject('bad_topic', topic, r.device.id);
      return this.decode(r, topic, payload, true);
    }
    return this.decode(r, topic, payload, false);
  }

  private decode(r: Route, topic: string, payload: Buffer, status: boolean): SensorEvent | undefined {
    const id = r.device.id;
    if (payload.length > this.maxPayloadBytes) return this.reject('too_large', topic, id);
    const now = this.clock.now();
    if (status) {
      const text = readStatus(payload);
      if (text === undefined) return this.reject('bad_status', topic, id);
      this.accepted.inc();
      return {
        site: this.siteId,
        deviceId: id,
        kind: r.device.kind,
        ts: now,
        receivedAt: now,
        values: {},
        status: text,
      };
    }
    let obj: unknown;
    if (r.adapt) {
      obj = r.adapt(payload);
      if (typeof obj === 'string') return this.reject(obj as RejectReason, topic, id);
    } else {
      obj = decodeJson(payload);
      if (obj === MALFORMED) return this.reject('malformed_json', topic, id);
      if (!isPlainObject(obj)) return this.reject('not_an_object', topic, id);
    }
    const v = r.check(obj as Record<string, unknown>);
    if (typeof v === 'string') return this.reject(v, topic, id);
    this.accepted.inc();
    const ev: SensorEvent = {
      site: this.siteId,
      deviceId: id,
      kind: r.device.kind,
      ts: v.ts ?? now,
      receivedAt: now,
      values: v.values,
    };
    if (v.battery !== undefined) ev.battery = v.battery;
    return ev;
  }

  private reject(reason: RejectReason, topic: string, deviceId: string | undefined): undefined {
    this.lastRejection = reason;
    this.byReason[reason].inc();
    if (reason === 'unmapped_topic') return undefined;
    // Once a minute per device, or per reason when no device is known, so a flood cannot fill the log.
    const key = deviceId ?? `?${reason}`;
    const suppressed = this.limiter.allow(key);
    if (suppressed !== false) {
      this.logger.warn(`message rejected: ${reason}`, {
        reason,
        device: deviceId,
        topic: topic.length > 120 ? topic.slice(0, 120) + '...' : topic,
        suppressedSinceLast: suppressed,
      });
    }
    return undefined;
  }
}

/** `online` / `offline`, bare or as Zigbee2MQTT's `{"state":"online"}`. */
function readStatus(payload: Buffer): 'online' | 'offline' | undefined {
  const text = decodeText(payload)?.trim();
  if (text === 'online' || text === 'offline') return text;
  if (text === undefined || !text.startsWith('{')) return undefined;
  const obj = decodeJson(payload);
  const state = isPlainObject(obj) && Object.hasOwn(obj, 'state') ? obj.state : undefined;
  return state === 'online' || state === 'offline' ? state : undefined;
}

/** What each rejection means, for whoever injected the message by hand (Node-RED, the API). */
export const REJECTION_TEXT: Readonly<Record<RejectReason, string>> = {
  malformed_json: 'the payload is not valid JSON',
  not_an_object: 'the payload is not a JSON object',
  wrong_type: "a field has the wrong type for the device's kind",
  missing_field: "a field the device's kind requires is missing",
  out_of_range: "a value is outside the range of the device's kind",
  too_large: 'the payload is larger than mqtt.maxPayloadBytes',
  unknown_device: 'no device of the site has this id',
  wrong_site: 'the topic names another site',
  kind_mismatch: 'the topic names another kind than the device has',
  bad_topic: 'the topic is not vigie/{site}/{kind}/{deviceId}[/status]',
  bad_ts: 'ts is not a time',
  bad_status: 'a status is online or offline',
  unmapped_topic: 'no device of the site is mapped to this topic',
};
