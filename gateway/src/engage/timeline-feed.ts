import type { TimelineTail } from '../telemetry/timeline-tail.js';
import type { LiveHub } from './live-hub.js';

/** Rows read per turn; a storm's backlog is taken over several turns. */
const BATCH = 500;

/**
 * Tells the live console when an incident's audit trail grew (a delivery's outcome, a job step, a
 * CRM answer), so the detail it shows refreshes without polling the API. It follows the timeline
 * table rather than each writer: many modules append to it, always in the change's own transaction,
 * so what the console hears of has been committed. One `timeline` event per incident per turn.
 */
export class TimelineFeed {
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tail: TimelineTail,
    private readonly live: LiveHub,
    private readonly periodMs = 200,
  ) {}

  start(): void {
    this.cursor = this.tail.latest();
    this.timer = setInterval(() => this.turn(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  turn(): void {
    // Nobody watching: skip ahead instead of reading rows nobody will hear of.
    if (this.live.size === 0) {
      this.cursor = this.tail.latest();
      return;
    }
    const rows = this.tail.after(this.cursor, BATCH);
    if (rows.length === 0) return;
    this.cursor = rows[rows.length - 1].seq;
    const last = new Map<string, (typeof rows)[number]>();
    for (const r of rows) last.set(r.incidentId, r);
    for (const r of last.values()) {
      this.live.emit({
        type: 'timeline',
        at: r.at,
        data: { incidentId: r.incidentId, seq: r.seq, kind: r.kind },
      });
    }
  }
}
