import type { IncidentState } from '../route/model.js';
import { incidentLabel, when } from './diff-report.js';
import type { ReplayIncident, ReplayNotification, ReplayResult, Severity } from './model.js';

// Compare two replays of the same recording (today's rules, a proposed change): which incidents
// appear or disappear, which open or clear at another time, and who would be called more or less
// often. The result is plain JSON so the console can show it as it is.

export { formatDiff, type DiffFormatOptions } from './diff-report.js';

/** Changes smaller than this are timing noise (event order, timer granularity), not a change. */
export const TIME_TOLERANCE_MS = 1000;

export interface FromTo<T> {
  from: T;
  to: T;
}

export interface EscalationSummary {
  /** Highest escalation step reached (0: never escalated past the first step). */
  maxStep: number;
  count: number;
}

/** A base incident and the proposed incident found to be the same alert, and what differs. */
export interface IncidentChange {
  base: ReplayIncident;
  proposed: ReplayIncident;
  /** proposed.openedAt - base.openedAt: positive means the proposed rules open it later. */
  openedDeltaMs?: number;
  /** proposed.clearedAt - base.clearedAt, when both cleared. */
  clearedDeltaMs?: number;
  severity?: FromTo<Severity>;
  escalations?: FromTo<EscalationSummary>;
  /** Notifications actually sent for the incident. */
  notifications?: FromTo<number>;
  /** State when the replay ended. */
  state?: FromTo<IncidentState>;
}

/** Notifications sent to one recipient on one channel, in each run. */
export interface PersonChannelCount {
  to: string;
  toName: string;
  channel: string;
  base: number;
  proposed: number;
}

export interface PersonCount {
  to: string;
  toName: string;
  base: number;
  proposed: number;
}

export interface ReplayDiff {
  site: string;
  /** The base replay's span: offsets in the report count from `from`. */
  from: number;
  to: number;
  /** Rule ids only one of the two rule sets has. */
  rules: { added: string[]; removed: string[] };
  added: ReplayIncident[];
  removed: ReplayIncident[];
  changed: IncidentChange[];
  /** Matched incidents with no difference. */
  unchanged: number;
  /** Only the (recipient, channel) rows whose count differs. */
  people: PersonChannelCount[];
  totals: {
    incidents: { base: number; proposed: number };
    critical: { base: number; proposed: number };
    notificationsSent: { base: number; proposed: number };
    /** Per recipient, all channels together; only those whose count differs. */
    people: PersonCount[];
  };
  /** Why the comparison may mislead (different recordings or spans). */
  warnings: string[];
}

export function diffReplays(base: ReplayResult, proposed: ReplayResult): ReplayDiff {
  const { pairs, added, removed } = matchIncidents(base, proposed);
  const baseSent = sentPerIncident(base.notifications);
  const proposedSent = sentPerIncident(proposed.notifications);
  const changed: IncidentChange[] = [];
  for (const [b, p] of pairs) {
    const c = compare(b, p, baseSent.get(b.id) ?? 0, proposedSent.get(p.id) ?? 0);
    if (c) changed.push(c);
  }
  const byOpened = (a: ReplayIncident, b: ReplayIncident) => a.openedAt - b.openedAt;
  const { perChannel, perPerson } = people(base.notifications, proposed.notifications);
  const critical = (r: ReplayResult) => r.incidents.filter((i) => i.severity === 'critical').length;
  const baseRules = new Set(base.rules);
  const proposedRules = new Set(proposed.rules);
  return {
    site: base.site,
    from: base.from,
    to: base.to,
    rules: {
      added: proposed.rules.filter((r) => !baseRules.has(r)).sort(),
      removed: base.rules.filter((r) => !proposedRules.has(r)).sort(),
    },
    added: added.sort(byOpened),
    removed: removed.sort(byOpened),
    changed: changed.sort((x, y) => x.base.openedAt - y.base.openedAt),
    unchanged: pairs.length - changed.length,
    people: perChannel,
    totals: {
      incidents: { base: base.incidents.length, proposed: proposed.incidents.length },
      critical: { base: critical(base), proposed: critical(proposed) },
      notificationsSent: { base: sentCount(base.notifications), proposed: sentCount(proposed.notifications) },
      people: perPerson,
    },
    warnings: warnings(base, proposed),
  };
}

