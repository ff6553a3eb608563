// Load mode: R events/s over N temperature devices, paced on a 1 ms tick (each tick sends what the
// elapsed time says is due, in one write per connection), so the achieved rate tracks the target
// without one timer per message. Every event crosses the bench rule's threshold (35 °C then 15 °C
// per device against above 30, hysteresis 2), so each one should produce an incident transition.
import type { Socket } from 'node:net';
import { DISCONNECT, publishPacket, rawConnect } from './mqtt-wire.js';

export interface LoadOptions {
  url: string;
  devices: number;
  /** Events per second. */
  rate: number;
  durationMs: number;
  site?: string;
  username?: string;
  password?: string;
  connections?: number;
  /** Device id of index i (the bench site uses the same function). */
  deviceId?: (i: number) => string;
}

export interface LoadReport {
  sent: number;
  elapsedMs: number;
  targetRate: number;
  achievedRate: number;
  /** Ticks skipped because the socket buffer was full (the broker could not keep up). */
  stalledTicks: number;
}

export const loadDeviceId = (i: number): string => `t${String(i).padStart(5, '0')}`;

/** One clock shared by processes on the same machine: epoch ms with sub-ms precision. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

const MAX_BUFFERED = 8 * 1024 * 1024;

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const site = o.site ?? 'bench';
  const idOf = o.deviceId ?? loadDeviceId;
  const n = Math.max(1, Math.min(o.connections ?? 2, 16));
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    sockets.push(await rawConnect(o.url, `loadgen-${process.pid}-${i}`, o.username, o.password));
  }
  let lost: Error | undefined;
  for (const s of sockets) {
    s.on('error', (err) => (lost ??= err));
    // aedes drops a client that publishes where it may not: say so instead of pacing into the void.
    s.on(
      'close',
      () => (lost ??= new Error('the broker closed a load connection (not allowed to publish there?)')),
    );
  }
  const topics = Array.from({ length: o.devices }, (_, i) => `vigie/${site}/temperature/${idOf(i)}`);
  const total = Math.round((o.rate * o.durationMs) / 1000);
  // Never catch up more than 50 ms of lag in one burst: a stall shows up as a lower achieved rate.
  const maxBurst = Math.max(1, Math.ceil(o.rate / 20));
  let sent = 0;
  let stalledTicks = 0;
  const t0 = performance.now();

  await new Promise<void>((resolve, reject) => {
    const tick = () => {
      if (lost) return reject(lost);
      const elapsed = performance.now() - t0;
      if (elapsed >= o.durationMs || sent >= total) return resolve();
      const due = Math.min(total, Math.floor((elapsed * o.rate) / 1000));
      let todo = Math.min(due - sent, maxBurst);
      if (todo > 0 && sockets.some((s) => s.writableLength > MAX_BUFFERED)) {
        stalledTicks++;
        todo = 0;
      }
      if (todo > 0) {
        const batches: Buffer[][] = sockets.map(() => []);
        for (let k = 0; k < todo; k++, sent++) {
          const dev = sent % o.devices;
          const hot = Math.floor(sent / o.devices) % 2 === 0;
          const payload = `{"celsius":${hot ? 35 : 15},"ts":${preciseNow()}}`;
          batches[dev % n].push(publishPacket(topics[dev], payload));
        }
        batches.forEach((b, i) => b.length > 0 && sockets[i].write(b.length === 1 ? b[0] : Buffer.concat(b)));
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  const elapsedMs = performance.now() - t0;
  await Promise.all(sockets.map((s) => closeGracefully(s)));
  return { sent, elapsedMs, targetRate: o.rate, achievedRate: (sent * 1000) / elapsedMs, stalledTicks };
}

function closeGracefully(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.once('close', () => resolve());
    s.end(DISCONNECT);
    setTimeout(() => s.destroy(), 5000).unref();
  });
}
