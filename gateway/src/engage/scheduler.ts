import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { IncidentChange, IncidentService } from '../route/incidents.js';
import type { DeliveryWorker } from './deliveries.js';

/** Work that falls due at a stored time: the scheduler runs it and wakes up for the next one. */
export interface DurableTimers {
  runDue(now: number): unknown;
  nextDue(): number | undefined;
}

// setTimeout takes a signed 32-bit delay; a farther wake-up simply re-arms when it fires.
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Keeps ONE timer for the earliest of (next escalation due, next delivery attempt). Time comes from
 * the injected clock: the real timer only wakes it up, so tests drive it with a manual clock and kick().
 */
export class EngageScheduler {
  private timer: NodeJS.Timeout | undefined;
  private armedFor: number | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private failing = false;
  private readonly listeners = new Set<(changes: readonly IncidentChange[]) => void>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly d: {
      clock: Clock;
      incidents: Pick<IncidentService, 'runEscalations' | 'nextEscalationDue'>;
      deliveries: Pick<DeliveryWorker, 'pump' | 'nextDue' | 'onSettled'>;
      logger: Logger;
      /** Other durable timers on the same clock (technician offers that expire). Run before deliveries. */
      timers?: readonly DurableTimers[];
    },
  ) {}

  /** Hears escalation changes once committed (the pipeline publishes them). */
  onChanges(listener: (changes: readonly IncidentChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.d.deliveries.onSettled(() => this.kick());
    this.kick();
  }

  /** Re-evaluates now: runs what is due and re-arms. Call after any change that may add work. */
  kick(): void {
    if (this.stopped) return;
    // A listener may kick from inside run(): finish this run, then run once more.
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        this.run();
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
    }
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }

  private run(): void {
    const now = this.d.clock.now();
    this.failing = false;
    try {
      const changes = this.d.incidents.runEscalations(now);
      if (changes.length > 0) for (const l of this.listeners) l(changes);
    } catch (err) {
      this.failing = true;
      this.d.logger.error('escalation run failed; retrying in 1 s', { error: (err as Error).message });
    }
    for (const t of this.d.timers ?? []) {
      try {
        t.runDue(now);
      } catch (err) {
        this.failing = true;
        this.d.logger.error('timer run failed; retrying in 1 s', { error: (err as Error).message });
      }
    }
    try {
      this.d.deliveries.pump();
    } catch (err) {
      this.failing = true;
      this.d.logger.error('delivery run failed; retrying in 1 s', { error: (err as Error).message });
    }
  }

  private arm(): void {
    if (this.stopped) return;
    const candidates = [
      this.d.incidents.nextEscalationDue(),
      this.d.deliveries.nextDue(),
      ...(this.d.timers ?? []).map((t) => t.nextDue()),
    ].filter((x): x is number => x !== undefined);
    const due = candidates.length > 0 ? Math.min(...candidates) : undefined;
    if (due === this.armedFor && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = due;
    if (due === undefined) return;
    // A failing store (disk full) must not make the timer spin on work that stays due.
    const delay = Math.min(Math.max(this.failing ? 1000 : 1, due - this.d.clock.now()), MAX_DELAY);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedFor = undefined;
      this.kick();
    }, delay);
    this.timer.unref();
  }
}
