import type { SensorEvent } from '../../../rules/src/model.js';
import type { LiveEvent } from '../api/ports.js';

export type LiveListener = (e: LiveEvent) => void;

/**
 * In-process pub/sub feeding the API's WebSocket (the live console) and Node-RED. Sensor events
 * go only to listeners that asked for them: the console does not want one frame per reading.
 */
export class LiveHub {
  private readonly listeners = new Set<LiveListener>();
  private readonly sensorListeners = new Set<LiveListener>();

  subscribe(listener: LiveListener, opts: { sensor?: boolean } = {}): () => void {
    this.listeners.add(listener);
    if (opts.sensor) this.sensorListeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      this.sensorListeners.delete(listener);
    };
  }

  emit(e: LiveEvent): void {
    if (e.type === 'sensor') return this.send(this.sensorListeners, e);
    this.send(this.listeners, e);
  }

  /** True while someone listens for sensor events; the pipeline checks it per message, so it stays a size test. */
  get wantsSensor(): boolean {
    return this.sensorListeners.size > 0;
  }

  emitSensor(ev: SensorEvent): void {
    if (this.sensorListeners.size === 0) return;
    this.send(this.sensorListeners, { type: 'sensor', at: ev.receivedAt, data: ev });
  }

  get size(): number {
    return this.listeners.size;
  }

  private send(to: Set<LiveListener>, e: LiveEvent): void {
    for (const l of [...to]) {
      // One broken subscriber (a closed socket) must not keep the others from hearing.
      try {
        l(e);
      } catch {
        this.listeners.delete(l);
        this.sensorListeners.delete(l);
      }
    }
  }
}
