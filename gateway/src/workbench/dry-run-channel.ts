import type { Channel, Notification, SendResult } from '../engage/channel.js';

const SENT: SendResult = Object.freeze({ ok: true });
const RESOLVED = Promise.resolve(SENT);

/**
 * Stands in for a configured channel in a replay: the delivery worker hands it the notification
 * exactly as it would the real one (rendered for this channel type, after storm control), and it
 * keeps it instead of sending it. No socket, no file, no timer: nothing can leave the machine.
 */
export class DryRunChannel implements Channel {
  /** What would have been sent, by delivery id. */
  readonly sent = new Map<string, Notification>();

  constructor(
    readonly name: string,
    readonly type: string,
  ) {}

  send(n: Notification): Promise<SendResult> {
    this.sent.set(n.deliveryId, n);
    return RESOLVED;
  }
}
