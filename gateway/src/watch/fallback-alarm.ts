import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Channel, Notification, Recipient, SendResult } from '../engage/channel.js';
import type { Incident } from '../route/model.js';
import type { Site } from '../site/model.js';
import { GATEWAY_DEVICE_ID, PROBLEMS, problemRuleId, type ProblemId } from './model.js';

/*
 * When the incident store itself fails, no delivery can be queued: the alarm goes straight out
 * over the channels, without SQLite. Nothing is recorded but the log, so everything is logged.
 * Each recipient gets one message per episode, on the first channel (in `order`) that takes it;
 * the delivery ids are deterministic, so a receiver that got it twice (a channel that failed after
 * all) can drop the duplicate.
 */

/** Channel types tried by default, in this order: a modem needs neither the uplink nor the disk. */
const DEFAULT_TYPES = ['modem', 'sms', 'email', 'webhook'];
/** Types that need a phone number or an e-mail address of the recipient. */
const ADDRESS: Readonly<Record<string, keyof Recipient>> = {
  modem: 'phone',
  sms: 'phone',
  voice: 'phone',
  email: 'email',
};

/** `watch.fallback` when given, else every modem channel, then SMS, e-mail and webhook channels. */
export function fallbackOrder(
  channels: ReadonlyMap<string, Channel>,
  configured?: readonly string[],
): string[] {
  if (configured && configured.length > 0) return [...configured];
  const all = [...channels.values()];
  return DEFAULT_TYPES.flatMap((t) => all.filter((c) => c.type === t).map((c) => c.name));
}

export interface FallbackAlarmOptions {
  channels: ReadonlyMap<string, Channel>;
  /** Channel names in the order tried (fallbackOrder). */
  order: readonly string[];
  /** Who to tell; a function is asked at each alarm (who is on call changes). */
  recipients: readonly Recipient[] | ((at: number) => readonly Recipient[]);
  site: Pick<Site, 'id' | 'name'>;
  clock: Clock;
  logger: Logger;
  /** One channel's try is abandoned after this long (a modem that does not answer). */
  timeoutMs?: number;
}

interface Episode {
  startedAt: number;
  reason: string;
}

export class FallbackAlarm {
  private readonly episodes = new Map<ProblemId, Episode>();
  /** Per problem: the alarm and its settling go out in order, never interleaved. */
  private readonly queues = new Map<ProblemId, Promise<void>>();

  constructor(private readonly o: FallbackAlarmOptions) {}

  /** Sends the alarm once for this episode of `problem`; later calls until settle() do nothing. */
  raise(problem: ProblemId, reason: string): Promise<void> {
    if (this.episodes.has(problem)) return this.queues.get(problem) ?? Promise.resolve();
    const episode = { startedAt: this.o.clock.now(), reason };
    this.episodes.set(problem, episode);
    this.o.logger.error('fallback alarm: sending without the database', { problem, reason });
    return this.enqueue(problem, () => this.sendAll(problem, episode, 'raise'));
  }

  /** Sends a short "back to normal" once, if the alarm went out for this episode. */
  settle(problem: ProblemId, reason = 'back to normal'): Promise<void> {
    const episode = this.episodes.get(problem);
    if (!episode) return this.queues.get(problem) ?? Promise.resolve();
    this.episodes.delete(problem);
    this.o.logger.info('fallback alarm: settling', { problem, reason });
    return this.enqueue(problem, () => this.sendAll(problem, { ...episode, reason }, 'settle'));
  }

  /** Whether an alarm for `problem` is out and not settled. */
  raised(problem: ProblemId): boolean {
    return this.episodes.has(problem);
  }

