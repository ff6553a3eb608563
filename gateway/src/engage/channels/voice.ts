import type { VoiceChannelConfig } from '../../config/schema.js';
import type { Channel, Notification, RetryPolicy, SendResult } from '../channel.js';
import type { ChannelDeps } from '../registry.js';

// SKELETON (being written in this session): voice calls through the Calls resource.
export class VoiceChannel implements Channel {
  readonly type = 'voice';
  readonly retry: RetryPolicy;

  constructor(
    readonly name: string,
    private readonly cfg: VoiceChannelConfig,
    private readonly deps: ChannelDeps,
  ) {
    this.retry = { maxAttempts: cfg.maxAttempts, backoffMs: cfg.backoff, maxBackoffMs: cfg.maxBackoff };
  }

  send(n: Notification): Promise<SendResult> {
    void this.cfg;
    void this.deps;
    return Promise.resolve({ ok: false, retryable: false, error: `voice to ${n.recipient.id}: not built yet` });
  }
}
