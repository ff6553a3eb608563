import { join, resolve } from 'node:path';
import type { SensorEvent } from '../../../rules/src/model.js';
import { systemClock } from '../../src/core/clock.js';
import { memoryLogger } from '../../src/core/log.js';
import { Registry } from '../../src/core/metrics.js';
import { Ingest } from '../../src/listen/ingest.js';
import type { MqttTransport } from '../../src/listen/transport.js';
import { loadSite } from '../../src/site/load.js';
import type { Site } from '../../src/site/model.js';

export const ROOT = resolve(import.meta.dirname, '../../../..');
export const exampleSite = (): Site => loadSite(join(ROOT, 'rules/examples/site.yaml'));

/** Polls `pred` until it holds; fails with `what` after `timeoutMs`. For states that emit no event. */
export async function waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A transport wired to a real Ingest, recording what comes out, with awaitable arrivals. */
export class ListenHarness {
  readonly metrics = new Registry();
  readonly logger = memoryLogger();
  readonly ingest: Ingest;
  readonly events: SensorEvent[] = [];
  readonly topics: string[] = [];
  private waiters: Array<{ pred: (e: SensorEvent) => boolean; resolve: (e: SensorEvent) => void }> = [];

  constructor(
    readonly site: Site,
    readonly transport: MqttTransport,
    maxPayloadBytes = 64 * 1024,
  ) {
    this.ingest = new Ingest({
      site,
      clock: systemClock,
      metrics: this.metrics,
      logger: this.logger,
      maxPayloadBytes,
    });
    transport.onMessage((topic, payload) => {
      this.topics.push(topic);
      const ev = this.ingest.handle(topic, payload);
      if (!ev) return;
      this.events.push(ev);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(ev)) return true;
        w.resolve(ev);
        return false;
      });
    });
  }

  /** The first event (past or future) that satisfies `pred`. */
  next(pred: (e: SensorEvent) => boolean, what: string, timeoutMs = 10_000): Promise<SensorEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  rejectedTotal(): number {
    let n = 0;
    for (const line of this.metrics.render().split('\n')) {
      if (line.startsWith('vigie_events_rejected_total{')) n += Number(line.split(' ').pop());
    }
    return n;
  }
}
