import type { Clock } from '../../../rules/src/model.js';

/**
 * At most one log line per key and period. Keys must come from a bounded set (device ids, reasons):
 * the map never holds more keys than that set has members.
 */
export class LogLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
  ) {}

  /** False when the line must be dropped; otherwise how many were dropped since the last one. */
  allow(key: string): number | false {
    const now = this.clock.now();
    const e = this.last.get(key);
    if (e && now - e.at < this.periodMs) {
      e.suppressed++;
      return false;
    }
    const suppressed = e?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }
}
