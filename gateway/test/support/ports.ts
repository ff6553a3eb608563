import { createConnection, createServer } from 'node:net';

/** A TCP port free on loopback right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A service started on two fresh free ports (`make` builds it, `launch` starts it). A free port can
 * be taken by another process between the probe and the bind: then it is stopped and tried again
 * on fresh ports, up to three times.
 */
export async function onFreePorts<T extends { stop(): Promise<void> }>(
  make: (port: number, second: number) => T,
  launch: (service: T) => Promise<void>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const s = make(await freePort(), await freePort());
    try {
      await launch(s);
      return s;
    } catch (err) {
      await s.stop();
      if (attempt >= 3 || !/address already in use/i.test(String(err))) throw err;
    }
  }
}

/** Resolves once `url` answers with a status `ready` accepts; rejects after `timeoutMs` with `why()`. */
export async function waitForHttp(
  url: string,
  ready: (status: number) => boolean,
  timeoutMs: number,
  why: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (ready(r.status)) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms: ${why()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
