import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { memoryLogger } from '../core/log.js';
import { createSystemdNotifier, notifySocketAddress, startWatchdog, watchdogMsFrom } from './sd-notify.js';

// systemd's side played by a real unix datagram socket, bound here as /run/systemd/notify would be.

interface Server {
  bind(path: string): void;
  on(event: 'message', listener: (buf: Buffer) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  close(): void;
}
const unix = createRequire(import.meta.url)('unix-dgram') as {
  createSocket(type: 'unix_dgram'): Server;
};

const dir = mkdtempSync(join(tmpdir(), 'vigie-sd-'));
const path = join(dir, 'notify');
const received: { text: string; at: number }[] = [];
let server: Server;

before(() => {
  server = unix.createSocket('unix_dgram');
  server.on('message', (buf) => received.push({ text: buf.toString(), at: performance.now() }));
  server.on('error', (err) => assert.fail(err));
  server.bind(path);
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until `n` messages arrived after index `from` (or fails after a while). */
async function messages(from: number, n: number, timeoutMs = 3000): Promise<string[]> {
  const until = performance.now() + timeoutMs;
  while (received.length < from + n && performance.now() < until) await sleep(5);
  return received.slice(from, from + n).map((m) => m.text);
}

describe('sd-notify - environment', () => {
  it('no NOTIFY_SOCKET: no notifier', () => {
    assert.equal(createSystemdNotifier({}), undefined);
  });

  it('reads the socket address and the watchdog as sd_notify(3) does', () => {
    assert.equal(notifySocketAddress('/run/systemd/notify'), '/run/systemd/notify');
    assert.equal(notifySocketAddress('@vigie/notify'), '\0vigie/notify');
    assert.equal(notifySocketAddress('relative/notify'), undefined);
    assert.equal(watchdogMsFrom({ WATCHDOG_USEC: '30000000' }), 30_000);
    assert.equal(watchdogMsFrom({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) }), 30_000);
    assert.equal(
      watchdogMsFrom({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }),
      undefined,
      'for another process',
    );
    assert.equal(watchdogMsFrom({ WATCHDOG_USEC: 'x' }), undefined);
    assert.equal(watchdogMsFrom({}), undefined);
  });

  it('an abstract socket is refused with the reason logged (unix-dgram cannot address it)', () => {
    const logger = memoryLogger();
    assert.equal(createSystemdNotifier({ NOTIFY_SOCKET: '@vigie' }, logger), undefined);
    assert.match(logger.lines.join('\n'), /abstract socket/);
  });
});

describe('sd-notify - messages', () => {
  it('ready, status, watchdog and stopping arrive as systemd reads them', async () => {
    const n = createSystemdNotifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '4000000' });
    assert.ok(n);
    assert.equal(n.watchdogMs, 4000);
    const from = received.length;
    n.ready('listening on :1883\nand :8080');
    n.status('3 incidents open');
    n.watchdog();
    n.stopping();
    assert.deepEqual(await messages(from, 4), [
      'READY=1\nSTATUS=listening on :1883 and :8080',
      'STATUS=3 incidents open',
      'WATCHDOG=1',
      'STOPPING=1',
    ]);
  });

  it('a socket nobody listens on is logged once, never thrown', () => {
    const logger = memoryLogger();
    const n = createSystemdNotifier({ NOTIFY_SOCKET: join(dir, 'gone') }, logger);
    assert.ok(n);
    n.ready();
    n.watchdog();
    assert.equal(logger.lines.filter((l) => l.includes('cannot notify systemd')).length, 1);
  });
});

describe('sd-notify - watchdog', () => {
  it('pings at half the watchdog period; none without a watchdog', async () => {
    assert.equal(startWatchdog(createSystemdNotifier({ NOTIFY_SOCKET: path })), undefined);
    const n = createSystemdNotifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000' });
    const from = received.length;
    const w = startWatchdog(n);
    assert.ok(w);
    assert.deepEqual(await messages(from, 5), Array(5).fill('WATCHDOG=1'));
    w.stop();
    const at = received.slice(from, from + 5).map((m) => m.at);
    // Receive times, in this busy process: the span of four periods, not each gap, says the pace.
    assert.ok(at[4] - at[0] >= 150, `5 pings in ${Math.round(at[4] - at[0])} ms: every 50 ms, not faster`);
    const stoppedAt = received.length;
    await sleep(120);
    assert.equal(received.length, stoppedAt, 'stopped');
  });

  it('healthy() false holds the pings back, and they resume when it is true again', async () => {
    const logger = memoryLogger();
    let healthy = false;
    const n = createSystemdNotifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '60000' });
    const from = received.length;
    const w = startWatchdog(n, { healthy: () => healthy, logger });
    await sleep(120);
    assert.equal(received.length, from, 'no ping while unhealthy');
    assert.match(logger.lines.join('\n'), /holding the systemd watchdog back/);
    healthy = true;
    assert.deepEqual(await messages(from, 1), ['WATCHDOG=1']);
    w?.stop();
  });

  it('a hung event loop stops the pings: what makes systemd restart the gateway', async () => {
    // The gateway's side in its own process, so that its loop can hang while this one listens.
    const script = join(dir, 'hang.mjs');
    writeFileSync(
      script,
      `import { createSystemdNotifier, startWatchdog } from ${JSON.stringify(new URL('./sd-notify.js', import.meta.url).href)};
const w = startWatchdog(createSystemdNotifier(process.env));
setTimeout(() => {
  const end = Date.now() + 800;
  while (Date.now() < end);
}, 300);
setTimeout(() => { w.stop(); }, 1500);
`,
    );
    const from = received.length;
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000' },
      stdio: 'inherit',
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    await sleep(20);
    const at = received.slice(from).map((m) => m.at);
    assert.ok(at.length >= 10, `${at.length} pings`);
    const gaps = at.slice(1).map((t, k) => t - at[k]);
    const longest = Math.max(...gaps);
    assert.ok(longest >= 700, `the longest gap between pings was ${Math.round(longest)} ms`);
    assert.ok(gaps.filter((g) => g >= 700).length === 1, 'one long silence: while the loop hung');
    assert.ok(at.at(-1)! - at[0] >= 1300, 'pings resumed after the hang');
  });
});
