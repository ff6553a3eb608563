import { openSerialPort, type SerialLink, type SerialSettings } from '../../../gateway/src/io/serial-port.js';

/*
 * A sensor that prints records on a serial line (a thermometer's "T1 T=4.5", a gateway board's JSON
 * lines), on the far end of a pty. It only talks: `send` writes a whole record, `raw` writes any
 * bytes as they are, for the things real lines do to a reader (noise at power-up, a record cut in
 * two by a slow UART, no delimiter at all).
 */

export interface LineSensorOptions {
  /** Default 9600 8N1, which a pty ignores anyway. */
  settings?: SerialSettings;
  /** Appended by `send`; default "\n". */
  delimiter?: string;
}

export class LineSensor {
  private constructor(
    private readonly port: SerialLink,
    private readonly delimiter: string,
  ) {
    // The gateway's end going away closes ours; a test that unplugs the line expects it.
    port.on('error', () => undefined);
  }

  static async open(path: string, o: LineSensorOptions = {}): Promise<LineSensor> {
    const port = openSerialPort(path, o.settings ?? { baudRate: 9600 });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new LineSensor(port, o.delimiter ?? '\n');
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  /** One record, the delimiter added. */
  send(text: string): Promise<void> {
    return this.raw(text + this.delimiter);
  }

  /** Bytes exactly as given: garbage, half a record, a record without its delimiter. */
  raw(bytes: Buffer | string): Promise<void> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    return new Promise<void>((resolve, reject) => {
      if (!this.port.isOpen) return reject(new Error('line sensor: the port is closed'));
      this.port.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}
