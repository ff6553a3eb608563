import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Registry } from '../../core/metrics.js';
import type { InputPin, Level, PinFactory } from '../../io/gpio.js';
import type { Device, GpioInput } from '../../site/model.js';
import type { EmitReading, LocalSource } from '../local/model.js';

// Door contacts and panic buttons wired to the gateway's GPIO lines, turned into the readings an
// MQTT door would send. The kernel reports edges; contacts bounce and edges get lost under load, so
// a change counts once the line has held it for the debounce, and every line is read back now and
// then to catch what the kernel missed.

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;

type Timer = ReturnType<typeof setTimeout>;

interface Line {
  readonly device: Device;
  readonly gpio: GpioInput;
  pin?: InputPin;
  /** The level behind the last value emitted; undefined until the line was first read. */
  stable?: Level;
  /** A change waiting out the debounce (its timer is gone while the confirming read runs). */
  pending?: { level: Level; timer?: Timer };
  /** A read-back is running: the next resync leaves the line alone. */
  reading: boolean;
  /** `offline` was emitted and `online` not yet. */
  offline: boolean;
  reason?: string;
  retryMs: number;
  retry?: Timer;
  keepalive?: ReturnType<typeof setInterval>;
  readonly edges: { inc(): void };
  readonly errors: { inc(): void };
  readonly missed: { inc(): void };
}

export interface GpioSourceDeps {
  /** Site devices; only those with `gpio` are read here. */
  devices: readonly Device[];
  pins: PinFactory;
  emit: EmitReading;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
  /** Config `gpio.resync`: how often every line is read back. */
  resyncMs: number;
}

export class GpioSource implements LocalSource {
  readonly name = 'gpio';
  private readonly lines: Line[];
  private resync?: ReturnType<typeof setInterval>;
  private stopped = false;

  constructor(private readonly d: GpioSourceDeps) {
    const edges = d.metrics.counter('vigie_gpio_edges_total', 'Edges reported by the kernel on GPIO inputs');
    const errors = d.metrics.counter(
      'vigie_gpio_errors_total',
      'GPIO input lines that failed (export, read)',
    );
    const missed = d.metrics.counter(
      'vigie_gpio_missed_edges_total',
      'GPIO level changes found by reading the line back, with no edge reported',
    );
    this.lines = d.devices
      .filter((dev) => dev.gpio !== undefined)
      .map((device) => {
        const labels = { device: device.id };
        return {
          device,
          gpio: device.gpio!,
          reading: false,
          offline: false,
          retryMs: RETRY_MIN_MS,
          edges: edges.labels(labels),
          errors: errors.labels(labels),
          missed: missed.labels(labels),
        };
      });
  }

  async start(): Promise<void> {
    if (this.lines.length === 0 || this.stopped) return;
    const { pins, logger } = this.d;
    if (!pins.available) {
      const reason = pins.unavailableReason ?? 'no GPIO';
      logger.error(`GPIO unavailable: ${reason}; ${this.lines.length} GPIO device(s) reported offline`);
      for (const l of this.lines) {
        l.reason = reason;
        this.goOffline(l);
      }
      return;
    }
    await Promise.all(this.lines.map((l) => this.setPull(l)));
    await Promise.all(this.lines.map((l) => this.open(l)));
    if (!this.stopped && this.d.resyncMs > 0) {
      this.resync = setInterval(() => this.readBackAll(), this.d.resyncMs);
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resync);
    for (const l of this.lines) {
      clearTimeout(l.retry);
      this.close(l);
    }
    return Promise.resolve();
  }

  health(): { ok: boolean; detail?: string } {
    const closed = this.lines.filter((l) => !l.pin);
    if (closed.length === 0) return { ok: true };
    const detail = closed
      .map((l) => `${l.device.id} (line ${l.gpio.pin}): ${l.reason ?? 'not open yet'}`)
      .join('; ');
    return { ok: false, detail };
  }

  private async setPull(l: Line): Promise<void> {
    const { pull, pin } = l.gpio;
    if (pull === 'none') return;
    let r: { ok: true } | { ok: false; reason: string };
    try {
      r = await this.d.pins.pull(pin, pull);
    } catch (err) {
      r = { ok: false, reason: (err as Error).message };
    }
    if (!r.ok) {
      this.d.logger.warn(
        `GPIO ${l.device.id}: cannot set pull-${pull} on line ${pin} (${r.reason}): ` +
          `the wiring needs an external pull-${pull} resistor`,
        { device: l.device.id, line: pin },
      );
    }
  }

