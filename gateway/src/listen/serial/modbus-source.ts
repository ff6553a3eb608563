import type { Clock, Scalar } from '../../../../rules/src/model.js';
import type { Logger } from '../../core/log.js';
import type { Registry } from '../../core/metrics.js';
import type { Device, ModbusRegister, SerialLine } from '../../site/model.js';
import type { EmitReading, LocalReading, LocalSource } from '../local/model.js';
import { LogLimiter } from '../log-limiter.js';
import type { LineIo } from './line-io.js';
import { MAX_READ_COUNT } from './modbus-frame.js';
import { ModbusError, ModbusMaster } from './modbus-master.js';
import { SerialLinePort } from './serial-line.js';

/*
 * The devices on a Modbus RTU line (temperature probes, appliance controllers), polled in turn.
 * A device is online once it answers a whole poll, offline after `offlineAfter` polls in a row that
 * failed (after the master's retries), and every device is offline at once when the port closes:
 * nothing on the line can be read then. Polls stop while the port is closed and start again,
 * staggered, when it reopens.
 */

/** Reading a few unused registers costs less than another request and its turnaround. */
const MAX_GAP = 8;
const LOG_PERIOD_MS = 60_000;

type Table = ModbusRegister['table'];

/** One request of a poll: `count` registers of `table` from `address`, covering `registers`. */
export interface ReadRange {
  table: Table;
  address: number;
  count: number;
  registers: readonly ModbusRegister[];
  /** Reads registers no field asked for: a slave without them answers exception 02. */
  spansGap: boolean;
}

function width(r: ModbusRegister): number {
  return r.type === 'int16' || r.type === 'uint16' ? 1 : 2;
}

/** Registers grouped by table into contiguous reads of at most 125, merging gaps up to `maxGap`. */
export function planReads(registers: readonly ModbusRegister[], maxGap = MAX_GAP): ReadRange[] {
  const out: ReadRange[] = [];
  for (const table of ['holding', 'input'] as const) {
    const sorted = registers.filter((r) => r.table === table).sort((a, b) => a.address - b.address);
    let cur: ReadRange | undefined;
    for (const r of sorted) {
      const end = r.address + width(r);
      const curEnd = cur ? cur.address + cur.count : 0;
      if (cur && r.address - curEnd <= maxGap && Math.max(end, curEnd) - cur.address <= MAX_READ_COUNT) {
        cur = {
          ...cur,
          count: Math.max(end, curEnd) - cur.address,
          registers: [...cur.registers, r],
          spansGap: cur.spansGap || r.address > curEnd,
        };
        continue;
      }
      if (cur) out.push(cur);
      cur = { table, address: r.address, count: end - r.address, registers: [r], spansGap: false };
    }
    if (cur) out.push(cur);
  }
  return out;
}

/** The register's raw value from its words (two for 32-bit types, in the register's word order). */
export function decodeRaw(r: Pick<ModbusRegister, 'type' | 'wordOrder'>, words: readonly number[]): number {
  if (r.type === 'uint16') return words[0];
  if (r.type === 'int16') return words[0] >= 0x8000 ? words[0] - 0x10000 : words[0];
  const [hi, lo] = r.wordOrder === 'big' ? [words[0], words[1]] : [words[1], words[0]];
  const buf = Buffer.alloc(4);
  buf.writeUInt16BE(hi, 0);
  buf.writeUInt16BE(lo, 2);
  if (r.type === 'uint32') return buf.readUInt32BE(0);
  if (r.type === 'int32') return buf.readInt32BE(0);
  // A float32 carries about 7 significant digits: 21.3 arrives as 21.299999237060547 otherwise.
  const f = buf.readFloatBE(0);
  return Number.isFinite(f) ? Number(f.toPrecision(7)) : f;
}

/** Digits after the decimal point of a number as written (0.1 -> 1, 2.5e-3 -> 4). */
function decimals(x: number): number {
  const [mantissa, exp] = x.toExponential().split('e');
  return Math.max(0, (mantissa.split('.')[1] ?? '').length - Number(exp));
}

export type FieldValue = { ok: true; value: Scalar } | { ok: false; why: string };

