import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import type { Channel, Notification, Recipient, SendResult } from '../engage/channel.js';
import { FallbackAlarm, fallbackOrder } from './fallback-alarm.js';

const T0 = Date.UTC(2026, 3, 1, 3, 0, 0);

type Script = SendResult | 'throw' | 'hang';

/** A channel that records what it was asked to send and answers from a script (then ok). */
class FakeChannel implements Channel {
  readonly sent: Notification[] = [];
  constructor(
    readonly name: string,
    readonly type: string,
    private readonly script: Script[] = [],
  ) {}
  send(n: Notification, signal: AbortSignal): Promise<SendResult> {
    this.sent.push(n);
    const next = this.script.shift() ?? { ok: true, providerId: `${this.name}-${this.sent.length}` };
    if (next === 'throw') throw new Error('driver crashed');
    if (next === 'hang')
      return new Promise((resolve) =>
        signal.addEventListener('abort', () => resolve({ ok: false, retryable: true, error: 'aborted' })),
      );
    return Promise.resolve(next);
  }
}

const alice: Recipient = { kind: 'person', id: 'alice', name: 'Alice', phone: '+33600000001' };
const bob: Recipient = { kind: 'person', id: 'bob', name: 'Bob', email: 'bob@example.test' };

function setup(channels: FakeChannel[], recipients: Recipient[] = [alice, bob], timeoutMs?: number) {
  const map = new Map(channels.map((c) => [c.name, c]));
  const logger = memoryLogger();
  const clock = new ManualClock(T0);
  const alarm = new FallbackAlarm({
    channels: map,
    order: fallbackOrder(map),
    recipients,
    site: { id: 'cdg-t2', name: 'CDG T2' },
    clock,
    logger,
    timeoutMs,
  });
  return { alarm, logger, clock };
}

