import type { RelayChannelConfig } from '../../config/schema.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Level, OutputPin } from '../../io/gpio.js';
import type { LiveEvent } from '../../api/ports.js';
import type { Channel, Notification, SendResult } from '../channel.js';
import type { ChannelDeps } from '../registry.js';

// A siren or strobe on a relay wired to a GPIO line. A send switches it on for the incident; it
// goes off when no incident it sounds for is still open (acknowledged, cleared, resolved: the live
// hub says so) or after `maxOn`, whichever comes first.

const RETRY_WRITE_MS = 5000;
/** Incidents seen settled, kept to refuse a send that raced the acknowledgement. */
const SETTLED_KEPT = 256;

export class RelayChannel implements Channel {
  readonly type = 'relay';
  // A relay either switches or the line is broken: a few quick tries, then the next step's channel.
  readonly retry = { maxAttempts: 3, backoffMs: 1000, maxBackoffMs: 2000 };
  private readonly active = new Map<string, { since: number; timer: ReturnType<typeof setTimeout> }>();
  private readonly settled = new Set<string>();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly onLevel: Level;
  private pin?: OutputPin;
  /** What the line is known to be driven at; undefined after a failed write. Unexported = off. */
  private known: Level | undefined;
  /** Pulse pattern: whether this half-period is the "on" half. */
  private phaseOn = true;
  private pulse?: ReturnType<typeof setInterval>;
  private rewrite?: ReturnType<typeof setTimeout>;
  private queue: Promise<unknown> = Promise.resolve();
  private failing = false;
  private readonly unsubscribe?: () => void;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly cfg: RelayChannelConfig,
    private readonly deps: ChannelDeps,
  ) {
    this.logger = deps.logger;
    this.clock = deps.clock ?? systemClock;
    this.onLevel = cfg.activeLow ? 0 : 1;
    this.known = this.offLevel;
    this.unsubscribe = deps.live?.subscribe((e) => this.onLive(e));
  }

  async send(n: Notification): Promise<SendResult> {
    const gpio = this.deps.gpio;
    if (!gpio?.available) {
      const why = gpio?.unavailableReason ?? 'no GPIO configured';
      return { ok: false, error: `relay ${this.name}: no GPIO (${why})`, retryable: false };
    }
    const id = n.incident.id;
    if (this.stopped || n.incident.state !== 'open' || this.settled.has(id)) {
      return { ok: false, error: `cancelled: incident ${id} is no longer open`, retryable: false };
    }
    // A second send for an incident already sounding (another team of the same step) does not
    // extend it: maxOn counts from the first.
    const fresh = !this.active.has(id);
    if (fresh) this.activate(id, this.clock.now());
    const error = await this.drive();
    if (error === undefined) return { ok: true };
    if (fresh) this.settle(id);
    return { ok: false, error: `relay ${this.name} (line ${this.cfg.pin}): ${error}`, retryable: true };
  }

  /**
   * At start: incidents still open whose relay step had been sent before the restart. Those still
   * within `maxOn` sound again for what is left of it.
   */
  restore(active: { incidentId: string; since: number }[]): void {
    const now = this.clock.now();
    const due = active.filter((a) => a.since + this.cfg.maxOn > now && !this.active.has(a.incidentId));
    if (due.length === 0 || this.stopped) return;
    if (!this.deps.gpio?.available) {
      this.logger.warn(`relay ${this.name}: ${due.length} open incident(s) cannot sound again: no GPIO`);
      return;
    }
    for (const a of due) this.activate(a.incidentId, a.since);
    this.logger.info(`relay ${this.name}: sounding again for ${due.length} open incident(s)`);
    void this.drive();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const a of this.active.values()) clearTimeout(a.timer);
    this.active.clear();
    clearTimeout(this.rewrite);
    clearInterval(this.pulse);
    this.pulse = undefined;
    await this.drive();
    try {
      this.pin?.close();
    } catch {
      // Released either way.
    }
    this.pin = undefined;
  }

  private get offLevel(): Level {
    return this.onLevel === 1 ? 0 : 1;
  }

  private activate(id: string, since: number): void {
    const wasIdle = this.active.size === 0;
    const left = Math.max(0, since + this.cfg.maxOn - this.clock.now());
    const timer = setTimeout(() => {
      this.logger.info(`relay ${this.name}: on for ${this.cfg.maxOn} ms for incident ${id}: off`);
      this.settle(id);
    }, left);
    this.active.set(id, { since, timer });
    if (wasIdle && this.cfg.pattern === 'pulse') {
      this.phaseOn = true;
      this.pulse = setInterval(() => {
        this.phaseOn = !this.phaseOn;
        void this.drive();
      }, this.cfg.period);
    }
  }

  /** The incident no longer needs the relay; off when it was the last. */
  private settle(id: string): void {
    const a = this.active.get(id);
    if (!a) return;
    clearTimeout(a.timer);
    this.active.delete(id);
    if (this.active.size > 0) return;
    clearInterval(this.pulse);
    this.pulse = undefined;
    void this.drive();
  }

  private onLive(e: LiveEvent): void {
    if (e.type !== 'incident') return;
    const { id, state } = (e.data ?? {}) as { id?: unknown; state?: unknown };
    if (typeof id !== 'string' || state === 'open' || state === undefined) return;
    this.settled.add(id);
    if (this.settled.size > SETTLED_KEPT) this.settled.delete(this.settled.values().next().value!);
    if (this.active.has(id)) {
      this.logger.info(`relay ${this.name}: incident ${id} is ${String(state)}`);
      this.settle(id);
    }
  }

  private wanted(): Level {
    const on = this.active.size > 0 && (this.cfg.pattern === 'steady' || this.phaseOn);
    return on ? this.onLevel : this.offLevel;
  }

  /** Brings the line to the wanted level, one write at a time; resolves with the error, if any. */
  private drive(): Promise<string | undefined> {
    const run = this.queue.then(() => this.write());
    this.queue = run;
    return run;
  }

  private async write(): Promise<string | undefined> {
    const level = this.wanted();
    const gpio = this.deps.gpio;
    if (level === this.known || !gpio?.available) return undefined;
    try {
      // Opened on first use: exporting a line as an output drives it low, which on an active-low
      // board is "on"; by then it is meant to be.
      this.pin ??= gpio.output(this.cfg.pin);
      await this.pin.write(level);
      this.known = level;
      if (this.failing) this.logger.info(`relay ${this.name}: line ${this.cfg.pin} works again`);
      this.failing = false;
      return undefined;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.broken(msg);
      return msg;
    }
  }

  /** Drops the line and tries again later: a siren left on is worse than one that failed to start. */
  private broken(msg: string): void {
    if (!this.failing) this.logger.error(`relay ${this.name}: line ${this.cfg.pin} failed: ${msg}`);
    this.failing = true;
    this.known = undefined;
    try {
      this.pin?.close();
    } catch {
      // Already gone: the next try exports it again.
    }
    this.pin = undefined;
    if (this.stopped || this.rewrite) return;
    this.rewrite = setTimeout(() => {
      this.rewrite = undefined;
      void this.drive();
    }, RETRY_WRITE_MS);
  }
}
