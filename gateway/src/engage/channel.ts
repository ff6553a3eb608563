import type { Incident } from '../route/model.js';

/** Who a notification goes to, resolved from the site file when the delivery was created. */
export interface Recipient {
  /** A person, or for console deliveries a team as written in the rule. */
  kind: 'person' | 'team';
  /** The id in the site file (`alice`, `security`). */
  id: string;
  name: string;
  phone?: string;
  email?: string;
  webhook?: string;
}

export interface Notification {
  /** Stable across retries: receivers use it to drop duplicates. */
  deliveryId: string;
  incident: Incident;
  recipient: Recipient;
  step: number;
  /** 1 for the first try. */
  attempt: number;
  message: string;
}

export type SendResult = { ok: true; providerId?: string } | { ok: false; error: string; retryable: boolean };

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
}

/** The recipient as stored on a delivery and shown in the audit trail: `person:alice`, `team:security`. */
export function recipientKey(r: Pick<Recipient, 'kind' | 'id'>): string {
  return `${r.kind}:${r.id}`;
}
