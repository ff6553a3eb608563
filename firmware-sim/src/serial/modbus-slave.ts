import type { SerialSettings } from '../../../gateway/src/io/serial-port.js';
import { openSerialPort, type SerialLink } from '../../../gateway/src/io/serial-port.js';
import type { LineIo } from '../../../gateway/src/listen/serial/line-io.js';

/*
 * Modbus RTU slaves (temperature probes, appliance controllers) on the far end of a serial line, for
 * tests: several units on one bus, each with holding and input registers the test changes while
 * they run, answering functions 03 and 04 the way the specification says (exception 02 for an
 * address it does not have, 03 for a count out of 1..125, 01 for another function), and misbehaving
 * on demand the ways real RS-485 buses do. The CRC is computed here with a table, independently of
 * the gateway's bit-by-bit one, so a shared mistake cannot hide.
 */

export type Table = 'holding' | 'input';

export interface UnitFaults {
  /** Reads requests, answers nothing (unplugged, wrong address, dead). */
  silent: boolean;
  /** The next N answers go out with a broken CRC. */
  badCrc: number;
  /** Sent before every answer, in a write of its own (line noise, a transceiver switching). */
  garbageBefore?: Buffer;
  /** Every answer goes out in two writes, `delayMs` apart. */
  split?: { delayMs: number };
  /** Every request is answered with this exception code. */
  exception?: number;
  /** Answers this long after the request. */
  slowMs: number;
}

export interface SeenRequest {
  unit: number;
  fn: number;
  address: number;
  count: number;
}

export class SimUnit {
  readonly holding = new Map<number, number>();
  readonly input = new Map<number, number>();
  faults: UnitFaults = { silent: false, badCrc: 0, slowMs: 0 };

  constructor(readonly id: number) {}

  /** Sets consecutive registers from `address` (each value 0..65535). */
  set(table: Table, address: number, ...values: number[]): this {
    values.forEach((v, i) => this[table].set(address + i, v & 0xffff));
    return this;
  }

  /** Back to a well-behaved slave. */
  heal(): void {
    this.faults = { silent: false, badCrc: 0, slowMs: 0 };
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  return c;
});

function crc(data: Uint8Array): number {
  let c = 0xffff;
  for (const b of data) c = (c >>> 8) ^ CRC_TABLE[(c ^ b) & 0xff];
  return c;
}

function frame(body: number[]): Buffer {
  const c = crc(Uint8Array.from(body));
  return Buffer.from([...body, c & 0xff, c >>> 8]);
}

