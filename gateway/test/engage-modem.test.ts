import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModemChannelConfig } from '../src/config/schema.js';
import { memoryLogger } from '../src/core/log.js';
import type { InboundText } from '../src/engage/actions.js';
import type { Notification, SendResult } from '../src/engage/channel.js';
import { ModemChannel } from '../src/engage/channels/modem.js';
import { ModemEmulator } from './support/modem-emulator.js';
import { PtyPair } from './support/pty-pair.js';
import { personNotification } from '../src/engage/testing.js';

// The modem channel through the real serialport code, over a socat pty pair, against an emulated
// modem that checks the AT protocol (test/support/modem-emulator.ts).

const never = new AbortController().signal;

function cfg(path: string, over: Partial<ModemChannelConfig> = {}): ModemChannelConfig {
  return {
    type: 'modem',
    path,
    baudRate: 115200,
    timeout: 1000,
    maxAttempts: 5,
    backoff: 10_000,
    maxBackoff: 300_000,
    ...over,
  };
}

function note(phone: string | undefined, message: string): Notification {
  return personNotification(phone, message, {
    incident: { id: 'inc_0000000001gsm', site: 'plant' },
    notification: { deliveryId: 'dlv_gsm1', language: 'fr' },
  });
}

async function rig(t: TestContext, over: Partial<ModemChannelConfig> = {}, emulator: { pin?: string } = {}) {
  const pair = await PtyPair.start();
  const emu = await ModemEmulator.open(pair.emulatorPath, emulator);
  const logger = memoryLogger();
  const channel = new ModemChannel('gsm', cfg(pair.modemPath, over), { logger });
  const inbound: InboundText[] = [];
  channel.onInbound((m) => inbound.push(m));
  t.after(async () => {
    await channel.stop();
    await emu.close();
    await pair.dispose();
  });
  return { pair, emu, channel, logger, inbound };
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

test('engage modem - an alert goes out as a text-mode SMS in the GSM alphabet', async (t) => {
  const { emu, channel } = await rig(t);
  await channel.start();
  assert.equal(channel.online, true);
  const r = await channel.send(note('+33612345678', 'Porte G12 ouverte — entrée forcée @ 10h'), never);
  assert.deepEqual(r, { ok: true, providerId: `modem:${emu.sent[0].reference}`, via: 'gsm' });
  assert.equal(emu.sent.length, 1);
  assert.equal(emu.sent[0].to, '+33612345678');
  assert.equal(emu.sent[0].text, 'Porte G12 ouverte - entrée forcée @ 10h');
  // é and @ travel as their GSM codes (0x05, 0x00), not as Latin-1 or ASCII.
  assert.ok(emu.sent[0].raw.includes(0x05) && emu.sent[0].raw.includes(0x00));
  const init = emu.commands.slice(0, emu.commands.indexOf('AT+CNMI=2,1,0,0,0') + 1);
  assert.deepEqual(
    init.filter((c) => c !== 'AT'),
    ['ATE0', 'AT+CMEE=1', 'AT+CPIN?', 'AT+CMGF=1', 'AT+CSCS="GSM"', 'AT+CNMI=2,1,0,0,0'],
  );

  const long = await channel.sendText('+33612345678', 'Alarme incendie bâtiment A. '.repeat(10), never);
  assert.equal(long.ok, true);
  assert.equal(emu.sent[1].text.length, 160);
  assert.ok(emu.sent[1].text.endsWith('...'));

  const bad = await channel.send(note('0612345678', 'x'), never);
  assert.deepEqual(bad, {
    ok: false,
    retryable: false,
    error: 'sec-amina has no phone number in E.164 form',
  });
  assert.equal(emu.sent.length, 2);

  // Latency of one SMS through serialport, the pty pair and the emulator (no radio).
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const ok = await channel.sendText('+33612345678', `ping ${i}`, never);
    times.push(performance.now() - t0);
    assert.equal(ok.ok, true);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(
    `send latency through the pty: median ${times[10].toFixed(1)} ms, max ${times[19].toFixed(1)} ms`,
  );
});

test('engage modem - a modem that answers ERROR gives a retryable failure carrying the error', async (t) => {
  const { emu, channel } = await rig(t);
  await channel.start();
  emu.mode = 'error';
  const r = await channel.send(note('+33612345678', 'Porte ouverte'), never);
  assert.deepEqual(r, { ok: false, retryable: true, error: 'modem refused: +CMS ERROR: 500' });
  emu.mode = 'ok';
  assert.equal((await channel.send(note('+33612345678', 'Porte ouverte'), never)).ok, true);
});

test('engage modem - a modem that never answers fails within the timeout; it works again once it answers', async (t) => {
  const { emu, channel, logger } = await rig(t);
  await channel.start();
  emu.mode = 'silent';
  const t0 = Date.now();
  const r = await channel.send(note('+33612345678', 'Porte ouverte'), never);
  const took = Date.now() - t0;
  assert.deepEqual(r, { ok: false, retryable: true, error: 'modem did not answer within 1s' });
  assert.ok(took >= 900 && took < 1500, `took ${took} ms`);
  emu.mode = 'ok';
  const again = await channel.send(note('+33612345678', 'Porte toujours ouverte'), never);
  assert.equal(again.ok, true, JSON.stringify(again));
  assert.deepEqual(
    emu.sent.map((s) => s.text),
    ['Porte toujours ouverte'],
  );
  assert.ok(!logger.lines.some((l) => l.includes('"level":"error"')));
});

test('engage modem - an aborted send returns at once, retryable', async (t) => {
  const { emu, channel } = await rig(t, { timeout: 5000 });
  await channel.start();
  emu.mode = 'silent';
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const t0 = Date.now();
  const r = await channel.send(note('+33612345678', 'Porte ouverte'), ac.signal);
  assert.deepEqual(r, { ok: false, retryable: true, error: 'send aborted' });
  assert.ok(Date.now() - t0 < 1000);
});

test('engage modem - an SMS reply reaches onInbound and is deleted from the modem', async (t) => {
  const { emu, channel, inbound } = await rig(t);
  await channel.start();
  const slot = emu.receive('+33698765432', 'ACK 4821');
  await until('the reply', () => inbound.length === 1);
  assert.equal(inbound[0].from, '+33698765432');
  assert.equal(inbound[0].text, 'ACK 4821');
  assert.equal(inbound[0].via, 'modem');
  assert.match(inbound[0].providerId ?? '', /^modem:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
  await until('the deletion', () => emu.deleted.includes(slot));
  assert.deepEqual(emu.stored, []);

  // A reply that lands while an SMS is being sent (between the prompt and the answer).
  emu.once('prompt', () => emu.receive('+33611111111', 'Reçu, j’arrive'));
  const sent = await channel.send(note('+33612345678', 'Porte ouverte'), never);
  assert.equal(sent.ok, true, JSON.stringify(sent));
  await until('the second reply', () => inbound.length === 2);
  assert.deepEqual(
    { from: inbound[1].from, text: inbound[1].text },
    { from: '+33611111111', text: "Recu, j'arrive" },
  );
  await until('its deletion', () => emu.stored.length === 0);
});

test('engage modem - messages waiting on the SIM at start are read, then deleted', async (t) => {
  const { emu, channel, inbound } = await rig(t);
  emu.store('+33698765432', '1');
  emu.store('+33611111111', 'ACK 4821');
  await channel.start();
  await until('the stored replies', () => inbound.length === 2);
  assert.deepEqual(
    inbound.map((m) => [m.from, m.text]),
    [
      ['+33698765432', '1'],
      ['+33611111111', 'ACK 4821'],
    ],
  );
  await until('their deletion', () => emu.stored.length === 0);
  assert.deepEqual([...emu.deleted].sort(), [1, 2]);
});

test('engage modem - a SIM that asks for its PIN is unlocked with the configured one', async (t) => {
  const { emu, channel } = await rig(t, { pin: '4821' }, { pin: '4821' });
  await channel.start();
  assert.equal(channel.online, true);
  assert.deepEqual(emu.pinTries, ['4821']);
  assert.equal((await channel.send(note('+33612345678', 'Porte ouverte'), never)).ok, true);
});

test('engage modem - an unplugged modem fails sends retryably; the channel reconnects when it is back', async (t) => {
  const { pair, emu, channel, logger } = await rig(t);
  await channel.start();
  assert.equal((await channel.send(note('+33612345678', 'avant'), never)).ok, true);

  await pair.stop();
  await until('the channel to notice', () => !channel.online);
  const t0 = Date.now();
  const down: SendResult = await channel.send(note('+33612345678', 'pendant'), never);
  assert.equal(down.ok, false);
  assert.ok(
    !down.ok && down.retryable && /^modem offline: modem connection lost/.test(down.error),
    JSON.stringify(down),
  );
  assert.ok(Date.now() - t0 < 100, 'fails fast while unplugged');
  assert.ok(logger.lines.some((l) => l.includes('modem connection lost')));
  await emu.close();

  const back = await PtyPair.start(pair.dir);
  const emu2 = await ModemEmulator.open(back.emulatorPath);
  t.after(async () => {
    await channel.stop();
    await emu2.close();
    await back.dispose();
  });
  await until('the channel to reconnect', () => channel.online, 8000);
  assert.equal((await channel.send(note('+33612345678', 'après'), never)).ok, true);
  assert.deepEqual(
    emu2.sent.map((s) => [s.to, s.text]),
    [['+33612345678', 'après']],
  );
});

test('engage modem - no modem at start: start() resolves, sends fail fast, it connects when plugged in', async (t) => {
  const pair = await PtyPair.start();
  await pair.stop();
  const logger = memoryLogger();
  const channel = new ModemChannel('gsm', cfg(pair.modemPath), { logger });
  const t0 = Date.now();
  await channel.start();
  assert.ok(Date.now() - t0 < 500);
  const r = await channel.send(note('+33612345678', 'x'), never);
  assert.ok(!r.ok && r.retryable && r.error.includes('cannot open'), JSON.stringify(r));

  const back = await PtyPair.start(pair.dir);
  const emu = await ModemEmulator.open(back.emulatorPath);
  t.after(async () => {
    await channel.stop();
    await emu.close();
    await back.dispose();
  });
  await until('the modem to come up', () => channel.online, 8000);
  assert.equal((await channel.send(note('+33612345678', 'enfin'), never)).ok, true);
  assert.equal(emu.sent[0].text, 'enfin');
});
