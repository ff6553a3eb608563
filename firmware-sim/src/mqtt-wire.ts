// The few MQTT 3.1.1 packets the load generator needs, written by hand: at 50k+ messages/s a
// general client's per-message object and stream overhead would make the generator the bottleneck,
// so publishes of one tick are encoded into a single buffer and written once.
import { connect, type Socket } from 'node:net';

function remainingLength(n: number): number[] {
  // [MQTT-2.2.3] variable byte integer, 7 bits per byte, high bit = more bytes follow.
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

export function connectPacket(clientId: string, username?: string, password?: string): Buffer {
  let flags = 0x02; // clean session
  const payload = [str(clientId)];
  if (username !== undefined) {
    flags |= 0x80;
    payload.push(str(username));
  }
  if (password !== undefined) {
    flags |= 0x40;
    payload.push(str(password));
  }
  // Keep alive 0: no PINGREQ needed, the broker never times the generator out [MQTT-3.1.2-10].
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, 0, 0]);
  const body = Buffer.concat([variable, ...payload]);
  return Buffer.concat([Buffer.from([0x10, ...remainingLength(body.length)]), body]);
}

/** A QoS 0 PUBLISH: no packet id [MQTT-2.3.1-5]. */
export function publishPacket(topic: string, payload: string): Buffer {
  const t = Buffer.byteLength(topic);
  const p = Buffer.byteLength(payload);
  const len = 2 + t + p;
  const head = remainingLength(len);
  const buf = Buffer.allocUnsafe(1 + head.length + len);
  let o = 0;
  buf[o++] = 0x30;
  for (const b of head) buf[o++] = b;
  buf.writeUInt16BE(t, o);
  o += 2;
  o += buf.write(topic, o, 'utf8');
  buf.write(payload, o, 'utf8');
  return buf;
}

export const DISCONNECT = Buffer.from([0xe0, 0]);

/** Opens a TCP connection and completes CONNECT/CONNACK; rejects on refusal. */
export function rawConnect(
  url: string,
  clientId: string,
  username?: string,
  password?: string,
): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || 1883), noDelay: true });
    let acc = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => socket.write(connectPacket(clientId, username, password)));
    const onData = (chunk: Buffer) => {
      acc = Buffer.concat([acc, chunk]);
      if (acc.length < 4) return;
      socket.off('data', onData);
      socket.off('error', fail);
      if (acc[0] !== 0x20 || acc[3] !== 0)
        return fail(new Error(`connection refused by the broker (code ${acc[3]})`));
      // Keep reading (and discarding) so the socket never stalls on unread input.
      socket.on('data', () => undefined);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}