export class ModbusSlave {
  readonly units = new Map<number, SimUnit>();
  /** Every request addressed to one of our units, in order. */
  readonly requests: SeenRequest[] = [];
  private rx = Buffer.alloc(0);
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly send: (data: Buffer) => void,
    private readonly closeLink: () => Promise<void> = async () => undefined,
  ) {}

  /** A slave bus on the far end of a pty (the gateway opens the other end). */
  static async open(path: string, settings: number | SerialSettings = 9600): Promise<ModbusSlave> {
    const port: SerialLink = openSerialPort(path, settings);
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    // socat killed: the emulator's end drops too; a test that unplugs the line expects that.
    port.on('error', () => undefined);
    const slave = new ModbusSlave(
      (data) => {
        if (port.isOpen) port.write(data, () => undefined);
      },
      () =>
        new Promise<void>((resolve) => {
          if (port.isOpen) port.close(() => resolve());
          else resolve();
        }),
    );
    port.on('data', (chunk: Buffer) => slave.receive(chunk));
    return slave;
  }

  /** The unit with this address, created on first use. */
  unit(id: number): SimUnit {
    let u = this.units.get(id);
    if (!u) {
      u = new SimUnit(id);
      this.units.set(id, u);
    }
    return u;
  }

  requestsTo(unit: number): SeenRequest[] {
    return this.requests.filter((r) => r.unit === unit);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.closeLink();
  }

  /** Bytes from the master. A request is 8 bytes with a good CRC; anything else is skipped. */
  receive(chunk: Buffer): void {
    this.rx = Buffer.concat([this.rx, chunk]);
    while (this.rx.length >= 8) {
      const c = this.rx.readUInt16LE(6);
      if (crc(this.rx.subarray(0, 6)) !== c) {
        this.rx = this.rx.subarray(1);
        continue;
      }
      const request: SeenRequest = {
        unit: this.rx[0],
        fn: this.rx[1],
        address: this.rx.readUInt16BE(2),
        count: this.rx.readUInt16BE(4),
      };
      this.rx = this.rx.subarray(8);
      this.answer(request);
    }
  }

  private answer(req: SeenRequest): void {
    const unit = this.units.get(req.unit);
    // Other addresses belong to other slaves on the bus; 0 is a broadcast, never answered.
    if (!unit) return;
    this.requests.push(req);
    const f = unit.faults;
    if (f.silent) return;
    const out = frame(this.body(unit, req));
    if (f.badCrc > 0) {
      f.badCrc--;
      out[out.length - 1] ^= 0x5a;
    }
    const { garbageBefore, split } = f;
    this.later(f.slowMs, () => {
      if (garbageBefore) this.send(garbageBefore);
      if (!split) return this.send(out);
      const half = Math.ceil(out.length / 2);
      this.send(out.subarray(0, half));
      this.later(split.delayMs, () => this.send(out.subarray(half)));
    });
  }

  private body(unit: SimUnit, req: SeenRequest): number[] {
    const exception = (code: number) => [unit.id, req.fn | 0x80, code];
    if (unit.faults.exception !== undefined) return exception(unit.faults.exception);
    if (req.fn !== 3 && req.fn !== 4) return exception(1);
    if (req.count < 1 || req.count > 125) return exception(3);
    const table = req.fn === 3 ? unit.holding : unit.input;
    const data: number[] = [];
    for (let a = req.address; a < req.address + req.count; a++) {
      const v = table.get(a);
      if (v === undefined) return exception(2);
      data.push(v >>> 8, v & 0xff);
    }
    return [unit.id, req.fn, data.length, ...data];
  }

  private later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

/**
 * A LineIo whose far end is a ModbusSlave, in memory: for unit tests of what sits on a line. Bytes
 * travel on the next turn of the event loop, as they would through a port.
 */
export class SlaveLine implements LineIo {
  readonly slave: ModbusSlave;
  /** Every write of the master, in order. */
  readonly writes: Buffer[] = [];
  /** start() fails to open while false (a missing adapter). */
  openable = true;
  private open = false;
  private readonly dataCbs: ((chunk: Buffer) => void)[] = [];
  private readonly stateCbs: ((open: boolean, reason?: string) => void)[] = [];

  constructor() {
    this.slave = new ModbusSlave((data) => setImmediate(() => this.inject(data)));
  }

  get isOpen(): boolean {
    return this.open;
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.dataCbs.push(cb);
  }

  onState(cb: (open: boolean, reason?: string) => void): void {
    this.stateCbs.push(cb);
  }

  async write(data: Buffer): Promise<void> {
    if (!this.open) throw new Error('port not open');
    this.writes.push(Buffer.from(data));
    setImmediate(() => {
      if (this.open) this.slave.receive(data);
    });
  }

  async start(): Promise<void> {
    this.setOpen(this.openable, this.openable ? undefined : 'no such device');
  }

  async stop(): Promise<void> {
    await this.slave.close();
    if (this.open) this.setOpen(false, 'stopped');
  }

  /** The port opens, or hangs up (the adapter unplugged). */
  setOpen(open: boolean, reason?: string): void {
    this.open = open;
    for (const cb of this.stateCbs) cb(open, reason);
  }

  /** Bytes arriving from the line. */
  inject(data: Buffer): void {
    if (!this.open) return;
    for (const cb of this.dataCbs) cb(Buffer.from(data));
  }
}
