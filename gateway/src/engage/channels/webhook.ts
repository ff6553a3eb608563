import { createHmac } from 'node:crypto';
import { systemClock, type Clock } from '../../core/clock.js';
import type { WebhookChannelConfig } from '../../config/schema.js';
import { incidentSummary } from '../../route/summary.js';
import type { Channel, Notification, RetryPolicy, SendResult } from '../channel.js';

/*
 * Generic signed webhook.
 *
 * POST <channel url, or the person's `webhook` when the site file gives one>
 *   Content-Type: application/json
 *   X-Vigie-Timestamp: <unix seconds when signed>
 *   X-Vigie-Signature: sha256=<hex HMAC-SHA256 over `${X-Vigie-Timestamp}.${raw body}`, key = channel secret>
 *   Idempotency-Key: <deliveryId>  (the same on every retry of one delivery)
 *
 * Body:
 *   { "type": "vigie.notification", "deliveryId": "dlv_...", "attempt": 1, "step": 0,
 *     "message": "Door G12 (T2) held open for more than 30 s",
 *     "incident": { "id": "inc_...", "site", "rule", "ruleName", "device", "deviceName", "zone",
 *                   "severity", "state", "reason", "triggerTs", "openedAt", "escalationStep", "values" },
 *     "recipient": { "kind": "person", "id": "alice", "name": "Alice", "phone"?, "email"? },
 *     "location"?: { "lat", "lon", "floor"?, "label"? },
 *     "links": { "cameraStream"?, "cameraSnapshot"?, "speakerSip"? } }
 *
 * Receivers: recompute the HMAC over the raw bytes before parsing, compare in constant time, refuse
 * timestamps more than 5 minutes away, and drop a second request with an Idempotency-Key already
 * seen (a retry after a lost response, or after a gateway crash mid-send).
 * Answer 2xx when accepted. 4xx (except 408 and 429) is final: the gateway will not retry;
 * 408, 429, 5xx, timeouts and network errors are retried with exponential backoff.
 */

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function webhookBody(n: Notification): Record<string, unknown> {
  const i = n.incident;
  const ctx = i.context as {
    location?: unknown;
    camera?: { stream?: string; snapshot?: string };
    speaker?: { sip?: string };
  };
  const links: Record<string, string> = {};
  if (ctx.camera?.stream) links.cameraStream = ctx.camera.stream;
  if (ctx.camera?.snapshot) links.cameraSnapshot = ctx.camera.snapshot;
  if (ctx.speaker?.sip) links.speakerSip = ctx.speaker.sip;
  const { webhook: _target, ...recipient } = n.recipient;
  void _target;
  const body: Record<string, unknown> = {
    type: 'vigie.notification',
    deliveryId: n.deliveryId,
    attempt: n.attempt,
    step: n.step,
    message: n.message,
    incident: incidentSummary(i),
    recipient,
    links,
  };
  if (ctx.location !== undefined) body.location = ctx.location;
  return body;
}

export class WebhookChannel implements Channel {
  readonly type = 'webhook';
  readonly retry: RetryPolicy;

  constructor(
    readonly name: string,
    private readonly cfg: WebhookChannelConfig,
    private readonly clock: Clock = systemClock,
  ) {
    this.retry = { maxAttempts: cfg.maxAttempts, backoffMs: cfg.backoff, maxBackoffMs: cfg.maxBackoff };
  }

  async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
    const body = JSON.stringify(webhookBody(n));
    const timestamp = String(Math.floor(this.clock.now() / 1000));
    const url = n.recipient.webhook ?? this.cfg.url;
    const timeout = AbortSignal.timeout(this.cfg.timeout);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Vigie-Timestamp': timestamp,
          'X-Vigie-Signature': signWebhook(this.cfg.secret, timestamp, body),
          'Idempotency-Key': n.deliveryId,
          'User-Agent': 'vigie-gateway',
        },
        body,
        signal: AbortSignal.any([signal, timeout]),
        redirect: 'error',
      });
      // Read the answer so the connection can be reused; its content does not matter.
      const text = await res.text().catch(() => '');
      if (res.ok) return { ok: true, providerId: res.headers.get('x-request-id') ?? undefined };
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      return { ok: false, retryable, error: `HTTP ${res.status}${text ? ': ' + text.slice(0, 200) : ''}` };
    } catch (err) {
      if (timeout.aborted)
        return { ok: false, retryable: true, error: `timeout after ${this.cfg.timeout} ms` };
      if (signal.aborted) return { ok: false, retryable: true, error: 'aborted' };
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.cause?.code ?? e.cause?.message ?? e.message;
      return { ok: false, retryable: true, error: `network error: ${why}` };
    }
  }
}
