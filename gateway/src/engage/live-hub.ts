import type { LiveEvent } from '../api/ports.js';

export type LiveListener = (e: LiveEvent) => void;

/** In-process pub/sub feeding the API's WebSocket (the live console). */
export class LiveHub {
  private readonly listeners = new Set<LiveListener>();

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(e: LiveEvent): void {
    for (const l of [...this.listeners]) {
      // One broken subscriber (a closed socket) must not keep the others from hearing.
      try {
        l(e);
      } catch {
        this.listeners.delete(l);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