  private enqueue(problem: ProblemId, job: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(problem) ?? Promise.resolve()).then(job).catch((err: unknown) => {
      this.o.logger.error('fallback alarm failed', { problem, error: errorText(err) });
    });
    this.queues.set(problem, next);
    return next;
  }

  private async sendAll(problem: ProblemId, e: Episode, what: 'raise' | 'settle'): Promise<void> {
    const at = this.o.clock.now();
    const recipients = typeof this.o.recipients === 'function' ? this.o.recipients(at) : this.o.recipients;
    if (recipients.length === 0) {
      this.o.logger.error('fallback alarm: nobody to tell (watch.notify names nobody)', { problem });
      return;
    }
    const incident = this.incident(problem, e, what, at);
    const subject =
      what === 'raise'
        ? `[${incident.severity.toUpperCase()}] Vigie ${this.o.site.name}: ${incident.ruleName}`
        : `[OK] Vigie ${this.o.site.name}: ${incident.ruleName}`;
    await Promise.all(recipients.map((r) => this.sendOne(incident, subject, r, what)));
  }

  private incident(problem: ProblemId, e: Episode, what: 'raise' | 'settle', at: number): Incident {
    const spec = PROBLEMS[problem];
    const message =
      what === 'raise'
        ? `[Vigie ${this.o.site.name}] ${spec.name}: ${e.reason}. Sent without the incident database: ` +
          'this alert is not recorded and cannot be acknowledged.'
        : `[Vigie ${this.o.site.name}] Back to normal: ${spec.name} (${e.reason}).`;
    return {
      id: `sys_${problem}_${e.startedAt}`,
      site: this.o.site.id,
      ruleId: problemRuleId(problem),
      ruleName: spec.name,
      deviceId: GATEWAY_DEVICE_ID,
      deviceName: GATEWAY_DEVICE_ID,
      zone: '',
      severity: spec.severity,
      state: what === 'raise' ? 'open' : 'cleared',
      reason: e.reason,
      message,
      triggerTs: e.startedAt,
      openedAt: e.startedAt,
      ...(what === 'settle' ? { clearedAt: at } : {}),
      escalationStep: 0,
      values: {},
      context: {},
      updatedAt: at,
    };
  }

  private async sendOne(
    incident: Incident,
    subject: string,
    recipient: Recipient,
    what: 'raise' | 'settle',
  ): Promise<void> {
    const deliveryId = `${incident.id}_${what === 'raise' ? 'alarm' : 'ok'}_${recipient.id}`;
    const errors: string[] = [];
    let attempt = 0;
    for (const name of this.o.order) {
      const channel = this.o.channels.get(name);
      if (!channel) {
        errors.push(`${name}: no such channel`);
        continue;
      }
      const needs = ADDRESS[channel.type];
      if (needs && !recipient[needs]) continue;
      const n: Notification = {
        deliveryId,
        incident,
        recipient,
        step: 0,
        attempt: ++attempt,
        message: incident.message,
        subject,
        language: recipient.language ?? 'en',
        claimedAt: this.o.clock.now(),
      };
      const r = await this.trySend(channel, n);
      const fields = { problem: incident.ruleId, deliveryId, recipient: recipient.id, channel: name };
      if (r.ok) {
        this.o.logger.warn(`fallback alarm ${what === 'raise' ? 'sent' : 'settled'}`, {
          ...fields,
          providerId: r.providerId,
        });
        return;
      }
      errors.push(`${name}: ${r.error}`);
      this.o.logger.warn('fallback alarm: channel failed, trying the next', { ...fields, error: r.error });
    }
    this.o.logger.error('fallback alarm: could not reach a recipient on any channel', {
      problem: incident.ruleId,
      deliveryId,
      recipient: recipient.id,
      errors: errors.length > 0 ? errors : ['no channel for their addresses'],
    });
  }

  private async trySend(channel: Channel, n: Notification): Promise<SendResult> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<SendResult>((resolve) => {
      timer = setTimeout(() => {
        // Settled before the abort, so the channel's own answer to it does not win the race.
        resolve({ ok: false, retryable: true, error: 'timed out' });
        abort.abort();
      }, this.o.timeoutMs ?? 60_000);
    });
    try {
      return await Promise.race([channel.send(n, abort.signal), timedOut]);
    } catch (err) {
      return { ok: false, retryable: true, error: errorText(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
