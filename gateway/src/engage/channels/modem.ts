import type { ModemChannelConfig } from '../../config/schema.js';
import type { InboundText } from '../actions.js';
import type { Channel, Notification, RetryPolicy, SendResult } from '../channel.js';
import { sctsToIso, type StoredSms } from '../modem/at-parse.js';
import { AtModem, ModemError } from '../modem/at-modem.js';
import type { ChannelDeps } from '../registry.js';

/*
 * SMS through a GSM modem on a serial port: the way out when the site's uplink is down, and the way
 * in for people's replies ("1", "ACK 4821"). Text mode only: one message of at most 160 GSM
 * characters (longer text is cut, ending in '...'; letters the GSM alphabet lacks lose their accent
 * or become '?'). No multipart, no delivery reports.
 *
 * Results: `modem:<mr>` as providerId (the message reference the network gave, 0-255: it names the
 * attempt in the audit trail, it is not unique over time). A modem error (ERROR, +CMS ERROR: n) is
 * retryable: it is usually the network or the credit, and the worker's attempt limit bounds it.
 * Inbound texts carry `modem:<service centre time stamp, ISO 8601>` as providerId (the slot index
 * would be reused as soon as the message is deleted).
 */

const E164 = /^\+[1-9]\d{6,14}$/;
/** Replies may go to a number as the network showed it (national form when it gave no E.164). */
const DIALLABLE = /^\+?\d{3,20}$/;

export class ModemChannel implements Channel {
  readonly type = 'modem';
  readonly retry: RetryPolicy;
  private readonly modem: AtModem;
  private readonly listeners = new Set<(m: InboundText) => void>();

  constructor(
    readonly name: string,
    private readonly cfg: ModemChannelConfig,
    private readonly deps: ChannelDeps,
  ) {
    this.retry = { maxAttempts: cfg.maxAttempts, backoffMs: cfg.backoff, maxBackoffMs: cfg.maxBackoff };
    this.modem = new AtModem({
      path: cfg.path,
      baudRate: cfg.baudRate,
      pin: cfg.pin,
      timeout: cfg.timeout,
      logger: deps.logger.child(`modem:${name}`),
      onSms: (sms) => this.inbound(sms),
    });
  }

  /** Whether the modem is open and initialised (an SMS channel asks before falling back to it). */
  get online(): boolean {
    return this.modem.state === 'ready';
  }

  /** Opens the port and initialises the modem; resolves even when the modem is absent (it retries). */
  start(): Promise<void> {
    return this.modem.start();
  }

  stop(): Promise<void> {
    return this.modem.stop();
  }

  /** Hears SMS received by the modem (replies to alerts). */
  onInbound(listener: (m: InboundText) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(n: Notification, signal: AbortSignal): Promise<SendResult> {
    const to = n.recipient.phone;
    if (!to || !E164.test(to)) {
      return Promise.resolve({
        ok: false,
        retryable: false,
        error: `${n.recipient.id} has no phone number in E.164 form`,
      });
    }
    return this.sendText(to, n.message, signal);
  }

  /** An SMS that is not a delivery (the answer to a reply). Never rejects. */
  async sendText(to: string, text: string, signal: AbortSignal): Promise<SendResult> {
    if (!DIALLABLE.test(to)) return { ok: false, retryable: false, error: `not a phone number: ${to}` };
    try {
      const ref = await this.modem.sendSms(to, text, signal);
      return { ok: true, providerId: ref === undefined ? 'modem' : `modem:${ref}`, via: this.name };
    } catch (err) {
      const retryable = !(err instanceof ModemError && err.reason === 'invalid');
      return { ok: false, retryable, error: (err as Error).message };
    }
  }

  private inbound(sms: StoredSms): void {
    const iso = sms.timestamp ? sctsToIso(sms.timestamp) : undefined;
    const m: InboundText = {
      from: sms.number,
      text: sms.text,
      via: 'modem',
      ...(iso ? { providerId: `modem:${iso}` } : {}),
    };
    this.deps.logger.info('SMS received through the modem', { channel: this.name, from: m.from });
    for (const listener of this.listeners) {
      try {
        listener(m);
      } catch (err) {
        this.deps.logger.error('modem inbound listener failed', { error: (err as Error).message });
      }
    }
  }
}