/**
 * Why the change should not be deployed unreviewed, one line per reason: it adds a critical
 * incident, or it removes an incident (an alert people relied on would no longer come).
 */
export function gateFailures(d: ReplayDiff, o: { timeZone?: string } = {}): string[] {
  const at = (i: ReplayIncident) => when(i.openedAt, d.from, o.timeZone);
  return [
    ...d.added
      .filter((i) => i.severity === 'critical')
      .map((i) => `adds critical incident ${incidentLabel(i)} at ${at(i)}`),
    // An incident that becomes critical pages people as a critical one does: the same gate.
    ...d.changed
      .filter((c) => c.severity?.to === 'critical')
      .map(
        (c) => `makes ${incidentLabel(c.proposed)} critical (was ${c.severity!.from}) at ${at(c.proposed)}`,
      ),
    ...d.removed.map((i) => `removes ${i.severity} incident ${incidentLabel(i)} at ${at(i)}`),
  ];
}

// ---------------------------------------------------------------------------------------------
// Matching. Incident ids differ from one replay to the next, so an incident is recognised by its
// rule and device and by when it was active. A renamed rule therefore shows as its incidents
// removed (old id) and added (new id): the diff cannot tell a rename from a replacement.

interface Matching {
  pairs: [ReplayIncident, ReplayIncident][];
  added: ReplayIncident[];
  removed: ReplayIncident[];
}

export function matchIncidents(base: ReplayResult, proposed: ReplayResult): Matching {
  const baseGroups = groupByPair(base.incidents);
  const proposedGroups = groupByPair(proposed.incidents);
  const out: Matching = { pairs: [], added: [], removed: [] };
  for (const [key, bs] of baseGroups) {
    const ps = proposedGroups.get(key) ?? [];
    proposedGroups.delete(key);
    const taken = new Set<number>();
    for (const b of bs) {
      const bEnd = activeUntil(b, base.to);
      let best = -1;
      for (let j = 0; j < ps.length; j++) {
        const p = ps[j]!;
        if (taken.has(j) || p.openedAt > bEnd || activeUntil(p, proposed.to) < b.openedAt) continue;
        // Strictly nearer only: on a tie the earlier proposed incident wins, keeping the order.
        if (best < 0 || Math.abs(p.openedAt - b.openedAt) < Math.abs(ps[best]!.openedAt - b.openedAt)) {
          best = j;
        }
      }
      if (best < 0) out.removed.push(b);
      else {
        taken.add(best);
        out.pairs.push([b, ps[best]!]);
      }
    }
    for (let j = 0; j < ps.length; j++) if (!taken.has(j)) out.added.push(ps[j]!);
  }
  for (const ps of proposedGroups.values()) out.added.push(...ps);
  return out;
}

function groupByPair(incidents: readonly ReplayIncident[]): Map<string, ReplayIncident[]> {
  const groups = new Map<string, ReplayIncident[]>();
  for (const i of incidents) {
    const key = JSON.stringify([i.ruleId, i.deviceId]);
    const list = groups.get(key);
    if (list) list.push(i);
    else groups.set(key, [i]);
  }
  for (const list of groups.values()) list.sort((a, b) => a.openedAt - b.openedAt);
  return groups;
}

/** An incident is active from its opening until its condition cleared, it was resolved, or the replay ended. */
function activeUntil(i: ReplayIncident, replayEnd: number): number {
  return i.clearedAt ?? i.resolvedAt ?? Math.max(replayEnd, i.openedAt);
}

