import type { Logger } from '../../core/log.js';
import type { Site } from '../../site/model.js';
import type { EmitReading, LocalReading } from './model.js';

export interface LocalFeedTargets {
  /** The listen stage's entry (Pipeline.onMessage): validated and evaluated like an MQTT message. */
  ingest(topic: string, payload: Buffer): unknown;
  /** The broker, so displays and Node-RED see GPIO and serial devices like the others. */
  publish?(topic: string, payload: string, opts: { retain?: boolean; qos?: 0 | 1 }): void;
}

/**
 * Readings of the devices the gateway reads itself, turned into the message such a device would
 * have published (README "Contracts": vigie/{site}/{kind}/{id} and its retained /status), so the
 * listen stage validates them against the kind and every rule works unchanged.
 */
export function localFeed(site: Site, targets: LocalFeedTargets, logger: Logger): EmitReading {
  const devices = new Map(site.devices.map((d) => [d.id, d]));
  return (r: LocalReading) => {
    const device = devices.get(r.deviceId);
    if (!device) {
      // Sources are built from the same site: only a programming error lands here.
      logger.error('reading for a device the site does not have', { device: r.deviceId });
      return;
    }
    const base = `vigie/${site.id}/${device.kind}/${device.id}`;
    if (r.status) {
      targets.ingest(`${base}/status`, Buffer.from(r.status));
      targets.publish?.(`${base}/status`, r.status, { retain: true, qos: 1 });
    }
    if (r.values) {
      const body = JSON.stringify(r.ts === undefined ? r.values : { ...r.values, ts: r.ts });
      targets.ingest(base, Buffer.from(body));
      targets.publish?.(base, body, { qos: 0 });
    }
  };
}