describe('watch fallback alarm', () => {
  it('default order: modems, then SMS, e-mail, webhook; other types left out', () => {
    const chans = [
      new FakeChannel('hook', 'webhook'),
      new FakeChannel('console', 'console'),
      new FakeChannel('mail', 'email'),
      new FakeChannel('twilio', 'sms'),
      new FakeChannel('gsm', 'modem'),
      new FakeChannel('siren', 'relay'),
    ];
    assert.deepEqual(fallbackOrder(new Map(chans.map((c) => [c.name, c]))), [
      'gsm',
      'twilio',
      'mail',
      'hook',
    ]);
    assert.deepEqual(fallbackOrder(new Map(), ['mail', 'gsm']), ['mail', 'gsm']);
  });

  it('each recipient gets the alarm once, on the first channel that has their address and takes it', async () => {
    const gsm = new FakeChannel('gsm', 'modem', [{ ok: false, retryable: true, error: 'no network' }]);
    const sms = new FakeChannel('twilio', 'sms');
    const mail = new FakeChannel('mail', 'email');
    const { alarm, logger } = setup([gsm, sms, mail]);
    await alarm.raise('store-failing', 'SQLITE_FULL: database or disk is full');
    // Alice: modem failed, SMS took it. Bob has no phone: straight to e-mail.
    assert.deepEqual(
      gsm.sent.map((n) => n.recipient.id),
      ['alice'],
    );
    assert.deepEqual(
      sms.sent.map((n) => n.recipient.id),
      ['alice'],
    );
    assert.deepEqual(
      mail.sent.map((n) => n.recipient.id),
      ['bob'],
    );
    const n = sms.sent[0];
    assert.equal(n.incident.id, `sys_store-failing_${T0}`);
    assert.equal(n.incident.ruleId, 'gateway-store-failing');
    assert.equal(n.incident.severity, 'critical');
    assert.equal(n.deliveryId, gsm.sent[0].deliveryId, 'the same id on every channel: receivers dedupe');
    assert.equal(n.attempt, 2);
    assert.match(n.message, /^\[Vigie CDG T2\] Gateway database failing: SQLITE_FULL/);
    assert.match(mail.sent[0].subject ?? '', /^\[CRITICAL\] Vigie CDG T2: Gateway database failing$/);
    assert.equal(logger.lines.filter((l) => l.includes('fallback alarm sent')).length, 2);
    assert.equal(
      logger.lines.some((l) => l.includes('no network')),
      true,
    );

    await alarm.raise('store-failing', 'still failing');
    assert.equal(sms.sent.length + mail.sent.length, 2, 'once per episode');
  });

  it('settle sends back to normal once; a new episode alarms again with a new id', async () => {
    const sms = new FakeChannel('twilio', 'sms');
    const { alarm, clock } = setup([sms], [alice]);
    await alarm.settle('store-failing');
    assert.equal(sms.sent.length, 0, 'nothing to settle');
    await alarm.raise('store-failing', 'EIO');
    clock.advance(60_000);
    await alarm.settle('store-failing', 'the incident database takes writes again');
    await alarm.settle('store-failing');
    assert.equal(sms.sent.length, 2);
    const ok = sms.sent[1];
    assert.equal(ok.incident.state, 'cleared');
    assert.match(
      ok.message,
      /Back to normal: Gateway database failing \(the incident database takes writes again\)/,
    );
    assert.notEqual(ok.deliveryId, sms.sent[0].deliveryId);
    clock.advance(60_000);
    await alarm.raise('store-failing', 'EIO again');
    assert.equal(sms.sent[2].incident.id, `sys_store-failing_${T0 + 120_000}`);
  });

  it('a settle while the alarm is still going out follows it', async () => {
    const sms = new FakeChannel('twilio', 'sms');
    const { alarm } = setup([sms], [alice]);
    void alarm.raise('store-failing', 'EIO');
    await alarm.settle('store-failing');
    assert.deepEqual(
      sms.sent.map((n) => n.incident.state),
      ['open', 'cleared'],
    );
  });

  it('never throws: a channel that throws or hangs is passed over, and a total failure is logged', async () => {
    const gsm = new FakeChannel('gsm', 'modem', ['hang']);
    const sms = new FakeChannel('twilio', 'sms', ['throw']);
    const hook = new FakeChannel('hook', 'webhook', [{ ok: false, retryable: false, error: 'HTTP 500' }]);
    const { alarm, logger } = setup([gsm, sms, hook], [alice], 50);
    await alarm.raise('store-failing', 'EIO');
    assert.equal(gsm.sent.length + sms.sent.length + hook.sent.length, 3);
    const last = logger.lines.find((l) => l.includes('could not reach a recipient'));
    assert.ok(last);
    assert.match(last, /gsm: timed out/);
    assert.match(last, /twilio: driver crashed/);
    assert.match(last, /hook: HTTP 500/);
  });

  it('nobody to tell and no channel for an address are logged', async () => {
    const { alarm, logger } = setup([new FakeChannel('mail', 'email')], []);
    await alarm.raise('store-failing', 'EIO');
    assert.equal(
      logger.lines.some((l) => l.includes('nobody to tell')),
      true,
    );
    const s2 = setup([new FakeChannel('mail', 'email')], [alice]);
    await s2.alarm.raise('store-failing', 'EIO');
    assert.equal(
      s2.logger.lines.some((l) => l.includes('no channel for their addresses')),
      true,
    );
  });

  it('recipients given as a function are asked at alarm time', async () => {
    const sms = new FakeChannel('twilio', 'sms');
    const asked: number[] = [];
    const alarm = new FallbackAlarm({
      channels: new Map([['twilio', sms]]),
      order: ['twilio'],
      recipients: (at) => (asked.push(at), [alice]),
      site: { id: 's', name: 'S' },
      clock: new ManualClock(T0),
      logger: memoryLogger(),
    });
    await alarm.raise('disk-low', 'full');
    assert.deepEqual(asked, [T0]);
    assert.equal(sms.sent.length, 1);
  });
});