// ---------------------------------------------------------------------------------------------
// Comparing a matched pair.

function compare(b: ReplayIncident, p: ReplayIncident, bSent: number, pSent: number): IncidentChange | null {
  const c: IncidentChange = { base: b, proposed: p };
  let differs = false;
  const opened = p.openedAt - b.openedAt;
  if (Math.abs(opened) >= TIME_TOLERANCE_MS) {
    c.openedDeltaMs = opened;
    differs = true;
  }
  if (b.clearedAt !== undefined && p.clearedAt !== undefined) {
    const cleared = p.clearedAt - b.clearedAt;
    if (Math.abs(cleared) >= TIME_TOLERANCE_MS) {
      c.clearedDeltaMs = cleared;
      differs = true;
    }
  }
  if (b.severity !== p.severity) {
    c.severity = { from: b.severity, to: p.severity };
    differs = true;
  }
  const be = escalationSummary(b);
  const pe = escalationSummary(p);
  if (be.maxStep !== pe.maxStep || be.count !== pe.count) {
    c.escalations = { from: be, to: pe };
    differs = true;
  }
  if (bSent !== pSent) {
    c.notifications = { from: bSent, to: pSent };
    differs = true;
  }
  if (b.state !== p.state) {
    c.state = { from: b.state, to: p.state };
    differs = true;
  }
  return differs ? c : null;
}

function escalationSummary(i: ReplayIncident): EscalationSummary {
  return { maxStep: i.escalations.reduce((m, e) => Math.max(m, e.step), 0), count: i.escalations.length };
}

// ---------------------------------------------------------------------------------------------
// Notifications: "people called more or less often" counts what would really have gone out.

const isSent = (n: ReplayNotification) => n.outcome === 'sent';

function sentCount(ns: readonly ReplayNotification[]): number {
  return ns.filter(isSent).length;
}

function sentPerIncident(ns: readonly ReplayNotification[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of ns) if (isSent(n)) counts.set(n.incidentId, (counts.get(n.incidentId) ?? 0) + 1);
  return counts;
}

function people(
  base: readonly ReplayNotification[],
  proposed: readonly ReplayNotification[],
): { perChannel: PersonChannelCount[]; perPerson: PersonCount[] } {
  const channels = new Map<string, PersonChannelCount>();
  const persons = new Map<string, PersonCount>();
  const count = (ns: readonly ReplayNotification[], side: 'base' | 'proposed') => {
    for (const n of ns) {
      if (!isSent(n)) continue;
      const ck = JSON.stringify([n.to, n.channel]);
      const c = channels.get(ck) ?? { to: n.to, toName: n.toName, channel: n.channel, base: 0, proposed: 0 };
      c[side]++;
      channels.set(ck, c);
      const p = persons.get(n.to) ?? { to: n.to, toName: n.toName, base: 0, proposed: 0 };
      p[side]++;
      persons.set(n.to, p);
    }
  };
  count(base, 'base');
  count(proposed, 'proposed');
  const byName = (a: { toName: string; to: string }, b: { toName: string; to: string }) =>
    a.toName.localeCompare(b.toName) || a.to.localeCompare(b.to);
  return {
    perChannel: [...channels.values()]
      .filter((c) => c.base !== c.proposed)
      .sort((a, b) => byName(a, b) || a.channel.localeCompare(b.channel)),
    perPerson: [...persons.values()].filter((p) => p.base !== p.proposed).sort(byName),
  };
}

function warnings(base: ReplayResult, proposed: ReplayResult): string[] {
  const w: string[] = [];
  if (base.site !== proposed.site)
    w.push(`the replays are of different sites (${base.site}, ${proposed.site})`);
  if (base.from !== proposed.from || base.to !== proposed.to || base.events !== proposed.events) {
    w.push('the replays did not cover the same events: compare replays of the same recording and window');
  }
  return w;
}
