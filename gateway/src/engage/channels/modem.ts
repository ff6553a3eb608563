import type { ModemChannelConfig } from '../../config/schema.js';
import type { InboundText } from '../actions.js';
import type { Channel, Notification, RetryPolicy, SendResult } from '../channel.js';
import type { ChannelDeps } from '../registry.js';

// SKELETON (being written in this session): SMS through a GSM modem on a serial port.
export class ModemChannel implements Channel {
  readonly type = 'modem';
  readonly retry: RetryPolicy;

  constructor(
    readonly name: string,
    private readonly cfg: ModemChannelConfig,
    private readonly deps: ChannelDeps,
  ) {
    this.retry = { maxAttempts: cfg.maxAttempts, backoffMs: cfg.backoff, maxBackoffMs: cfg.maxBackoff };
  }

  /** Opens the port and initialises the modem; resolves even when the modem is absent (it retries). */
  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Hears SMS received by the modem (replies to alerts). */
  onInbound(listener: (m: InboundText) => void): () => void {
    void listener;
    return () => {};
  }

  send(n: Notification): Promise<SendResult> {
    void this.cfg;
    void this.deps;
    return Promise.resolve({ ok: false, retryable: false, error: `modem to ${n.recipient.id}: not built yet` });
  }
}
