import type { Database, Statement } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Counter, Registry } from '../core/metrics.js';
import type { IncidentService } from '../route/incidents.js';
import type { Incident } from '../route/model.js';
import { recipientFromRow, type DeliveryRow } from '../route/rows.js';
import type { Site } from '../site/model.js';
import type {
  CallScript,
  EngageActions,
  InboundText,
  KeypadResult,
  ProviderStatus,
  ReplyResult,
} from './actions.js';
import { backoffDelay, DEFAULT_RETRY } from './backoff.js';
import type { Channel } from './channel.js';
import type { Compose } from './composer.js';
import { DeliveryStore } from './delivery-store.js';
import type { Failover } from './failover.js';
import { parseReply, samePhone } from './reply.js';
import { say, type Phrase } from './responder-phrases.js';
import { phrases } from './voice/phrases.js';

export interface ResponderOptions {
  db: Database;
  incidents: Pick<IncidentService, 'get' | 'acknowledge' | 'escalateNow' | 'byAckCode'>;
  site: Site;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
  compose: Compose;
  channels: ReadonlyMap<string, Channel>;
  failover: Pick<Failover, 'next'>;
  /** Re-arms the engage scheduler after a change that adds work (escalate now, a retry). */
  kick: () => void;
}

type StatusClass = 'progress' | 'delivered' | 'failed' | 'unanswered';

/** A final status that raced the provider's own answer to our request waits this long for it. */
const RACE_RETRY_MS = 250;
const RACE_RETRIES = 40;

/**
 * The one implementation of EngageActions: what a reply, a key press or a provider's status
 * callback does to incidents and deliveries. Adapters (Twilio webhooks, the modem) only parse
 * and authenticate.
 */
export class Responder implements EngageActions {
  private readonly store: DeliveryStore;
  private readonly latestNotified: Statement;
  private readonly othersOpen: Statement;
  private readonly setStatus: Statement;
  private readonly replies: Counter;
  private readonly statuses: Counter;

  constructor(private readonly o: ResponderOptions) {
    this.store = new DeliveryStore(o.db);
    // "The alert I just got": the newest delivery that reached this person, about an incident
    // still open (an acknowledged one answers "already").
    this.latestNotified = o.db.prepare(
      `SELECT i.id FROM deliveries d JOIN incidents i ON i.id = d.incident_id
       WHERE d.recipient = ? AND d.state IN ('sending', 'sent', 'delivered') AND i.state IN (?, ?)
       ORDER BY d.created_at DESC, d.id DESC LIMIT 1`,
    );
    this.othersOpen = o.db.prepare(
      `SELECT DISTINCT i.ack_code AS code FROM deliveries d JOIN incidents i ON i.id = d.incident_id
       WHERE d.recipient = ? AND i.state = 'open' AND i.id != ? AND i.ack_code IS NOT NULL LIMIT 5`,
    );
    this.setStatus = o.db.prepare(
      `UPDATE deliveries SET provider_status = ?, provider_id = COALESCE(provider_id, ?) WHERE id = ?`,
    );
    this.replies = o.metrics.counter(
      'vigie_replies_total',
      'Replies and key presses from people, by channel and outcome',
    );
    this.statuses = o.metrics.counter('vigie_provider_status_total', 'Provider status callbacks, by status');
  }

