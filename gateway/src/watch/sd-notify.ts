import { createRequire } from 'node:module';
import { silentLogger, type Logger } from '../core/log.js';

/*
 * systemd's notification protocol (sd_notify(3)): newline-separated VAR=value lines in one datagram
 * to the unix socket named by $NOTIFY_SOCKET. `Type=notify` waits for READY=1; with `WatchdogSec=`
 * systemd sets $WATCHDOG_USEC and restarts the service when WATCHDOG=1 does not come in time.
 *
 * Node has no unix datagram socket: the `unix-dgram` native module provides one. It is loaded
 * lazily, so a machine without systemd (or where the module did not build) runs without it.
 */

export interface SystemdNotifier {
  /** Ms within which systemd wants a WATCHDOG=1 (undefined: no watchdog for this process). */
  readonly watchdogMs: number | undefined;
  ready(status?: string): void;
  watchdog(): void;
  status(text: string): void;
  stopping(): void;
}

/** The slice of unix-dgram used here (it ships no types). */
interface UnixDgram {
  createSocket(type: 'unix_dgram'): UnixSocket;
}
interface UnixSocket {
  on(event: 'error', listener: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
  close(): void;
}

/**
 * The socket address as sd_notify(3) reads $NOTIFY_SOCKET: a path, or `@name` for the abstract
 * namespace (a leading NUL byte); undefined when it is neither.
 */
export function notifySocketAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.startsWith('@')) return '\0' + value.slice(1);
  return value.startsWith('/') ? value : undefined;
}

/** WATCHDOG_USEC in ms when it is meant for this process (WATCHDOG_PID absent or ours). */
export function watchdogMsFrom(env: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return usec / 1000;
}

let loaded: { module?: UnixDgram; error?: string } | undefined;

function loadUnixDgram(): { module?: UnixDgram; error?: string } {
  if (!loaded) {
    try {
      loaded = { module: createRequire(import.meta.url)('unix-dgram') as UnixDgram };
    } catch (err) {
      loaded = { error: (err as Error).message };
    }
  }
  return loaded;
}

/**
 * A notifier for systemd, or undefined when not started by systemd with Type=notify (no
 * NOTIFY_SOCKET) or when it cannot be reached (the reason is logged).
 */
export function createSystemdNotifier(
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = silentLogger,
): SystemdNotifier | undefined {
  const raw = env.NOTIFY_SOCKET;
  if (!raw) return undefined;
  const address = notifySocketAddress(raw);
  if (!address) {
    logger.warn('NOTIFY_SOCKET is neither a path nor an abstract name: systemd is not notified', {
      notifySocket: raw,
    });
    return undefined;
  }
  if (address.startsWith('\0')) {
    // unix-dgram copies the path with strncpy: the leading NUL would leave it empty and every
    // message would go to one nameless address. systemd itself uses /run/systemd/notify.
    logger.warn(
      'NOTIFY_SOCKET is an abstract socket, which unix-dgram cannot address: systemd is not notified',
      {
        notifySocket: raw,
      },
    );
    return undefined;
  }
  const { module: unix, error } = loadUnixDgram();
  if (!unix) {
    logger.warn('cannot load unix-dgram: systemd is not notified (readiness, watchdog)', { error });
    return undefined;
  }
  return new DatagramNotifier(unix, address, watchdogMsFrom(env), logger);
}

class DatagramNotifier implements SystemdNotifier {
  private failing = false;

  constructor(
    private readonly unix: UnixDgram,
    private readonly path: string,
    readonly watchdogMs: number | undefined,
    private readonly logger: Logger,
  ) {}

  ready(status?: string): void {
    this.send(status === undefined ? ['READY=1'] : ['READY=1', `STATUS=${oneLine(status)}`]);
  }

  watchdog(): void {
    this.send(['WATCHDOG=1']);
  }

  status(text: string): void {
    this.send([`STATUS=${oneLine(text)}`]);
  }

  stopping(): void {
    this.send(['STOPPING=1']);
  }

  /**
   * A socket per message, closed at once, as libsystemd does: an open unix-dgram socket polls its
   * descriptor and would keep the process alive. Failures are logged once until a send works.
   */
  private send(lines: string[]): void {
    const buf = Buffer.from(lines.join('\n'));
    let socket: UnixSocket | undefined;
    const failed = (err: Error) => {
      if (this.failing) return;
      this.failing = true;
      this.logger.warn('cannot notify systemd', { socket: this.path, error: err.message });
    };
    try {
      socket = this.unix.createSocket('unix_dgram');
      socket.on('error', failed);
      socket.send(buf, 0, buf.length, this.path, (err) => {
        if (err) failed(err);
        else if (this.failing) {
          this.failing = false;
          this.logger.info('notifying systemd again', { socket: this.path });
        }
      });
    } catch (err) {
      failed(err as Error);
    } finally {
      try {
        socket?.close();
      } catch {
        // Closing a socket that failed to open: nothing left to release.
      }
    }
  }
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export interface WatchdogOptions {
  /**
   * Pings are held back while this returns false, so systemd restarts the gateway. Only for a
   * state a restart cures (the event loop starved, a component wedged beyond its own recovery):
   * NOT for a full disk, a failing database, a broker or uplink away — a restart would not fix
   * those, it would loop, and the self-watch already raises them as incidents.
   */
  healthy?: () => boolean;
  logger?: Logger;
  /** Default: half of `watchdogMs`, as sd_watchdog_enabled(3) advises. */
  intervalMs?: number;
}

/**
 * Pings WATCHDOG=1 from a timer, so a hung event loop stops the pings and systemd restarts the
 * gateway. Returns undefined when the notifier has no watchdog (no WatchdogSec= in the unit).
 */
export function startWatchdog(
  notifier: SystemdNotifier | undefined,
  opts: WatchdogOptions = {},
): { stop(): void } | undefined {
  if (!notifier?.watchdogMs) return undefined;
  const logger = opts.logger ?? silentLogger;
  const every = Math.max(1, Math.floor(opts.intervalMs ?? notifier.watchdogMs / 2));
  let held = false;
  const ping = () => {
    let ok = true;
    try {
      ok = opts.healthy?.() ?? true;
    } catch (err) {
      ok = false;
      logger.error('watchdog health check threw', { error: (err as Error).message });
    }
    if (!ok) {
      if (!held)
        logger.error('unhealthy: holding the systemd watchdog back, systemd will restart the gateway');
      held = true;
      return;
    }
    if (held) logger.info('healthy again: pinging the systemd watchdog');
    held = false;
    notifier.watchdog();
  };
  ping();
  const timer = setInterval(ping, every);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
