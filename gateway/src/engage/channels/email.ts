import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailChannelConfig } from '../../config/schema.js';
import { incidentSummary } from '../../route/summary.js';
import type { Channel, Notification, RetryPolicy, SendResult } from '../channel.js';

/*
 * E-mail over SMTP: a text and an HTML part with the incident, its place and its links, and the
 * camera snapshot attached when the device has a camera that answers within `snapshotTimeout`.
 * Message-ID is derived from the delivery id, so a resend after a crash carries the same id and
 * mail clients thread or drop it as a duplicate.
 * SMTP replies: 4xx is temporary (retried with backoff), 5xx permanent [RFC 5321 4.2.1].
 */
export class EmailChannel implements Channel {
  readonly type = 'email';
  readonly retry: RetryPolicy;
  private readonly transport: Transporter;

  constructor(
    readonly name: string,
    private readonly cfg: EmailChannelConfig,
  ) {
    this.retry = { maxAttempts: cfg.maxAttempts, backoffMs: cfg.backoff, maxBackoffMs: cfg.maxBackoff };
    this.transport = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      ignoreTLS: cfg.ignoreTLS,
      auth: cfg.user ? { user: cfg.user, pass: cfg.password ?? '' } : undefined,
      connectionTimeout: cfg.timeout,
      greetingTimeout: cfg.timeout,
      socketTimeout: cfg.timeout,
    });
  }

  async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
    const to = n.recipient.email;
    if (!to) return { ok: false, retryable: false, error: `${n.recipient.id} has no e-mail address` };
    const i = incidentSummary(n.incident);
    const ctx = n.incident.context as {
      camera?: { snapshot?: string; stream?: string };
      speaker?: { sip?: string };
    };
    const snapshot = ctx.camera?.snapshot
      ? await fetchSnapshot(ctx.camera.snapshot, this.cfg.snapshotTimeout, signal)
      : undefined;
    // A composed e-mail (engage/templates) brings its own subject, body and HTML.
    const composed = n.subject !== undefined;
    const lines = composed
      ? [
          ...n.message.split('\n'),
          ctx.camera?.snapshot && !snapshot
            ? 'Camera snapshot: unavailable (the camera did not answer in time)'
            : '',
        ].filter((l) => l !== '')
      : [
          n.message,
          '',
          `Severity: ${i.severity}   State: ${i.state}   Rule: ${i.ruleName}`,
          `Device: ${i.deviceName} (${i.device}), zone ${i.zone}`,
          `Reason: ${i.reason}`,
          ctx.camera?.stream ? `Camera stream: ${ctx.camera.stream}` : '',
          ctx.speaker?.sip ? `Talk to the spot: ${ctx.speaker.sip}` : '',
          ctx.camera?.snapshot && !snapshot
            ? 'Camera snapshot: unavailable (the camera did not answer in time)'
            : '',
          `Incident: ${i.id}`,
        ].filter((l, k) => l !== '' || k === 1);
    const html =
      n.html ??
      `<p><strong>${escape(n.message)}</strong></p><ul>${lines
        .slice(2)
        .map((l) => `<li>${linkify(escape(l))}</li>`)
        .join('')}</ul>`;
    try {
      const info = await this.transport.sendMail({
        from: this.cfg.from,
        to: `"${n.recipient.name.replace(/"/g, '')}" <${to}>`,
        subject: n.subject ?? `[${i.severity.toUpperCase()}] ${i.ruleName}: ${i.deviceName}`,
        text: lines.join('\n'),
        html,
        messageId: `<${n.deliveryId}@vigie>`,
        headers: { 'X-Vigie-Incident': i.id },
        attachments: snapshot
          ? [{ filename: 'snapshot.jpg', content: snapshot, contentType: 'image/jpeg' }]
          : [],
      });
      return { ok: true, providerId: info.messageId };
    } catch (err) {
      const e = err as { responseCode?: number; message?: string };
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
      return { ok: false, retryable: !permanent, error: `SMTP: ${e.message ?? String(err)}` };
    }
  }
}

/** The camera's still image, or undefined when it does not answer quickly: never delays the alert. */
async function fetchSnapshot(
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Buffer | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    if (!res.ok) return undefined;
    const body = Buffer.from(await res.arrayBuffer());
    // A snapshot is a photo, not a video: refuse anything past 5 MB.
    return body.length > 0 && body.length <= 5 * 1024 * 1024 ? body : undefined;
  } catch {
    return undefined;
  }
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function linkify(s: string): string {
  return s.replace(/\b((?:https?|rtsp|sip):[^\s<]+)/g, '<a href="$1">$1</a>');
}