/**
 * raw * scale + offset, or the mapped value. The product is rounded to the decimals of scale and
 * offset (215 * 0.1 is 21.500000000000004 in binary), never to a fixed number of digits, which would
 * cut a large energy counter; a float32 keeps its own 7 digits.
 */
export function fieldValue(r: ModbusRegister, raw: number): FieldValue {
  if (!Number.isFinite(raw)) return { ok: false, why: `not a number (${raw})` };
  if (r.map) {
    const key = String(raw);
    return Object.hasOwn(r.map, key)
      ? { ok: true, value: r.map[key] }
      : { ok: false, why: `${key} not in map` };
  }
  if (r.scale === 1 && r.offset === 0) return { ok: true, value: raw };
  const v = raw * r.scale + r.offset;
  if (r.type === 'float32') return { ok: true, value: Number(v.toPrecision(7)) };
  const digits = Math.min(12, Math.max(decimals(r.scale), decimals(r.offset)));
  return { ok: true, value: Number(v.toFixed(digits)) };
}

export interface ModbusSourceOptions {
  line: SerialLine;
  /** The devices read from this line (their `line.line` is its id). */
  devices: readonly Device[];
  io?: LineIo;
  emit: EmitReading;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
}

interface Poller {
  readonly device: Device;
  readonly unit: number;
  readonly pollMs: number;
  readonly fixed: Readonly<Record<string, Scalar>>;
  plan: ReadRange[];
  /** The slave refused a read across a gap once: its registers are read without gaps since. */
  gapless: boolean;
  state: 'unknown' | 'online' | 'offline';
  failures: number;
  /** performance.now() of the next poll. */
  due: number;
  timer?: ReturnType<typeof setTimeout>;
  busy: boolean;
  readonly badValues: { inc(): void };
}

export class ModbusSource implements LocalSource {
  readonly name: string;
  private readonly io: LineIo;
  private readonly master: ModbusMaster;
  private readonly pollers: Poller[];
  private readonly limiter: LogLimiter;
  private readonly polls = new Set<Promise<void>>();
  private running = false;
  private closedBecause = 'not started';

