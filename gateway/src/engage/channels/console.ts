import { systemClock, type Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { recipientKey, type Channel, type Notification, type SendResult } from '../channel.js';
import type { LiveHub } from '../live-hub.js';

/**
 * The channel that needs nothing: one log line per notification, and the same on the live console
 * (the API's WebSocket), where an operator can acknowledge it.
 */
export class ConsoleChannel implements Channel {
  readonly type = 'console';
  // Nothing can fail halfway here; a second attempt would only repeat the line.
  readonly retry = { maxAttempts: 1, backoffMs: 1000, maxBackoffMs: 1000 };

  constructor(
    readonly name: string,
    private readonly d: { logger: Logger; live?: LiveHub; clock?: Clock },
  ) {}

  send(n: Notification): Promise<SendResult> {
    const i = n.incident;
    this.d.logger.info(`notify ${recipientKey(n.recipient)} [${i.severity}] ${n.message}`, {
      incident: i.id,
      delivery: n.deliveryId,
      step: n.step,
      channel: this.name,
    });
    this.d.live?.emit({
      type: 'notification',
      at: (this.d.clock ?? systemClock).now(),
      data: {
        deliveryId: n.deliveryId,
        channel: this.name,
        incidentId: i.id,
        rule: i.ruleId,
        device: i.deviceId,
        severity: i.severity,
        state: i.state,
        step: n.step,
        recipient: { kind: n.recipient.kind, id: n.recipient.id, name: n.recipient.name },
        message: n.message,
      },
    });
    return Promise.resolve({ ok: true });
  }
}
