import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../core/log.js';
import type { StoredSms } from './at-parse.js';
import { AtModem, ModemError, type SerialLink } from './at-modem.js';

// The driver against a scripted modem on a fake link: the cases a pty cannot stage on time
// (answers that come late, a code inside another answer, echo, a wrong PIN over reconnects).

type Reply = string | { after: number; text: string } | undefined;
/** An answer that says nothing (undefined leaves the answer to the default modem). */
const SILENCE = '';

class FakeLink extends EventEmitter implements SerialLink {
  isOpen = false;
  readonly commands: string[] = [];
  readonly texts: string[] = [];
  private line = '';
  private inText = false;

  constructor(private readonly answer: (cmd: string, link: FakeLink) => Reply) {
    super();
  }

  open(cb: (err: Error | null) => void): void {
    this.isOpen = true;
    setImmediate(() => cb(null));
  }

  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean {
    setImmediate(() => {
      cb(undefined);
      for (const byte of data) this.byte(byte);
    });
    return true;
  }

  close(cb?: (err: Error | null) => void): void {
    this.isOpen = false;
    setImmediate(() => {
      this.emit('close', null);
      cb?.(null);
    });
  }

  say(text: string, after = 0): void {
    setTimeout(() => this.isOpen && this.emit('data', Buffer.from(text, 'latin1')), after);
  }

  private byte(b: number): void {
    if (this.inText) {
      if (b === 0x1a) {
        this.inText = false;
        this.texts.push(this.line);
        this.line = '';
        this.reply(this.answer('<text>', this));
      } else if (b === 0x1b) {
        this.inText = false;
        this.line = '';
      } else this.line += String.fromCharCode(b);
      return;
    }
    if (b === 0x1b) return;
    if (b !== 0x0d) {
      this.line += String.fromCharCode(b);
      return;
    }
    const cmd = this.line;
    this.line = '';
    this.commands.push(cmd);
    if (cmd.startsWith('AT+CMGS=')) this.inText = true;
    this.reply(this.answer(cmd, this));
  }

  private reply(r: Reply): void {
    if (r === undefined) return;
    if (typeof r === 'string') this.say(r);
    else this.say(r.text, r.after);
  }
}

/** A modem that answers what the driver's initialisation needs; `over` answers first. */
function modem(over: (cmd: string, link: FakeLink) => Reply = () => undefined) {
  return (cmd: string, link: FakeLink): Reply => {
    const r = over(cmd, link);
    if (r !== undefined) return r;
    if (cmd === 'AT+CPIN?') return '\r\n+CPIN: READY\r\n\r\nOK\r\n';
    if (cmd.startsWith('AT+CMGS=')) return '\r\n> ';
    if (cmd === '<text>') return '\r\n+CMGS: 42\r\n\r\nOK\r\n';
    return '\r\nOK\r\n';
  };
}

function driver(
  link: FakeLink | (() => FakeLink),
  { timeout = 1000, pin, probeMs }: { timeout?: number; pin?: string; probeMs?: number } = {},
) {
  const received: StoredSms[] = [];
  const m = new AtModem({
    path: '/dev/fake',
    baudRate: 115200,
    timeout,
    pin,
    probeMs,
    logger: silentLogger,
    onSms: (sms) => received.push(sms),
    openLink: typeof link === 'function' ? link : () => link,
    reconnect: { minMs: 10, maxMs: 40 },
  });
  return { m, received };
}

test('at modem - echo before ATE0 and a +CMTI inside the send answer leave the send intact', async (t) => {
  let echo = true;
  const link = new FakeLink(
    modem((cmd, l) => {
      if (echo && cmd !== '<text>') l.say(cmd + '\r');
      if (cmd === 'ATE0') echo = false;
      // A message arrives between the prompt and the send's answer.
      if (cmd === '<text>') return '\r\n+CMTI: "SM",3\r\n\r\n+CMGS: 42\r\n\r\nOK\r\n';
      if (cmd === 'AT+CMGR=3')
        return '\r\n+CMGR: "REC UNREAD","+33612345678",,"26/11/23,10:00:00+04"\r\nACK 4821\r\n\r\nOK\r\n';
      return undefined;
    }),
  );
  const { m, received } = driver(link);
  t.after(() => m.stop());
  await m.start();
  assert.equal(m.state, 'ready');
  assert.equal(await m.sendSms('+33611111111', 'Porte ouverte'), 42);
  assert.deepEqual(link.texts, ['Porte ouverte']);
  for (let i = 0; i < 50 && !link.commands.includes('AT+CMGD=3'); i++) await sleep(10);
  assert.deepEqual(
    received.map((s) => [s.number, s.text]),
    [['+33612345678', 'ACK 4821']],
  );
  assert.ok(link.commands.includes('AT+CMGD=3'));
});

test('at modem - a late answer after a timeout is not taken for the next command', async (t) => {
  let sends = 0;
  const link = new FakeLink(
    modem((cmd) => {
      if (cmd !== '<text>') return undefined;
      sends++;
      // The first send is answered after the driver gave up; the second on time.
      return sends === 1 ? { after: 350, text: '\r\n+CMGS: 1\r\n\r\nOK\r\n' } : '\r\n+CMGS: 2\r\n\r\nOK\r\n';
    }),
  );
  const { m } = driver(link, { timeout: 300 });
  t.after(() => m.stop());
  await m.start();
  const first = await m.sendSms('+33611111111', 'one').catch((e: ModemError) => e);
  assert.ok(first instanceof ModemError && first.reason === 'timeout', String(first));
  assert.equal(first.message, 'modem did not answer within 0.3s');
  assert.equal(await m.sendSms('+33611111111', 'two'), 2);
});