  /** Opens (or reopens) the line, emits its current value, then watches it. */
  private async open(l: Line): Promise<void> {
    if (this.stopped) return;
    let pin: InputPin;
    try {
      pin = this.d.pins.input(l.gpio.pin);
    } catch (err) {
      return this.fail(l, err, 'export');
    }
    l.pin = pin;
    let level: Level;
    try {
      level = await pin.read();
    } catch (err) {
      if (l.pin === pin) this.fail(l, err, 'read');
      return;
    }
    if (l.pin !== pin) return; // stopped meanwhile
    pin.watch((err, lv) => this.onEdge(l, pin, err, lv));
    l.retryMs = RETRY_MIN_MS;
    l.reason = undefined;
    if (l.offline) {
      l.offline = false;
      this.d.logger.info(`GPIO ${l.device.id} (line ${l.gpio.pin}) is back`);
      this.d.emit({ deviceId: l.device.id, status: 'online', ts: this.d.clock.now() });
    }
    // A door already open at boot, or one opened while the line was down, counts at once.
    l.stable = level;
    this.emitValue(l);
    const hb = l.device.heartbeatMs;
    // A contact only changes when someone moves it: re-sent often enough that a `heartbeat`
    // absence rule hears from it unless the line really cannot be read.
    if (hb !== undefined && hb > 0) l.keepalive = setInterval(() => this.keepalive(l), Math.max(1, hb / 3));
  }

  private onEdge(l: Line, pin: InputPin, err: Error | null | undefined, level: Level): void {
    if (l.pin !== pin) return;
    if (err) return this.fail(l, err, 'watch');
    l.edges.inc();
    this.feed(l, level);
  }

  /** A level seen on the line (edge or read-back), through the debounce. */
  private feed(l: Line, level: Level): void {
    if (l.stable === undefined || !l.pin) return;
    clearTimeout(l.pending?.timer);
    l.pending = undefined;
    // Back where it was before the debounce ran out: a bounce, nothing to say.
    if (level === l.stable) return;
    if (l.gpio.debounceMs <= 0) return this.settle(l, level);
    const pending: { level: Level; timer?: Timer } = { level };
    pending.timer = setTimeout(() => void this.confirm(l, l.pin!, pending), l.gpio.debounceMs);
    l.pending = pending;
  }

  /**
   * The line held still for the debounce: read it once more, since an edge back to the old level
   * may have been lost, and announcing a door open that is closed raises an alarm for nothing.
   */
  private async confirm(l: Line, pin: InputPin, pending: { level: Level; timer?: Timer }): Promise<void> {
    pending.timer = undefined;
    let level: Level;
    try {
      level = await pin.read();
    } catch (err) {
      if (l.pin === pin) this.fail(l, err, 'read');
      return;
    }
    if (l.pin !== pin || l.pending !== pending) return; // closed, or a newer edge took over
    l.pending = undefined;
    if (level !== l.stable) this.settle(l, level);
  }

  private settle(l: Line, level: Level): void {
    l.stable = level;
    this.emitValue(l);
  }

  private emitValue(l: Line): void {
    const { field, activeLow, activeValue } = l.gpio;
    const active = (l.stable === 1) !== activeLow;
    this.d.emit({
      deviceId: l.device.id,
      values: { [field]: active ? activeValue : !activeValue },
      ts: this.d.clock.now(),
    });
  }

  private keepalive(l: Line): void {
    if (l.pin && l.stable !== undefined) this.emitValue(l);
  }

  private readBackAll(): void {
    for (const l of this.lines) {
      if (l.pin && !l.pending && !l.reading && l.stable !== undefined) void this.readBack(l, l.pin);
    }
  }

  private async readBack(l: Line, pin: InputPin): Promise<void> {
    l.reading = true;
    let level: Level;
    try {
      level = await pin.read();
    } catch (err) {
      if (l.pin === pin) this.fail(l, err, 'read');
      return;
    } finally {
      l.reading = false;
    }
    if (l.pin !== pin || l.pending || level === l.stable) return;
    l.missed.inc();
    this.d.logger.debug(`GPIO ${l.device.id}: line ${l.gpio.pin} is at ${level} with no edge seen`);
    this.feed(l, level);
  }

  /** Closes the line, reports the device offline once, and tries again later. */
  private fail(l: Line, err: unknown, what: 'export' | 'read' | 'watch'): void {
    if (this.stopped) return;
    l.errors.inc();
    this.close(l);
    l.reason = `${what} failed: ${err instanceof Error ? err.message : String(err)}`;
    if (!l.offline) {
      this.d.logger.warn(`GPIO ${l.device.id} (line ${l.gpio.pin}) offline: ${l.reason}; retrying`, {
        device: l.device.id,
      });
      this.goOffline(l);
    } else {
      this.d.logger.debug(`GPIO ${l.device.id}: still failing: ${l.reason}`);
    }
    clearTimeout(l.retry);
    l.retry = setTimeout(() => {
      l.retry = undefined;
      void this.open(l);
    }, l.retryMs);
    l.retryMs = Math.min(l.retryMs * 2, RETRY_MAX_MS);
  }

  private goOffline(l: Line): void {
    l.offline = true;
    this.d.emit({ deviceId: l.device.id, status: 'offline', ts: this.d.clock.now() });
  }

  private close(l: Line): void {
    clearInterval(l.keepalive);
    l.keepalive = undefined;
    clearTimeout(l.pending?.timer);
    l.pending = undefined;
    const pin = l.pin;
    l.pin = undefined;
    if (!pin) return;
    try {
      pin.unwatchAll();
      pin.close();
    } catch (err) {
      this.d.logger.debug(`GPIO ${l.device.id}: closing line ${l.gpio.pin}: ${(err as Error).message}`);
    }
  }
}
