import type { Clock } from '../../../../rules/src/model.js';
import type { Logger } from '../../core/log.js';
import type { Registry } from '../../core/metrics.js';
import type { Device, Site, SerialLine } from '../../site/model.js';
import type { EmitReading, LocalReading, LocalSource } from '../local/model.js';
import { LogLimiter } from '../log-limiter.js';
import type { LineIo } from './line-io.js';
import { compileRecordParser, LineFramer, RECORD_REFUSALS, type RecordResult } from './line-parser.js';
import { SerialLinePort } from './serial-line.js';

/*
 * A serial line whose sensors print one record per line (JSON or text matched by a regex). Every
 * record is counted by what became of it; refusals are logged at most once a minute per reason, as
 * a chattering sensor would otherwise fill the SD card. While the port is closed the devices on it
 * are offline; each comes back online with its first good record, not with the port: an open port
 * says nothing about the sensor at the far end of the cable.
 */

export interface TextLineSourceOptions {
  line: SerialLine;
  /** The devices read from this line (their `line.line` is its id). */
  devices: readonly Device[];
  kinds: Site['kinds'];
  io?: LineIo;
  emit: EmitReading;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
}

const LOG_PERIOD_MS = 60_000;
type Result = 'ok' | (typeof RECORD_REFUSALS)[number];

export class TextLineSource implements LocalSource {
  readonly name: string;
  private readonly io: LineIo;
  private readonly framer: LineFramer;
  private readonly parse: (text: string) => RecordResult;
  private readonly counts: Record<Result, { inc(): void }>;
  private readonly limiter: LogLimiter;
  private readonly status = new Map<string, 'online' | 'offline'>();
  private closedBecause = 'not started';

  constructor(private readonly o: TextLineSourceOptions) {
    const { line } = o;
    this.name = `line:${line.id}`;
    this.io = o.io ?? new SerialLinePort({ line, logger: o.logger });
    this.framer = new LineFramer(line);
    this.parse = compileRecordParser(line, o.devices, o.kinds);
    this.limiter = new LogLimiter(o.clock, LOG_PERIOD_MS);
    const counter = o.metrics.counter(
      'vigie_serial_records_total',
      'Records read from serial text lines, by line and result',
    );
    const counts = {} as Record<Result, { inc(): void }>;
    for (const result of ['ok', ...RECORD_REFUSALS] as const) {
      counts[result] = counter.labels({ line: line.id, result });
    }
    this.counts = counts;
    this.io.onData((chunk) => this.receive(chunk));
    this.io.onState((open, reason) => this.portState(open, reason));
  }

  start(): Promise<void> {
    return this.io.start();
  }

  stop(): Promise<void> {
    return this.io.stop();
  }

  health(): { ok: boolean; detail?: string } {
    if (this.io.isOpen) return { ok: true };
    return { ok: false, detail: `${this.o.line.path}: ${this.closedBecause}` };
  }

  private receive(chunk: Buffer): void {
    for (const frame of this.framer.push(chunk)) {
      const r = frame.ok ? this.parse(frame.text) : frame;
      if (r.ok) {
        this.counts.ok.inc();
        this.reading(r.reading);
        continue;
      }
      this.counts[r.reason].inc();
      const suppressed = this.limiter.allow(r.reason);
      if (suppressed !== false) {
        this.o.logger.warn('serial record refused', {
          line: this.o.line.id,
          reason: r.reason,
          detail: r.detail,
          ...(suppressed > 0 ? { suppressed } : {}),
        });
      }
    }
  }

  private reading(r: LocalReading): void {
    if (this.status.get(r.deviceId) !== 'online') {
      this.status.set(r.deviceId, 'online');
      this.send({ deviceId: r.deviceId, status: 'online' });
    }
    this.send(r);
  }

  private portState(open: boolean, reason?: string): void {
    if (open) return;
    this.closedBecause = reason ?? 'closed';
    this.framer.reset();
    for (const d of this.o.devices) {
      if (this.status.get(d.id) === 'offline') continue;
      this.status.set(d.id, 'offline');
      this.send({ deviceId: d.id, status: 'offline' });
    }
  }

  private send(r: LocalReading): void {
    try {
      this.o.emit(r);
    } catch (err) {
      this.o.logger.error('serial line reading not delivered', {
        line: this.o.line.id,
        device: r.deviceId,
        error: (err as Error).message,
      });
    }
  }
}
