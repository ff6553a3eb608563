import type { Logger } from '../../core/log.js';
import { openSerialPort, type SerialLink, type SerialSettings } from '../../io/serial-port.js';
import type { SerialLine } from '../../site/model.js';
import type { LineIo } from './line-io.js';

/*
 * A serial line kept open for the sources on it. A USB adapter pulled out, a HAT not yet probed at
 * boot or a permission not yet granted are all the same here: the port is reported closed with why,
 * and opened again later, with a doubling delay, for as long as the gateway runs. Nothing here
 * throws at the owner: it learns of trouble through onState and the promise of a write.
 */

export interface SerialLinePortOptions {
  line: SerialLine;
  logger: Logger;
  /** Makes the (not yet opened) link; tests pass an emulator. */
  open?: (path: string, settings: SerialSettings) => SerialLink;
  /** Delay before reopening (ms), doubling from `minMs` up to `maxMs`. */
  reconnect?: { minMs: number; maxMs: number };
}

type StateListener = (open: boolean, reason?: string) => void;
type DataListener = (chunk: Buffer) => void;

export class SerialLinePort implements LineIo {
  private link: SerialLink | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> = Promise.resolve();
  private delay: number;
  /** undefined until the first attempt: the first failure is a state change too. */
  private reported: boolean | undefined;
  private lastReason = '';
  private readonly dataListeners: DataListener[] = [];
  private readonly stateListeners: StateListener[] = [];
  private readonly settings: SerialSettings;
  private readonly reconnect: { minMs: number; maxMs: number };

  constructor(private readonly o: SerialLinePortOptions) {
    this.reconnect = o.reconnect ?? { minMs: 1000, maxMs: 30_000 };
    this.delay = this.reconnect.minMs;
    const { baudRate, dataBits, parity, stopBits } = o.line;
    this.settings = { baudRate, dataBits, parity, stopBits };
  }

  get isOpen(): boolean {
    return this.link?.isOpen === true;
  }

  onData(cb: DataListener): void {
    this.dataListeners.push(cb);
  }

  onState(cb: StateListener): void {
    this.stateListeners.push(cb);
  }

  write(data: Buffer): Promise<void> {
    const link = this.link;
    if (!link?.isOpen) return Promise.reject(new Error(`serial line ${this.o.line.id} is not open`));
    return new Promise<void>((resolve, reject) => {
      try {
        link.write(data, (err) => (err ? reject(err) : resolve()));
      } catch (err) {
        reject(err as Error);
      }
    });
  }

  start(): Promise<void> {
    if (this.running) return this.attempt;
    this.running = true;
    this.attempt = this.tryOpen();
    return this.attempt;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.attempt;
    const link = this.link;
    this.link = undefined;
    if (link?.isOpen) await new Promise<void>((resolve) => link.close(() => resolve()));
  }

  private async tryOpen(): Promise<void> {
    const { path } = this.o.line;
    let link: SerialLink;
    try {
      link = (this.o.open ?? openSerialPort)(path, this.settings);
      // Without a listener an `error` event would throw out of the stream, at nobody.
      link.on('error', (err: Error) => this.o.logger.debug('serial line error', this.fields(err.message)));
      await new Promise<void>((resolve, reject) => link.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      // serialport's own message reads "Error: Permission denied, cannot open /dev/ttyUSB0".
      const msg = (err as Error).message.replace(/^Error: /, '');
      this.closed(msg.includes(path) ? msg : `cannot open ${path}: ${msg}`);
      return;
    }
    if (!this.running) {
      await new Promise<void>((resolve) => link.close(() => resolve()));
      return;
    }
    this.link = link;
    this.delay = this.reconnect.minMs;
    link.on('data', (chunk: Buffer) => this.data(chunk));
    link.on('close', (err?: Error | null) => {
      if (link !== this.link) return;
      this.link = undefined;
      this.closed(err ? `connection lost: ${err.message}` : 'port closed');
    });
    this.report(true);
  }

  /** The port is not open (any more): say so once, and try again later. */
  private closed(reason: string): void {
    // After stop() the owner asked for the port to close: nothing to report or retry.
    if (!this.running) return;
    this.report(false, reason);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) this.attempt = this.tryOpen();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, this.reconnect.maxMs);
  }

  private report(open: boolean, reason?: string): void {
    if (this.reported === open) {
      // Still closed: a new cause is worth a line (unplugged, then back with the wrong permissions).
      if (!open && reason !== undefined && reason !== this.lastReason) {
        this.lastReason = reason;
        this.o.logger.warn('serial line still closed', this.fields(reason));
      }
      return;
    }
    this.reported = open;
    if (open) {
      this.lastReason = '';
      this.o.logger.info('serial line open', this.fields());
    } else {
      this.lastReason = reason ?? '';
      this.o.logger.warn('serial line closed', this.fields(reason));
    }
    for (const cb of this.stateListeners) {
      try {
        cb(open, reason);
      } catch (err) {
        this.o.logger.error('serial line state listener failed', this.fields((err as Error).message));
      }
    }
  }

  private data(chunk: Buffer): void {
    for (const cb of this.dataListeners) {
      try {
        cb(chunk);
      } catch (err) {
        this.o.logger.error('serial line data listener failed', this.fields((err as Error).message));
      }
    }
  }

  private fields(reason?: string): Record<string, unknown> {
    const f: Record<string, unknown> = { line: this.o.line.id, path: this.o.line.path };
    if (reason !== undefined) f.reason = reason;
    return f;
  }
}
