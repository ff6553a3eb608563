import type { SmsChannelConfig } from '../../config/schema.js';
import type { Channel, Notification, RetryPolicy, SendResult } from '../channel.js';
import type { ChannelDeps } from '../registry.js';
import { silentLogger } from '../../core/log.js';

/*
 * SMS through a Twilio-compatible REST API (the real Twilio, or any provider speaking its shape):
 *   POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json
 *   Authorization: Basic base64(AccountSid:AuthToken)
 *   Content-Type: application/x-www-form-urlencoded
 *   To=+E164&From=+E164|sender&Body=...[&StatusCallback=url]
 * 201 with the message resource ({ "sid": "SM...", "status": "queued" }) = accepted.
 * 4xx is final (bad number, bad credentials: retrying cannot help) except 429; 5xx, 429 and network
 * errors are retried by the delivery worker.
 */

const E164 = /^\+[1-9]\d{6,14}$/;
/** Twilio's limit for one message body (it splits into segments itself). */
const MAX_BODY = 1600;

export class SmsChannel implements Channel {
  readonly type = 'sms';
  readonly retry: RetryPolicy;

  constructor(
    readonly name: string,
    private readonly cfg: SmsChannelConfig,
    private readonly deps: ChannelDeps = { logger: silentLogger },
  ) {
    this.retry = { maxAttempts: cfg.maxAttempts, backoffMs: cfg.backoff, maxBackoffMs: cfg.maxBackoff };
  }

  async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
    const to = n.recipient.phone;
    if (!to || !E164.test(to)) {
      return { ok: false, retryable: false, error: `${n.recipient.id} has no phone number in E.164 form` };
    }
    const ctx = n.incident.context as { camera?: { stream?: string } };
    let body = n.message;
    if (ctx.camera?.stream && !body.includes(ctx.camera.stream)) body += ` Camera: ${ctx.camera.stream}`;
    if (body.length > MAX_BODY) body = body.slice(0, MAX_BODY - 1) + '…';
    const form = new URLSearchParams({ To: to, From: this.cfg.from, Body: body });
    if (this.deps.publicUrl)
      form.set('StatusCallback', `${this.deps.publicUrl.replace(/\/+$/, '')}/hooks/twilio/status/${n.deliveryId}`);
    const url = `${this.cfg.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(this.cfg.accountSid)}/Messages.json`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          authorization:
            'Basic ' + Buffer.from(`${this.cfg.accountSid}:${this.cfg.authToken}`).toString('base64'),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.cfg.timeout)]),
      });
    } catch (err) {
      return { ok: false, retryable: true, error: `SMS API unreachable: ${(err as Error).message}` };
    }
    const text = await res.text().catch(() => '');
    let json: { sid?: string; code?: number; message?: string } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      // A proxy's HTML error page: the status code says enough.
    }
    if (res.status === 200 || res.status === 201) {
      return json.sid ? { ok: true, providerId: json.sid } : { ok: true };
    }
    const detail = `HTTP ${res.status}${json.code ? ` (code ${json.code})` : ''}${json.message ? `: ${json.message}` : ''}`;
    const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
    return { ok: false, retryable, error: `SMS API refused: ${detail}` };
  }
}
