import type { VoiceChannelConfig } from '../../config/schema.js';
import type { Channel, Notification, Reconciled, RetryPolicy, SendResult } from '../channel.js';
import type { ChannelDeps } from '../registry.js';
import { parseTwilioDate, TwilioRest } from '../twilio/rest.js';

/*
 * Voice calls through a Twilio-compatible Calls resource:
 *   POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Calls.json
 *   To, From, Url={publicUrl}/hooks/twilio/voice/{deliveryId}, Method=POST,
 *   StatusCallback={publicUrl}/hooks/twilio/status/{deliveryId}, StatusCallbackMethod=POST,
 *   StatusCallbackEvent=initiated&StatusCallbackEvent=ringing&..., Timeout=<ring seconds>,
 *   [MachineDetection=Enable]
 * https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
 * 201 = the provider will dial: the outcome (answered, no-answer, busy...) arrives on the status
 * callback, and what the person says on the keypad arrives on the voice webhooks (twilio/webhooks.ts).
 */

const E164 = /^\+[1-9]\d{6,14}$/;
const CLOCK_SLACK_MS = 2000;
const EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

export class VoiceChannel implements Channel {
  readonly type = 'voice';
  readonly retry: RetryPolicy;
  private readonly api: TwilioRest;

  constructor(
    readonly name: string,
    private readonly cfg: VoiceChannelConfig,
    private readonly deps: ChannelDeps,
  ) {
    this.retry = { maxAttempts: cfg.maxAttempts, backoffMs: cfg.backoff, maxBackoffMs: cfg.maxBackoff };
    this.api = new TwilioRest(cfg);
  }

  async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
    const publicUrl = this.deps.publicUrl?.replace(/\/+$/, '');
    if (!publicUrl) return { ok: false, retryable: false, error: 'voice needs http.publicUrl' };
    const to = n.recipient.phone;
    if (!to || !E164.test(to)) {
      return { ok: false, retryable: false, error: `${n.recipient.id} has no phone number in E.164 form` };
    }
    // Generated now, so the provider's TwiML fetch finds it cached and the person hears no gap.
    await this.deps.prompts?.prepare(n.message, n.language);
    const form = new URLSearchParams({
      To: to,
      From: this.cfg.from,
      Url: `${publicUrl}/hooks/twilio/voice/${encodeURIComponent(n.deliveryId)}`,
      Method: 'POST',
      StatusCallback: `${publicUrl}/hooks/twilio/status/${encodeURIComponent(n.deliveryId)}`,
      StatusCallbackMethod: 'POST',
      Timeout: String(Math.max(5, Math.min(600, Math.round(this.cfg.ringTimeout / 1000)))),
    });
    // Twilio takes a list as the parameter repeated, one value each.
    for (const e of EVENTS) form.append('StatusCallbackEvent', e);
    if (this.cfg.machineDetection) form.set('MachineDetection', 'Enable');
    const r = await this.api.create('Calls', form, signal);
    if (r.ok) return { ok: true, providerId: r.value.sid, awaitingStatus: true };
    return {
      ok: false,
      retryable: r.retryable,
      error: `voice API ${r.status === undefined ? 'unreachable' : 'refused'}: ${r.error}`,
    };
  }

  /**
   * Whether the provider already placed this attempt's call. A call carries nothing of ours that
   * the list shows, so any call to the person from our number since the claim counts. StartTime is
   * set once Twilio starts dialing (a fraction of a second after the create); the list filter is by
   * UTC day, the exact bound is checked here.
   */
  async reconcile(n: Notification, signal: AbortSignal): Promise<Reconciled> {
    const to = n.recipient.phone;
    if (!to || !E164.test(to)) return { found: false };
    const since = n.claimedAt - CLOCK_SLACK_MS;
    const r = await this.api.list(
      'Calls',
      // No StartTime filter: a call still queued has not started. Newest first; dates checked here.
      { To: to, From: this.cfg.from, PageSize: '50' },
      signal,
    );
    if (!r.ok) return { unknown: `voice API: ${r.error}` };
    const hit = r.value.find((c) => {
      const t = parseTwilioDate(c.date_created) ?? parseTwilioDate(c.start_time);
      return t !== undefined && t >= since;
    });
    return hit ? { found: true, providerId: hit.sid } : { found: false };
  }
}
