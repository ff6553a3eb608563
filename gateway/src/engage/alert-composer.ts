import type { Site } from '../site/model.js';
import type { Compose } from './composer.js';
import { renderAlert, varsFromIncident } from './templates.js';

const FLAPPING = {
  en: 'This device is flapping ({n} times in {min} min): its next alerts are muted for a while.',
  fr: 'Cet équipement bagote ({n} fois en {min} min) : ses prochaines alertes sont mises en sourdine.',
} as const;

/**
 * Renders each delivery from the site's templates (or the built-in ones), in the recipient's
 * language, at send time: the duration is the one at the moment the person reads it, and a grouped
 * alert counts the incidents its group holds by then.
 */
export function createComposer(o: {
  site: Site;
  publicUrl?: string;
  groupSize: (groupId: string) => number;
}): Compose {
  const base = o.publicUrl?.replace(/\/+$/, '');
  return (incident, recipient, channelType, now) => {
    const language = recipient.language ?? o.site.language;
    const template = typeof incident.context.template === 'string' ? incident.context.template : undefined;
    // Only a group's leader gets deliveries: its alert stands for the whole group.
    const count = incident.groupId ? o.groupSize(incident.groupId) : undefined;
    const vars = varsFromIncident(incident, {
      ackCode: incident.ackCode ?? '',
      timezone: o.site.timezone,
      incidentUrl: base ? `${base}/api/v1/incidents/${incident.id}` : undefined,
      durationMs: Math.max(
        0,
        now - (typeof incident.context.since === 'number' ? incident.context.since : incident.triggerTs),
      ),
      count,
    });
    const r = renderAlert(o.site.templates, template, channelType, language, vars, o.site.language);
    let message = r.text;
    const flapping = incident.context.flapping as { openings: number; windowMs: number } | undefined;
    if (flapping) {
      const words = r.language === 'fr' ? FLAPPING.fr : FLAPPING.en;
      message +=
        ' ' +
        words
          .replace('{n}', String(flapping.openings))
          .replace('{min}', String(Math.round(flapping.windowMs / 60_000)));
    }
    const out: ReturnType<Compose> = { message, language: r.language };
    if (r.subject !== undefined) out.subject = r.subject;
    if (r.html !== undefined) out.html = r.html;
    if (r.voiceFile !== undefined) out.voiceFile = r.voiceFile;
    return out;
  };
}