  inboundText(m: InboundText): ReplyResult {
    const person = this.o.site.people.find((p) => p.phone && samePhone(p.phone, m.from));
    const lang = person?.language ?? this.o.site.language ?? 'en';
    const done = (r: ReplyResult): ReplyResult => {
      this.replies.inc({ via: m.via, outcome: r.outcome });
      this.o.logger.info('reply received', {
        via: m.via,
        from: person?.id ?? 'unknown',
        outcome: r.outcome,
        incident: r.incidentId,
      });
      return r;
    };
    // Strangers get no answer: replying would confirm the number belongs to an alerting system.
    if (!person) return done({ outcome: 'unknown-sender', reply: '' });
    const intent = parseReply(m.text);
    if (!intent) return done({ outcome: 'not-understood', reply: say(lang, 'sms-help') });
    const key = `person:${person.id}`;
    let incident: Incident | undefined;
    if (intent.code) incident = this.o.incidents.byAckCode(intent.code);
    else {
      const row = this.latestNotified.get(key, 'open', 'acknowledged') as { id: string } | undefined;
      incident = row && this.o.incidents.get(row.id);
    }
    if (!incident)
      return done({ outcome: 'no-incident', reply: say(lang, 'sms-none', { code: intent.code ?? '' }) });
    const actor = { id: key, via: m.via };
    const vars = { device: incident.deviceName, code: incident.ackCode ?? '' };
    if (incident.state !== 'open') {
      return done({
        outcome: 'already',
        incidentId: incident.id,
        reply: say(lang, 'sms-already', { ...vars, by: incident.acknowledgedBy ?? '' }),
      });
    }
    if (intent.action === 'escalate') {
      const ok = this.o.incidents.escalateNow(incident.id, actor);
      this.o.kick();
      return done({
        outcome: ok ? 'escalated' : 'not-understood',
        incidentId: incident.id,
        reply: say(lang, ok ? 'sms-escalated' : 'sms-nothing-to-escalate', vars),
      });
    }
    this.o.incidents.acknowledge(incident.id, actor, m.providerId ? `reply ${m.providerId}` : undefined);
    const others = (this.othersOpen.all(key, incident.id) as { code: string }[]).map((r) => r.code);
    let reply = say(lang, 'sms-acknowledged', vars);
    if (others.length > 0)
      reply += ' ' + say(lang, 'sms-others', { codes: others.map((c) => `ACK ${c}`).join(', ') });
    return done({ outcome: 'acknowledged', incidentId: incident.id, reply });
  }

  keypad(deliveryId: string, digits: string): KeypadResult {
    const found = this.lookup(deliveryId);
    const lang = found?.language ?? this.o.site.language ?? 'en';
    const done = (r: KeypadResult): KeypadResult => {
      this.replies.inc({ via: 'voice', outcome: r.outcome });
      this.o.logger.info('key pressed', { delivery: deliveryId, digits, outcome: r.outcome });
      return r;
    };
    if (!found) return done({ outcome: 'gone', say: phrases(lang).gone });
    const { incident, row } = found;
    const key = digits.trim().charAt(0);
    if (key === '3') return done({ outcome: 'repeat', say: '' });
    const sip = (incident.context.speaker as { sip?: string } | undefined)?.sip;
    if (key === '4' && sip) return done({ outcome: 'speaker', say: phrases(lang).connecting, sip });
    if (key !== '1' && key !== '2')
      return done({ outcome: 'not-understood', say: phrases(lang).notUnderstood });
    if (incident.state !== 'open') return done({ outcome: 'gone', say: phrases(lang).gone });
    const actor = { id: row.recipient, via: 'voice' };
    if (key === '1') {
      this.o.incidents.acknowledge(incident.id, actor, `keypad during ${deliveryId}`);
      return done({ outcome: 'acknowledged', say: phrases(lang).acknowledged });
    }
    const ok = this.o.incidents.escalateNow(incident.id, actor);
    this.o.kick();
    return done({
      outcome: ok ? 'escalated' : 'gone',
      say: ok ? phrases(lang).escalated : phrases(lang).nothingToEscalate,
    });
  }

  callScript(deliveryId: string): CallScript | undefined {
    const found = this.lookup(deliveryId);
    if (!found) return undefined;
    const { incident, row } = found;
    // Rendered as at the send (same duration, same text), so the prompt made then is the one played.
    const composed = this.o.compose(
      incident,
      recipientFromRow(row),
      'voice',
      row.claimed_at ?? this.o.clock.now(),
    );
    const script: CallScript = { language: composed.language, text: composed.message };
    if (composed.voiceFile) script.promptFile = composed.voiceFile;
    const sip = (incident.context.speaker as { sip?: string } | undefined)?.sip;
    if (sip) script.sip = sip;
    return script;
  }

