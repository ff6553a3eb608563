import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../core/log.js';
import type { Registry } from '../../core/metrics.js';
import type { SerialLine } from '../../site/model.js';
import type { LineIo } from './line-io.js';
import { INCOMPLETE, readRequest, readResponse, type Expected, type ModbusReply } from './modbus-frame.js';

/*
 * The master end of a Modbus RTU line (Modbus over Serial Line V1.02): one request on the line at a
 * time, the others queued; before a request the line must have been silent for 3.5 character times
 * (§2.5.1.1), and whatever arrived before it is a stale answer, dropped. A request that gets no
 * answer, a bad CRC or someone else's frame is sent again up to `retries` times; an exception is the
 * slave's answer and is not.
 */

export type ModbusResult = 'ok' | 'timeout' | 'crc' | 'exception' | 'mismatch' | 'closed';
export type ModbusFailure = Exclude<ModbusResult, 'ok'>;

export class ModbusError extends Error {
  constructor(
    readonly reason: ModbusFailure,
    message: string,
    /** The exception code, when the slave answered with one. */
    readonly code?: number,
  ) {
    super(message);
    this.name = 'ModbusError';
  }
}

export type LineTiming = Pick<SerialLine, 'baudRate' | 'dataBits' | 'parity' | 'stopBits'>;

/** Time one character takes on the wire: start bit, data bits, parity bit, stop bits. */
export function charTimeMs(line: LineTiming): number {
  const bits = 1 + line.dataBits + (line.parity === 'none' ? 0 : 1) + line.stopBits;
  return (bits * 1000) / line.baudRate;
}

/** §2.5.1.1: 3.5 character times, fixed at 1.75 ms above 19200 baud (slaves time it by interrupts). */
export function interFrameGapMs(line: LineTiming): number {
  return line.baudRate > 19200 ? 1.75 : 3.5 * charTimeMs(line);
}

/** Keeps a chatty line from growing the receive buffer: a frame is at most 256 bytes. */
const MAX_RX = 1024;

export interface ModbusMasterOptions {
  line: Pick<SerialLine, 'id' | 'timeoutMs' | 'retries'> & LineTiming;
  io: LineIo;
  metrics: Registry;
  logger: Logger;
}

/** What one request on the wire came to. */
type Outcome = ModbusReply | 'timeout' | 'closed';

interface Waiting {
  expect: Expected;
  settle: (r: Outcome) => void;
}

export class ModbusMaster {
  private readonly counts: Record<ModbusResult, { inc(): void }>;
  private readonly gapMs: number;
  private readonly charMs: number;
  private tail: Promise<unknown> = Promise.resolve();
  private rx = Buffer.alloc(0);
  private waiting: Waiting | undefined;
  /** performance.now() of the last byte seen on the line, either way. */
  private lastByteAt = -Infinity;
  private closed = false;

  constructor(private readonly o: ModbusMasterOptions) {
    const counter = o.metrics.counter(
      'vigie_modbus_requests_total',
      'Modbus requests sent on a serial line (each retry counts), by result',
    );
    const bind = (result: ModbusResult) => counter.labels({ line: o.line.id, result });
    this.counts = {
      ok: bind('ok'),
      timeout: bind('timeout'),
      crc: bind('crc'),
      exception: bind('exception'),
      mismatch: bind('mismatch'),
      closed: bind('closed'),
    };
    this.gapMs = interFrameGapMs(o.line);
    this.charMs = charTimeMs(o.line);
    o.io.onData((chunk) => this.receive(chunk));
    o.io.onState((open) => {
      if (!open) this.waiting?.settle('closed');
    });
  }

  /** Reads `count` registers of `table` from `address` on slave `unit`; rejects with a ModbusError. */
  read(unit: number, table: 'holding' | 'input', address: number, count: number): Promise<number[]> {
    const fn = table === 'holding' ? 3 : 4;
    const request = readRequest(unit, fn, address, count);
    const run = this.tail.then(() => this.exchange(request, { unit, fn, count }, address));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Refuses what is still queued; resolves once the request on the line, if any, has settled. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }

  private async exchange(request: Buffer, expect: Expected, address: number): Promise<number[]> {
    const what = `unit ${expect.unit} function ${expect.fn} registers ${address}+${expect.count}`;
    let last: ModbusError | undefined;
    for (let attempt = 0; attempt <= this.o.line.retries; attempt++) {
      if (this.closed) throw last ?? new ModbusError('closed', `line ${this.o.line.id} stopped`);
      const r = await this.attempt(request, expect);
      const result: ModbusResult = typeof r === 'string' ? r : r.ok ? 'ok' : r.error;
      this.counts[result].inc();
      if (typeof r !== 'string' && r.ok) return r.registers;
      last = failure(r, what, this.o.line);
      if (result === 'exception' || result === 'closed') throw last;
      this.o.logger.debug('modbus request failed', { line: this.o.line.id, attempt, error: last.message });
    }
    throw last as ModbusError;
  }

  private async attempt(request: Buffer, expect: Expected): Promise<Outcome> {
    if (!this.o.io.isOpen) return 'closed';
    await this.quiet();
    if (!this.o.io.isOpen) return 'closed';
    // Bytes that came before the request answer something else (a request that timed out).
    this.rx = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<Outcome>((resolve) => {
      this.waiting = {
        expect,
        settle: (r) => {
          clearTimeout(timer);
          this.waiting = undefined;
          resolve(r);
        },
      };
    });
    const waiting = this.waiting;
    try {
      await this.o.io.write(request);
    } catch {
      waiting?.settle('closed');
      return reply;
    }
    // No answer can start before the request has left the wire: the timeout counts from then.
    const onWire = request.length * this.charMs;
    this.lastByteAt = Math.max(this.lastByteAt, performance.now() + onWire);
    if (this.waiting === waiting) {
      timer = setTimeout(
        () => {
          const r = readResponse(this.rx, expect, true);
          waiting?.settle(r === INCOMPLETE ? 'timeout' : r);
        },
        this.o.line.timeoutMs + Math.ceil(onWire),
      );
    }
    return reply;
  }

  /** Waits until the line has been silent for the inter-frame gap (at most one timeout). */
  private async quiet(): Promise<void> {
    const giveUp = performance.now() + this.o.line.timeoutMs;
    for (;;) {
      const now = performance.now();
      const wait = this.lastByteAt + this.gapMs - now;
      if (wait <= 0 || now >= giveUp) return;
      await sleep(Math.ceil(wait));
    }
  }

  private receive(chunk: Buffer): void {
    this.lastByteAt = performance.now();
    const waiting = this.waiting;
    if (!waiting) return;
    this.rx = Buffer.concat([this.rx, chunk]);
    if (this.rx.length > MAX_RX) this.rx = this.rx.subarray(this.rx.length - MAX_RX / 2);
    const r = readResponse(this.rx, waiting.expect);
    if (r !== INCOMPLETE) waiting.settle(r);
  }
}

function failure(
  r: Exclude<Outcome, { ok: true }>,
  what: string,
  line: ModbusMasterOptions['line'],
): ModbusError {
  if (r === 'closed') return new ModbusError('closed', `line ${line.id} is not open (${what})`);
  if (typeof r === 'string')
    return new ModbusError('timeout', `no answer within ${line.timeoutMs} ms to ${what}`);
  if (r.error === 'exception')
    return new ModbusError('exception', `exception ${r.code} (${r.name}) to ${what}`, r.code);
  return new ModbusError(r.error, `${r.detail} (${what})`);
}
