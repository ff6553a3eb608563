import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

// aedes' parser (mqtt-packet) buffers a whole packet before looking at it, and the MQTT
// remaining-length field allows 256 MB ([MQTT-2.2.3]): one client could make the broker hold that
// much per connection. This wrapper reads only the fixed headers as bytes stream past and cuts the
// connection as soon as a header announces a packet larger than the limit.

const enum State {
  Type,
  Length,
  Body,
}

export class PacketSizeScanner {
  private state = State.Type;
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  constructor(private readonly maxPacketBytes: number) {}

  /** False once a packet header exceeds the limit or is malformed (length field over 4 bytes). */
  scan(chunk: Uint8Array): boolean {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === State.Body) {
        const take = Math.min(this.remaining, n - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = State.Type;
      } else if (this.state === State.Type) {
        i++;
        this.state = State.Length;
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else {
        const b = chunk[i++];
        this.remaining += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if ((b & 0x80) === 0) {
          if (this.remaining > this.maxPacketBytes) return false;
          this.state = this.remaining === 0 ? State.Type : State.Body;
        } else if (this.lengthBytes === 4) return false;
      }
    }
    return true;
  }
}

/** The socket as aedes sees it, with the size check on the way in. */
export class GuardedSocket extends Duplex {
  private readonly scanner: PacketSizeScanner;

  constructor(
    private readonly socket: Socket,
    maxPacketBytes: number,
    onOversize: () => void,
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new PacketSizeScanner(maxPacketBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (!this.scanner.scan(chunk)) {
        onOversize();
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.destroyed) return cb(new Error('socket closed'));
    if (this.socket.write(chunk)) cb();
    else this.socket.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
