import type { SmsChannelConfig } from '../../config/schema.js';
import type { Channel, Notification, Reconciled, RetryPolicy, SendResult } from '../channel.js';
import type { ChannelDeps } from '../registry.js';
import { silentLogger } from '../../core/log.js';
import { parseTwilioDate, TwilioRest } from '../twilio/rest.js';

/*
 * SMS through a Twilio-compatible REST API (the real Twilio, or any provider speaking its shape):
 *   POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json
 *   To=+E164&From=+E164|sender&Body=...[&StatusCallback={publicUrl}/hooks/twilio/status/{deliveryId}]
 * 201 with the message resource ({ "sid": "SM...", "status": "queued" }) = accepted; with a status
 * callback the delivery then waits for the provider's word. 4xx is final (bad number, bad
 * credentials) except 408 and 429; 5xx, timeouts and network errors are retried, and when a
 * `fallback` modem is configured they send through the modem in the same attempt instead: the site's
 * uplink being down must not silence the alert.
 */

const E164 = /^\+[1-9]\d{6,14}$/;
/** Twilio's limit for one message body (it splits into segments itself). */
const MAX_BODY = 1600;
/** Twilio's dates have one-second precision, and the two clocks differ a little. */
const CLOCK_SLACK_MS = 2000;

/** The text sent for `n`: the camera link appended when the template left it out, cut to the API limit. */
export function smsBody(n: Notification): string {
  const ctx = n.incident.context as { camera?: { stream?: string } };
  let body = n.message;
  if (ctx.camera?.stream && !body.includes(ctx.camera.stream)) body += ` Camera: ${ctx.camera.stream}`;
  if (body.length > MAX_BODY) body = body.slice(0, MAX_BODY - 1) + '…';
  return body;
}

export class SmsChannel implements Channel {
  readonly type = 'sms';
  readonly retry: RetryPolicy;
  private readonly api: TwilioRest;

  constructor(
    readonly name: string,
    private readonly cfg: SmsChannelConfig,
    private readonly deps: ChannelDeps = { logger: silentLogger },
  ) {
    this.retry = { maxAttempts: cfg.maxAttempts, backoffMs: cfg.backoff, maxBackoffMs: cfg.maxBackoff };
    this.api = new TwilioRest(cfg);
  }

  async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
    const to = n.recipient.phone;
    if (!to || !E164.test(to)) {
      return { ok: false, retryable: false, error: `${n.recipient.id} has no phone number in E.164 form` };
    }
    const form = new URLSearchParams({ To: to, From: this.cfg.from, Body: smsBody(n) });
    const publicUrl = this.deps.publicUrl?.replace(/\/+$/, '');
    if (publicUrl) form.set('StatusCallback', `${publicUrl}/hooks/twilio/status/${n.deliveryId}`);
    const r = await this.api.create('Messages', form, signal);
    if (r.ok) {
      const result: SendResult = { ok: true, providerId: r.value.sid };
      if (publicUrl) result.awaitingStatus = true;
      return result;
    }
    const failed: SendResult = {
      ok: false,
      retryable: r.retryable,
      error: `SMS API ${r.status === undefined ? 'unreachable' : 'refused'}: ${r.error}`,
    };
    const fallback = r.unreachable && this.cfg.fallback ? this.deps.channel?.(this.cfg.fallback) : undefined;
    if (!fallback) return failed;
    this.deps.logger.warn('SMS API unreachable: sending through the fallback channel', {
      channel: this.name,
      fallback: fallback.name,
      deliveryId: n.deliveryId,
      error: r.error,
    });
    const via = await fallback.send(n, signal);
    if (via.ok) return { ...via, via: fallback.name };
    // Both paths failed: try again later, starting with the API (the uplink may be back).
    return { ok: false, retryable: true, error: `${failed.error}; ${fallback.name}: ${via.error}` };
  }

  /**
   * Whether the provider already has this attempt's message (after a crash between send and record).
   * DateSent filters by UTC day and a message still queued has none yet: by the time a restarted
   * gateway asks, Twilio has normally sent it; if not, the alert goes out twice rather than never.
   */
  async reconcile(n: Notification, signal: AbortSignal): Promise<Reconciled> {
    const to = n.recipient.phone;
    if (!to || !E164.test(to)) return { found: false };
    const since = n.claimedAt - CLOCK_SLACK_MS;
    const r = await this.api.list(
      'Messages',
      // No DateSent filter: a message the provider still holds queued has no send date yet. The
      // list comes newest first; the creation time is checked here.
      { To: to, From: this.cfg.from, PageSize: '50' },
      signal,
    );
    if (!r.ok) return { unknown: `SMS API: ${r.error}` };
    const body = smsBody(n);
    const hit = r.value.find(
      (m) => m.body === body && (parseTwilioDate(m.date_created) ?? -Infinity) >= since,
    );
    return hit ? { found: true, providerId: hit.sid } : { found: false };
  }
}
