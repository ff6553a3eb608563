import type { Logger } from '../core/log.js';
import type { StepResolver } from '../route/escalation.js';
import { resolveStep } from '../route/policy.js';
import type { Site } from '../site/model.js';
import { expandStep, personRecipient, type PlannedDelivery } from './recipients.js';

/**
 * Who a step reaches, as the gateway runs it:
 * - console channels show the step once per team or person as written (the board is not a phone);
 * - a step that names its channels (`via`) sends on all of them at once, to everyone it reaches;
 * - a step without `via` (a policy tier) uses each person's first channel for the severity, the
 *   next ones being the failover when that one fails (engage/failover.ts);
 * - on-call entries are resolved at `at`, quiet hours hold back non-critical alerts.
 */
export function createStepResolver(site: Site, consoles: ReadonlySet<string>, logger: Logger): StepResolver {
  return (step, incident, at) => {
    const planned: PlannedDelivery[] = [];
    const consoleVia = step.via.filter((c) => consoles.has(c));
    const otherVia = step.via.filter((c) => !consoles.has(c));
    if (consoleVia.length > 0) {
      planned.push(
        ...expandStep(
          site,
          { ...step, via: consoleVia, notify: step.notify.filter((n) => !n.startsWith('oncall:')) },
          { isConsole: () => true },
        ),
      );
      // On-call people appear on the board by name.
      if (otherVia.length === 0) {
        const { deliveries } = resolveStep(
          site,
          { ...step, notify: step.notify.filter((n) => n.startsWith('oncall:')), via: consoleVia },
          incident.severity,
          at,
        );
        for (const d of deliveries)
          for (const c of consoleVia)
            planned.push({ channel: c, recipient: personRecipient(d.person, site.language) });
        return { planned, skipped: [] };
      }
    }
    const { deliveries, skipped } = resolveStep(site, { ...step, via: otherVia }, incident.severity, at);
    for (const d of deliveries) {
      const channels = otherVia.length > 0 ? otherVia : d.channels.slice(0, 1);
      for (const channel of channels)
        planned.push({ channel, recipient: personRecipient(d.person, site.language) });
    }
    for (const s of skipped)
      if (s.reason.startsWith('no person'))
        logger.warn('escalation names nobody in the site file', { incident: incident.id, entry: s.person });
    return { planned, skipped: skipped.map((s) => ({ who: s.person, reason: s.reason })) };
  };
}
