import type { Incident } from '../route/model.js';

/** Who a notification goes to, resolved from the site file when the delivery was created. */
export interface Recipient {
  /**
   * A person, or for console deliveries a team as written in the rule; a technician offered a job
   * or a customer told about it (service messages).
   */
  kind: 'person' | 'team' | 'technician' | 'customer';
  /** The id in the site file (`alice`, `security`). */
  id: string;
  name: string;
  phone?: string;
  email?: string;
  webhook?: string;
  /** Language of the person's messages (`en`, `fr`); the site's language when the person has none. */
  language?: string;
}

export interface Notification {
  /** Stable across retries: receivers use it to drop duplicates. */
  deliveryId: string;
  incident: Incident;
  recipient: Recipient;
  step: number;
  /** 1 for the first try. */
  attempt: number;
  /** The alert rendered for this channel's type and the recipient's language (engage/templates). */
  message: string;
  /** E-mail subject and HTML body, rendered the same way. */
  subject?: string;
  html?: string;
  /** Language `message` is in. */
  language: string;
  /** When this attempt was claimed (epoch ms): a provider lookup after a crash searches from here. */
  claimedAt: number;
}

/**
 * `awaitingStatus`: the provider accepted the request and will post the outcome later (status
 * callback): the delivery waits in `sent` instead of counting as delivered.
 */
export type SendResult =
  | { ok: true; providerId?: string; awaitingStatus?: boolean; via?: string }
  | { ok: false; error: string; retryable: boolean };

/** What the provider knows of an attempt that a crash cut between "request sent" and "recorded". */
export type Reconciled = { found: true; providerId: string } | { found: false } | { unknown: string };

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export interface Channel {
  /** Name from the configuration (`ops-webhook`). */
  readonly name: string;
  /** Type from the configuration (`webhook`, `console`). */
  readonly type: string;
  /** How the delivery worker retries this channel; a default applies when absent. */
  readonly retry?: RetryPolicy;
  /** Must resolve (never reject) and give up when `signal` aborts. */
  send(n: Notification, signal: AbortSignal): Promise<SendResult>;
  /**
   * Asks the provider whether this attempt already reached it (list its recent messages or calls
   * to the recipient since `n.claimedAt`). Channels without a way to ask leave it out: their
   * receivers dedupe on the delivery id instead.
   */
  reconcile?(n: Notification, signal: AbortSignal): Promise<Reconciled>;
}

/** The recipient as stored on a delivery and shown in the audit trail: `person:alice`, `team:security`. */
export function recipientKey(r: Pick<Recipient, 'kind' | 'id'>): string {
  return `${r.kind}:${r.id}`;
}
