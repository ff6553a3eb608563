import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test, type TestContext } from 'node:test';
import { memoryLogger } from '../../core/log.js';
import type { SerialLink, SerialSettings } from '../../io/serial-port.js';
import type { SerialLine } from '../../site/model.js';
import { SerialLinePort } from './serial-line.js';

// The port's life with a scripted link and mocked timers: when it opens, what the owner hears,
// when it tries again. The real serialport path is in test/serial-lines.test.ts.

const line: SerialLine = {
  id: 'rs485-1',
  path: '/dev/ttyUSB7',
  baudRate: 19200,
  dataBits: 7,
  parity: 'even',
  stopBits: 2,
  protocol: 'lines',
  delimiter: '\n',
  format: 'json',
  maxLineBytes: 256,
  timeoutMs: 500,
  retries: 2,
  offlineAfter: 3,
  pollMs: 10_000,
};

class FakeLink extends EventEmitter implements SerialLink {
  isOpen = false;
  readonly written: Buffer[] = [];
  writeError: Error | undefined;
  constructor(private readonly openError: Error | undefined) {
    super();
  }
  open(cb: (err: Error | null) => void): void {
    queueMicrotask(() => {
      this.isOpen = this.openError === undefined;
      cb(this.openError ?? null);
    });
  }
  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean {
    this.written.push(data);
    queueMicrotask(() => cb(this.writeError));
    return true;
  }
  close(cb?: (err: Error | null) => void): void {
    this.isOpen = false;
    this.emit('close', null);
    cb?.(null);
  }
  /** The device is unplugged: serialport closes the port with the read error. */
  hangUp(): void {
    this.isOpen = false;
    this.emit('close', new Error('the serial device hung up'));
  }
}

/** Opens fail while `failing` is set; every link made is kept. */
function opener(failing: { error: Error | undefined }) {
  const calls: { path: string; settings: SerialSettings; link: FakeLink }[] = [];
  const open = (path: string, settings: SerialSettings) => {
    const link = new FakeLink(failing.error);
    calls.push({ path, settings, link });
    return link;
  };
  return { calls, open };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(t: TestContext, failing: { error: Error | undefined }) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const logger = memoryLogger();
  const { calls, open } = opener(failing);
  const port = new SerialLinePort({ line, logger, open, reconnect: { minMs: 100, maxMs: 500 } });
  const states: [boolean, string | undefined][] = [];
  port.onState((isOpen, reason) => states.push([isOpen, reason]));
  t.after(() => port.stop());
  const tick = async (ms: number) => {
    t.mock.timers.tick(ms);
    await flush();
  };
  const warnings = () => logger.lines.filter((l) => JSON.parse(l).level === 'warn');
  return { port, calls, states, tick, warnings };
}

test('serial line - opens the configured port with the line settings and passes bytes both ways', async (t) => {
  const { port, calls, states } = setup(t, { error: undefined });
  const chunks: Buffer[] = [];
  port.onData((c) => chunks.push(c));
  await port.start();
  assert.equal(calls.length, 1);
  assert.equal(calls[0].path, '/dev/ttyUSB7');
  assert.deepEqual(calls[0].settings, { baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 2 });
  assert.equal(port.isOpen, true);
  assert.deepEqual(states, [[true, undefined]]);
  calls[0].link.emit('data', Buffer.from('21.5\n'));
  assert.deepEqual(chunks.map(String), ['21.5\n']);
  await port.write(Buffer.from('?\r'));
  assert.deepEqual(calls[0].link.written.map(String), ['?\r']);
});

test('serial line - a port that will not open is reported closed once and retried with a doubling delay', async (t) => {
  const failing = { error: new Error('No such file or directory') as Error | undefined };
  const { port, calls, states, tick, warnings } = setup(t, failing);
  await port.start();
  assert.equal(port.isOpen, false);
  assert.deepEqual(states, [[false, 'cannot open /dev/ttyUSB7: No such file or directory']]);
  // Attempts after 100, 200, 400, then every 500 ms (the cap).
  const attemptsAt: number[] = [];
  for (let ms = 1; ms <= 2200; ms++) {
    const before = calls.length;
    await tick(1);
    if (calls.length > before) attemptsAt.push(ms);
  }
  assert.deepEqual(attemptsAt, [100, 300, 700, 1200, 1700, 2200]);
  assert.equal(states.length, 1, 'retries that fail the same way are not news');
  assert.equal(warnings().length, 1, 'one log line, not one per retry');

  failing.error = undefined;
  await tick(500);
  assert.equal(port.isOpen, true);
  assert.deepEqual(states.at(-1), [true, undefined]);
});

test('serial line - a hang-up is reported with its cause and the port is reopened', async (t) => {
  const failing = { error: undefined as Error | undefined };
  const { port, calls, states, tick } = setup(t, failing);
  await port.start();
  failing.error = new Error('No such file or directory');
  calls[0].link.hangUp();
  assert.deepEqual(states.at(-1), [false, 'connection lost: the serial device hung up']);
  await assert.rejects(port.write(Buffer.from('x')), /serial line rs485-1 is not open/);
  await tick(100);
  await tick(200);
  assert.equal(calls.length, 3);
  failing.error = undefined;
  await tick(400);
  assert.equal(calls.length, 4);
  assert.equal(port.isOpen, true);
  assert.deepEqual(
    states.map(([open]) => open),
    [true, false, true],
  );
  // Open again: the next failure starts from the shortest delay.
  calls[3].link.hangUp();
  await tick(100);
  assert.equal(calls.length, 5);
  assert.equal(port.isOpen, true);
});

test('serial line - write errors reject the write; listener errors stay inside', async (t) => {
  const { port, calls } = setup(t, { error: undefined });
  port.onData(() => {
    throw new Error('listener bug');
  });
  const seen: string[] = [];
  port.onData((c) => seen.push(String(c)));
  await port.start();
  calls[0].link.writeError = new Error('EIO');
  await assert.rejects(port.write(Buffer.from('x')), /EIO/);
  calls[0].link.emit('data', Buffer.from('a'));
  assert.deepEqual(seen, ['a'], 'one failing listener does not starve the others');
});

test('serial line - stop closes the port and no reopen follows', async (t) => {
  const { port, calls, states, tick } = setup(t, { error: undefined });
  await port.start();
  await port.stop();
  assert.equal(calls[0].link.isOpen, false);
  assert.equal(port.isOpen, false);
  await tick(10_000);
  assert.equal(calls.length, 1);
  assert.deepEqual(states, [[true, undefined]], 'closing on request is not a failure to report');
});
