import { read } from 'node:fs';
import { promisify } from 'node:util';
import { SerialPort } from 'serialport';
import type { EventEmitter } from 'node:events';

// serialport@13 on Linux (bindings-cpp unix-read) retries a read that returned 0 bytes at once, for
// ever. A tty reads 0 bytes only once it has hung up (USB modem unplugged, the far end of a pty
// gone): the port then spins a CPU and is never reported closed, unless the hang-up happened to
// land while the read was parked on the poller. Here 0 bytes is the disconnect it is.

const fsRead = promisify(read);

/** The part of a SerialPort the modem and the serial sensor lines use (tests pass an emulator). */
export interface SerialLink extends EventEmitter {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean;
  close(cb?: (err: Error | null) => void): void;
}

/** Line settings of an RS-232/RS-485 port; 8N1 when left out. */
export interface SerialSettings {
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
}

interface LinuxPort {
  fd: number | null;
  poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
}

function isLinuxPort(port: object): port is LinuxPort {
  return 'fd' in port && 'poller' in port;
}

const canceled = () => Object.assign(new Error('Port is not open'), { canceled: true });

/** Reads at least one byte; rejects once the device has hung up. Exported for tests. */
export async function readUntilHangUp(
  port: Pick<LinuxPort, 'fd' | 'poller'>,
  buffer: Buffer,
  offset: number,
  length: number,
): Promise<{ buffer: Buffer; bytesRead: number }> {
  for (;;) {
    if (port.fd === null) throw canceled();
    let bytesRead: number;
    try {
      ({ bytesRead } = await fsRead(port.fd, buffer, offset, length, null));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw err;
      if (port.fd === null) throw canceled();
      await new Promise<void>((resolve, reject) =>
        port.poller.once('readable', (e) => (e ? reject(e) : resolve())),
      );
      continue;
    }
    // The stream closes the port on any read error that is not `canceled` (a disconnect).
    if (bytesRead === 0) throw new Error('the serial device hung up');
    return { buffer, bytesRead };
  }
}

// The platform's binding, seen through the two calls a binding has (@serialport/bindings-interface).
const base = SerialPort.binding as unknown as {
  list(): Promise<unknown[]>;
  open(options: unknown): Promise<object>;
};
const binding = {
  list: () => base.list(),
  open: async (options: unknown) => {
    const port = await base.open(options);
    if (process.platform === 'linux' && isLinuxPort(port)) {
      port.read = (buffer, offset, length) => readUntilHangUp(port, buffer, offset, length);
    }
    return port;
  },
};

/** A SerialPort (not opened yet) that reports a hang-up as a close. */
export function openSerialPort(path: string, settings: number | SerialSettings): SerialLink {
  const line = typeof settings === 'number' ? { baudRate: settings } : settings;
  const options = { path, ...line, autoOpen: false, binding };
  return new SerialPort(options as unknown as ConstructorParameters<typeof SerialPort>[0]);
}