test('at modem - a late OK that lands on the next AT+CMGS before its prompt is ignored', async (t) => {
  let sends = 0;
  const link = new FakeLink(
    modem((cmd) => {
      if (cmd === '<text>') {
        sends++;
        return sends === 1 ? SILENCE : '\r\n+CMGS: 8\r\n\r\nOK\r\n';
      }
      // The second AT+CMGS first gets the stale answer of the first, then its own prompt.
      if (cmd.startsWith('AT+CMGS=') && sends === 1) return '\r\n+CMGS: 7\r\n\r\nOK\r\n\r\n> ';
      return undefined;
    }),
  );
  const { m } = driver(link, { timeout: 150 });
  t.after(() => m.stop());
  await m.start();
  await assert.rejects(m.sendSms('+33611111111', 'one'), { reason: 'timeout' });
  assert.equal(await m.sendSms('+33611111111', 'two'), 8);
});

test('at modem - a PIN the SIM refused is never entered again, whatever the reconnects', async (t) => {
  const links: FakeLink[] = [];
  const { m } = driver(
    () => {
      const link = new FakeLink(
        modem((cmd) => {
          if (cmd === 'AT+CPIN?') return '\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n';
          if (cmd.startsWith('AT+CPIN=')) return '\r\n+CME ERROR: 16\r\n';
          return undefined;
        }),
      );
      links.push(link);
      return link;
    },
    { pin: '0000' },
  );
  t.after(() => m.stop());
  await m.start();
  for (let i = 0; i < 100 && links.length < 4; i++) await sleep(10);
  assert.ok(links.length >= 4, `only ${links.length} connections`);
  const tries = links.flatMap((l) => l.commands).filter((c) => c.startsWith('AT+CPIN='));
  assert.deepEqual(tries, ['AT+CPIN="0000"']);
  assert.match(m.lastProblem, /refused the configured PIN/);
  await assert.rejects(m.sendSms('+33611111111', 'x'), { reason: 'offline' });
});

test('at modem - a port that cannot be opened: start resolves, sends fail fast, it connects later', async (t) => {
  let present = false;
  let opens = 0;
  const { m } = driver(() => {
    opens++;
    const link = new FakeLink(modem());
    if (!present) link.open = (cb) => setImmediate(() => cb(new Error('No such file or directory')));
    return link;
  });
  t.after(() => m.stop());
  await m.start();
  const t0 = Date.now();
  await assert.rejects(m.sendSms('+33611111111', 'x'), (e: ModemError) => {
    assert.equal(e.reason, 'offline');
    assert.match(e.message, /cannot open \/dev\/fake: No such file/);
    return true;
  });
  assert.ok(Date.now() - t0 < 50);
  present = true;
  for (let i = 0; i < 100 && m.state !== 'ready'; i++) await sleep(10);
  assert.equal(m.state, 'ready');
  assert.ok(opens >= 2);
  assert.equal(await m.sendSms('+33611111111', 'x'), 42);
});

test('at modem - a send aborted while queued is never written', async (t) => {
  const link = new FakeLink(
    modem((cmd) => (cmd === '<text>' ? { after: 200, text: '\r\n+CMGS: 5\r\n\r\nOK\r\n' } : undefined)),
  );
  const { m } = driver(link);
  t.after(() => m.stop());
  await m.start();
  const first = m.sendSms('+33611111111', 'first');
  const ac = new AbortController();
  const second = m.sendSms('+33622222222', 'second', ac.signal);
  ac.abort();
  await assert.rejects(second, { reason: 'aborted' });
  assert.equal(await first, 5);
  assert.ok(!link.commands.some((c) => c.includes('+33622222222')));
  await assert.rejects(m.sendSms('+3361111111"', 'x'), { reason: 'invalid' });
});

test('at modem - an idle modem is probed: a lost +CMTI is made good, a mute modem is reopened', async (t) => {
  let lists = 0;
  let mute = false;
  const links: FakeLink[] = [];
  const { m, received } = driver(
    () => {
      const link = new FakeLink(
        modem((cmd) => {
          if (mute) return SILENCE;
          if (cmd !== 'AT+CMGL="ALL"') return undefined;
          // A message that came in without its +CMTI is there at the second listing.
          return ++lists === 2
            ? '\r\n+CMGL: 5,"REC UNREAD","+33612345678",,"26/11/23,10:00:00+04"\r\nlate\r\n\r\nOK\r\n'
            : '\r\nOK\r\n';
        }),
      );
      links.push(link);
      return link;
    },
    { timeout: 200, probeMs: 50 },
  );
  t.after(() => m.stop());
  await m.start();
  for (let i = 0; i < 100 && !links[0].commands.includes('AT+CMGD=5'); i++) await sleep(10);
  assert.deepEqual(
    received.map((s) => s.text),
    ['late'],
  );
  assert.ok(links[0].commands.includes('AT+CMGD=5'));

  mute = true;
  for (let i = 0; i < 100 && links[0].isOpen; i++) await sleep(10);
  assert.equal(links[0].isOpen, false, 'the mute modem is closed');
  mute = false;
  // Wait for the reopened link to be ready (the old one may still read `ready` for a moment).
  for (let i = 0; i < 200 && (links.length < 2 || m.state !== 'ready'); i++) await sleep(10);
  assert.equal(m.state, 'ready');
  assert.ok(links.length >= 2);
});
