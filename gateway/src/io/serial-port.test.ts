import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readUntilHangUp } from './serial-port.js';

// A hung-up tty reads 0 bytes, like a file at its end: the read must fail, not retry for ever.

test('serial port - a read of 0 bytes is a hang-up, not a reason to read again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-serial-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tty');
  writeFileSync(file, 'OK\r\n');
  const fd = openSync(file, 'r');
  t.after(() => closeSync(fd));
  const port = { fd, poller: { once: () => undefined } };
  const buffer = Buffer.alloc(16);
  assert.deepEqual(await readUntilHangUp(port, buffer, 0, 16), { buffer, bytesRead: 4 });
  await assert.rejects(readUntilHangUp(port, buffer, 0, 16), /the serial device hung up/);
  await assert.rejects(readUntilHangUp({ ...port, fd: null }, buffer, 0, 16), { canceled: true });
});
