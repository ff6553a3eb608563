import { randomUUID } from 'node:crypto';

/*
 * The uplink contract (README "Uplink"): every event the gateway and the router exchange over NATS
 * is a CloudEvents 1.0 JSON object in structured mode, published to JetStream with the
 * `Nats-Msg-Id` header set to its `id`, so a replay inside the stream's duplicate window is dropped
 * by the server. The JSON Schema is router/schema/vigie-events.schema.json.
 *
 *   vigie.{site}.incident.{opened|acknowledged|escalated|cleared|resolved}   gateway -> stream VIGIE
 *   vigie.{site}.job.{offered|accepted|declined|expired|enroute|arrived|resolved|unassigned|survey}
 *   cc.interactions.{site}                                                  gateway -> stream CC (work items)
 *   cc.assignments.{site}                                                   router  -> stream CC
 *   cc.outcomes.{site}                                                      router  -> stream CC
 *   vigie.{site}.cmd.{acknowledge|resolve|note}     core NATS request/reply, never in a stream
 */

export const CE_TYPE_PREFIX = 'com.vigie.';

export type IncidentEventKind = 'opened' | 'acknowledged' | 'escalated' | 'cleared' | 'resolved';
export type JobEventKind =
  | 'offered'
  | 'accepted'
  | 'declined'
  | 'expired'
  | 'enroute'
  | 'arrived'
  | 'resolved'
  | 'unassigned'
  | 'survey';

export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  /** Unique per event; also the JetStream `Nats-Msg-Id`. */
  id: string;
  /** `vigie://{site}/gateway` or `vigie://router/{instance}`. */
  source: string;
  /** `com.vigie.incident.opened`, `com.vigie.job.accepted`, `com.vigie.workitem.created`, ... */
  type: string;
  /** The incident id the event is about (every event is about one incident). */
  subject: string;
  /** RFC 3339. */
  time: string;
  datacontenttype: 'application/json';
  /** Extension attributes (lowercase alphanumerics, per the spec). */
  vigiesite: string;
  data: T;
}

export const subjects = {
  incident: (site: string, kind: IncidentEventKind) => `vigie.${site}.incident.${kind}`,
  job: (site: string, kind: JobEventKind) => `vigie.${site}.job.${kind}`,
  workItem: (site: string) => `cc.interactions.${site}`,
  assignment: (site: string) => `cc.assignments.${site}`,
  outcome: (site: string) => `cc.outcomes.${site}`,
  command: (site: string, verb: 'acknowledge' | 'resolve' | 'note') => `vigie.${site}.cmd.${verb}`,
};

/** Stream subjects: what the gateway and router create (or check) at start. */
export const STREAM_SUBJECTS = {
  events: ['vigie.*.incident.*', 'vigie.*.job.*'],
  contactCenter: ['cc.interactions.*', 'cc.assignments.*', 'cc.outcomes.*'],
};

/** Site ids become subject tokens: they must not contain `.`, `*`, `>` or spaces. */
export function isSubjectToken(s: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(s);
}

export function cloudEvent<T>(o: {
  source: string;
  type: string;
  subject: string;
  site: string;
  time: number;
  data: T;
  id?: string;
}): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: o.id ?? `evt_${randomUUID()}`,
    source: o.source,
    type: o.type.startsWith(CE_TYPE_PREFIX) ? o.type : CE_TYPE_PREFIX + o.type,
    subject: o.subject,
    time: new Date(o.time).toISOString(),
    datacontenttype: 'application/json',
    vigiesite: o.site,
    data: o.data,
  };
}