  providerStatus(s: ProviderStatus, tries = 0): void {
    const row = this.store.get(s.deliveryId);
    if (!row) {
      this.o.logger.warn('status callback for an unknown delivery', {
        delivery: s.deliveryId,
        status: s.status,
      });
      return;
    }
    // A call retried after "no answer" is a new call: a late status of the old one changes nothing.
    if (row.provider_id && s.providerId && row.provider_id !== s.providerId) {
      this.o.logger.info('status callback for an earlier attempt ignored', {
        delivery: row.id,
        status: s.status,
      });
      return;
    }
    const status = s.status.toLowerCase();
    this.statuses.inc({ status });
    const cls = classify(status, s.answeredBy);
    if (row.state === 'sending' && cls !== 'progress' && tries < RACE_RETRIES) {
      // The provider's callback beat its own HTTP answer to us: wait for the attempt to be recorded.
      setTimeout(() => this.providerStatus(s, tries + 1), RACE_RETRY_MS).unref();
      return;
    }
    const now = this.o.clock.now();
    this.o.db.transaction(() => {
      this.setStatus.run(status, s.providerId || null, row.id);
      if (row.state !== 'sent' || cls === 'progress') return;
      const detail: Record<string, unknown> = {
        deliveryId: row.id,
        channel: row.channel,
        recipient: row.recipient,
        attempt: row.attempts,
        providerStatus: status,
      };
      if (s.errorCode) detail.errorCode = s.errorCode;
      if (s.answeredBy) detail.answeredBy = s.answeredBy;
      const incident = this.o.incidents.get(row.incident_id);
      if (cls === 'delivered') {
        const latency = row.claimed_at ? now - row.claimed_at : 0;
        this.store.delivered(row.id, now, latency, {
          state: 'delivered',
          ...(row.provider_id ? { providerId: row.provider_id } : {}),
        });
        detail.outcome = 'delivered';
      } else {
        const policy = this.o.channels.get(row.channel)?.retry ?? DEFAULT_RETRY;
        const error = `${status}${s.errorCode ? ` (error ${s.errorCode})` : ''}${s.answeredBy ? ` answered by ${s.answeredBy}` : ''}`;
        if (cls === 'unanswered' && row.attempts < policy.maxAttempts && incident?.state === 'open') {
          const at = now + backoffDelay(policy, row.attempts);
          this.store.retry(row.id, at, error);
          detail.outcome = 'retry';
          detail.nextAttemptAt = at;
        } else {
          this.store.failed(row.id, error);
          detail.outcome = 'failed';
          detail.error = error;
        }
      }
      this.store.noteAttempt(row.incident_id, now, detail);
      if (detail.outcome === 'failed') this.o.failover.next({ ...row, state: 'failed' }, incident, now);
    })();
    this.o.kick();
  }

  private lookup(deliveryId: string): { incident: Incident; row: DeliveryRow; language: string } | undefined {
    const row = this.store.get(deliveryId);
    const incident = row && this.o.incidents.get(row.incident_id);
    if (!row || !incident) return undefined;
    const language = recipientFromRow(row).language ?? this.o.site.language ?? 'en';
    return { incident, row, language };
  }
}

/** Provider words -> what they mean for the delivery (Messages and Calls resources). */
function classify(status: string, answeredBy?: string): StatusClass {
  switch (status) {
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'in-progress':
    case 'completed':
      // Answered (the `answered` event says in-progress). Voicemail picked up: nobody heard it.
      return answeredBy && answeredBy.startsWith('machine') ? 'unanswered' : 'delivered';
    case 'undelivered':
    case 'failed':
      return 'failed';
    case 'busy':
    case 'no-answer':
    case 'canceled':
      return 'unanswered';
    default:
      return 'progress';
  }
}

export type { Phrase };