  constructor(private readonly o: ModbusSourceOptions) {
    const { line } = o;
    this.name = `line:${line.id}`;
    this.io = o.io ?? new SerialLinePort({ line, logger: o.logger });
    this.master = new ModbusMaster({ line, io: this.io, metrics: o.metrics, logger: o.logger });
    this.limiter = new LogLimiter(o.clock, LOG_PERIOD_MS);
    const bad = o.metrics.counter(
      'vigie_modbus_bad_values_total',
      'Modbus register values left out of a reading (not in the map, not a number), by line and device',
    );
    this.pollers = o.devices.flatMap((device) => {
      const src = device.line;
      if (!src || src.line !== line.id || src.unit === undefined) return [];
      return [
        {
          device,
          unit: src.unit,
          pollMs: src.pollMs ?? line.pollMs,
          fixed: src.fixed,
          plan: planReads(src.registers),
          gapless: false,
          state: 'unknown' as const,
          failures: 0,
          due: 0,
          busy: false,
          badValues: bad.labels({ line: line.id, device: device.id }),
        },
      ];
    });
    this.io.onState((open, reason) => this.portState(open, reason));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.io.start();
    if (!this.io.isOpen) this.portState(false, this.closedBecause === 'not started' ? 'not open' : undefined);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const p of this.pollers) this.cancel(p);
    await this.master.close();
    await Promise.all([...this.polls]);
    await this.io.stop();
  }

  health(): { ok: boolean; detail?: string } {
    if (!this.io.isOpen) return { ok: false, detail: `${this.o.line.path}: ${this.closedBecause}` };
    const offline = this.pollers.filter((p) => p.state === 'offline').map((p) => p.device.id);
    if (offline.length > 0) return { ok: false, detail: `offline: ${offline.join(', ')}` };
    return { ok: true };
  }

  private portState(open: boolean, reason?: string): void {
    if (!this.running) return;
    if (open) {
      this.closedBecause = '';
      // Staggered over the poll period, so the devices do not all queue up at the same moment.
      const now = performance.now();
      this.pollers.forEach((p, i) => {
        if (p.busy || p.timer) return;
        p.due = now + Math.floor((i * p.pollMs) / this.pollers.length);
        this.schedule(p);
      });
      return;
    }
    if (reason !== undefined) this.closedBecause = reason;
    const dropped: string[] = [];
    for (const p of this.pollers) {
      this.cancel(p);
      p.failures = 0;
      if (p.state === 'offline') continue;
      p.state = 'offline';
      dropped.push(p.device.id);
      this.send({ deviceId: p.device.id, status: 'offline' });
    }
    if (dropped.length > 0) {
      this.o.logger.warn('modbus devices offline: line closed', {
        line: this.o.line.id,
        devices: dropped,
        reason: this.closedBecause,
      });
    }
  }

  private cancel(p: Poller): void {
    clearTimeout(p.timer);
    p.timer = undefined;
  }

  private schedule(p: Poller): void {
    p.timer = setTimeout(() => void this.poll(p), Math.max(0, p.due - performance.now()));
  }

  private async poll(p: Poller): Promise<void> {
    p.timer = undefined;
    if (!this.running || !this.io.isOpen) return;
    p.busy = true;
    const run = this.pollOnce(p);
    this.polls.add(run);
    await run;
    this.polls.delete(run);
    p.busy = false;
    // Closed meanwhile: the reopening schedules it again. A poll that overran starts at once.
    if (!this.running || !this.io.isOpen || p.timer) return;
    p.due = Math.max(p.due + p.pollMs, performance.now());
    this.schedule(p);
  }

  private async pollOnce(p: Poller): Promise<void> {
    const values: Record<string, Scalar> = { ...p.fixed };
    for (const range of p.plan) {
      let words: number[];
      try {
        words = await this.master.read(p.unit, range.table, range.address, range.count);
      } catch (err) {
        if (err instanceof ModbusError && err.reason === 'closed') return;
        if (err instanceof ModbusError && err.code === 2 && range.spansGap && !p.gapless) {
          this.o.logger.info('modbus slave refuses reads across unused registers: reading them apart', {
            line: this.o.line.id,
            device: p.device.id,
            unit: p.unit,
          });
          p.gapless = true;
          p.plan = planReads(p.device.line?.registers ?? [], 0);
          return this.pollOnce(p);
        }
        return this.failed(p, (err as Error).message);
      }
      for (const r of range.registers) {
        const offset = r.address - range.address;
        const v = fieldValue(r, decodeRaw(r, words.slice(offset, offset + width(r))));
        if (v.ok) values[r.field] = v.value;
        else this.badValue(p, r, v.why);
      }
    }
    this.answered(p, values);
  }

  private answered(p: Poller, values: Record<string, Scalar>): void {
    if (p.state === 'offline') this.o.logger.info('modbus device back online', this.fields(p));
    p.failures = 0;
    if (p.state !== 'online') {
      p.state = 'online';
      this.send({ deviceId: p.device.id, status: 'online' });
    }
    if (Object.keys(values).length > 0) this.send({ deviceId: p.device.id, values, ts: this.o.clock.now() });
  }

  private failed(p: Poller, error: string): void {
    p.failures++;
    if (p.failures === 1) this.o.logger.warn('modbus poll failed', { ...this.fields(p), error });
    if (p.failures < this.o.line.offlineAfter || p.state === 'offline') return;
    p.state = 'offline';
    this.o.logger.warn('modbus device offline', { ...this.fields(p), failures: p.failures, error });
    this.send({ deviceId: p.device.id, status: 'offline' });
  }

  private badValue(p: Poller, r: ModbusRegister, why: string): void {
    p.badValues.inc();
    const suppressed = this.limiter.allow(`${p.device.id}\u0000${r.field}`);
    if (suppressed === false) return;
    this.o.logger.warn('modbus register value left out', {
      ...this.fields(p),
      field: r.field,
      address: r.address,
      why,
      ...(suppressed > 0 ? { suppressed } : {}),
    });
  }

  private fields(p: Poller): Record<string, unknown> {
    return { line: this.o.line.id, device: p.device.id, unit: p.unit };
  }

  private send(r: LocalReading): void {
    try {
      this.o.emit(r);
    } catch (err) {
      this.o.logger.error('modbus reading not delivered', {
        line: this.o.line.id,
        device: r.deviceId,
        error: (err as Error).message,
      });
    }
  }
}
