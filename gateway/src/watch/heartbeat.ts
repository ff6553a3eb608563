import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../listen/log-limiter.js';
import type { Heartbeat } from './model.js';

/** What the owner knows about the gateway's health; the publisher adds identity, time and sequence. */
export type HeartbeatSnapshot = Omit<
  Heartbeat,
  'site' | 'gateway' | 'seq' | 'at' | 'intervalMs' | 'version' | 'startedAt' | 'uptimeMs'
>;

export interface HeartbeatOptions {
  site: string;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
  snapshot: () => HeartbeatSnapshot;
  /** A core NATS publish (the uplink's `publishCore`); absent when the gateway has no uplink. */
  publishNats?: (subject: string, data: Uint8Array) => void;
  publishMqtt: (topic: string, payload: string, opts: { retain?: boolean; qos?: 0 | 1 }) => void;
  /** Defaults to the host name: what tells a spare from the primary on the same site. */
  gateway?: string;
  /** Defaults to the version in package.json. */
  version?: string;
}

export const heartbeatSubject = (site: string) => `vigie.${site}.gateway.heartbeat`;
export const heartbeatTopic = (site: string) => `vigie/${site}/gateway/heartbeat`;
export const statusTopic = (site: string) => `vigie/${site}/gateway/status`;

/** dist/gateway/src/watch -> the package root, as config/load.ts computes it. */
const PACKAGE_JSON = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..', 'package.json');

export function packageVersion(file = PACKAGE_JSON): string {
  try {
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The gateway's "I am alive" (issue 7 item 5), on NATS for the router and on MQTT for local
 * dashboards. On NATS it is a core publish, never the outbox: a heartbeat queued during an outage
 * and replayed later would tell the router a dead gateway is fine. On MQTT the heartbeat and the
 * `online` status are retained, so a dashboard that subscribes later sees them at once; `online`
 * goes out with every beat because an external broker may have published our will (`offline`)
 * during a short disconnection, and nothing else would put it right.
 */
export class HeartbeatPublisher {
  private readonly gateway: string;
  private readonly version: string;
  private readonly startedAt: number;
  private readonly limiter: LogLimiter;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(private readonly o: HeartbeatOptions) {
    this.gateway = o.gateway ?? hostname();
    this.version = o.version ?? packageVersion();
    this.startedAt = o.clock.now();
    this.limiter = new LogLimiter(o.clock, 60_000);
  }

  start(): void {
    if (this.timer) return;
    this.beat();
    this.timer = setInterval(() => this.beat(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Says `offline` on MQTT. No last heartbeat: it would only push the router's verdict back. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.send('mqtt-status', () =>
      this.o.publishMqtt(statusTopic(this.o.site), 'offline', { retain: true, qos: 1 }),
    );
  }

  /** Builds and sends one heartbeat now; returns it (undefined when the snapshot failed). */
  beat(): Heartbeat | undefined {
    let hb: Heartbeat;
    try {
      const now = this.o.clock.now();
      hb = {
        site: this.o.site,
        gateway: this.gateway,
        version: this.version,
        seq: ++this.seq,
        at: now,
        startedAt: this.startedAt,
        uptimeMs: now - this.startedAt,
        ...this.o.snapshot(),
        intervalMs: this.o.intervalMs,
      };
    } catch (err) {
      this.warn('snapshot', err);
      return undefined;
    }
    const json = JSON.stringify(hb);
    const nats = this.o.publishNats;
    if (nats) this.send('nats', () => nats(heartbeatSubject(this.o.site), Buffer.from(json, 'utf8')));
    this.send('mqtt', () => this.o.publishMqtt(heartbeatTopic(this.o.site), json, { retain: true, qos: 0 }));
    this.send('mqtt-status', () =>
      this.o.publishMqtt(statusTopic(this.o.site), 'online', { retain: true, qos: 0 }),
    );
    return hb;
  }

  private send(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.warn(what, err);
    }
  }

  private warn(what: string, err: unknown): void {
    const allowed = this.limiter.allow(what);
    if (allowed === false) return;
    this.o.logger.warn(`heartbeat ${what} failed`, {
      error: err instanceof Error ? err.message : String(err),
      ...(allowed > 0 ? { suppressed: allowed } : {}),
    });
  }
}
