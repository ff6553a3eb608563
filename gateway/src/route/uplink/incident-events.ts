import type { IncidentChange, IncidentChangeKind } from '../incidents.js';
import type { Incident } from '../model.js';
import { incidentSummary } from '../summary.js';
import { cloudEvent, subjects, type CloudEvent } from './events.js';
import type { Outbox } from './outbox.js';

/** `data` of `com.vigie.incident.*` (README "Uplink", router/schema/vigie-events.schema.json). */
export interface IncidentEventData {
  incident: ReturnType<typeof incidentSummary> & { ackCode?: string };
  transition: IncidentChangeKind;
  actor?: string;
  context: Incident['context'];
}

/** Who made the change, when the incident says so. */
function actorOf(kind: IncidentChangeKind, i: Incident): string | undefined {
  switch (kind) {
    case 'acknowledged':
      return i.acknowledgedBy;
    case 'resolved':
      return i.resolvedBy;
    case 'opened':
    case 'cleared':
      return `rule:${i.ruleId}`;
    default:
      return undefined;
  }
}

export function incidentEvent(site: string, c: IncidentChange, now: number): CloudEvent<IncidentEventData> {
  const i = c.incident;
  const incident: IncidentEventData['incident'] = { ...incidentSummary(i), state: i.state };
  if (i.ackCode) incident.ackCode = i.ackCode;
  const data: IncidentEventData = { incident, transition: c.kind, context: i.context };
  const actor = actorOf(c.kind, i);
  if (actor) data.actor = actor;
  return cloudEvent({
    source: `vigie://${site}/gateway`,
    type: `incident.${c.kind}`,
    subject: i.id,
    site,
    time: now,
    data,
  });
}

/**
 * For `IncidentService.addRecorder`: one event per change, appended in the change's own
 * transaction, so the order in the outbox is the order the changes were committed.
 */
export function incidentRecorder(
  outbox: Outbox,
  site: string,
): (changes: readonly IncidentChange[], now: number) => void {
  return (changes, now) => {
    for (const c of changes)
      outbox.append(subjects.incident(site, c.kind), incidentEvent(site, c, now), c.incident.id);
  };
}
