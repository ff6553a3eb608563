import { localTime as wallTime } from './wall-clock.js';
import type { IncidentChange, PersonChannelCount, ReplayDiff } from './diff.js';
import type { ReplayIncident } from './model.js';

// The diff as a person reads it in a terminal or a CI log: one summary line, then one section per
// kind of change, each incident placed both in the recording (+HH:MM:SS from the replay start, to
// find it again in `vigie replay` output) and on the wall clock (to find it in the site's logs).

export interface DiffFormatOptions {
  /** IANA zone for wall-clock times; UTC when absent or unknown. */
  timeZone?: string;
  /** Origin of the +HH:MM:SS offsets; the replay start by default. */
  from?: number;
}

export function formatDiff(d: ReplayDiff, o: DiffFormatOptions = {}): string {
  const from = o.from ?? d.from;
  const tz = zoneOrUtc(o.timeZone);
  const lines = d.warnings.map((w) => `warning: ${w}`);
  const summary = summaryParts(d);
  if (summary.length === 0) {
    lines.push(
      `no difference (${d.totals.incidents.base} incidents, ` +
        `${d.totals.notificationsSent.base} notifications sent in both)`,
    );
    return lines.join('\n') + '\n';
  }
  lines.push(summary.join(', '));
  lines.push(`replay of ${d.site} from ${wallTime(d.from, tz)} to ${wallTime(d.to, tz)} (${tz})`);
  if (d.rules.added.length > 0 || d.rules.removed.length > 0) {
    lines.push(
      `rules only in the proposed set: ${list(d.rules.added)}; only in the base set: ${list(d.rules.removed)} ` +
        '(a renamed rule shows as its incidents removed and added)',
    );
  }
  const section = (title: string, body: string[]) => {
    if (body.length > 0) lines.push('', title, ...body);
  };
  section(
    'Added',
    d.added.map((i) => incidentLine(i, from, tz)),
  );
  section(
    'Removed',
    d.removed.map((i) => incidentLine(i, from, tz)),
  );
  section(
    'Changed',
    d.changed.flatMap((c) => [
      incidentLine(c.base, from, tz),
      ...changeLines(c, from).map((l) => `      ${l}`),
    ]),
  );
  section('People', peopleLines(d));
  return lines.join('\n') + '\n';
}

function summaryParts(d: ReplayDiff): string[] {
  const parts: string[] = [];
  const add = (n: number, text: string) => {
    if (n > 0) parts.push(`${n} ${text}`);
  };
  const critical = d.added.filter((i) => i.severity === 'critical').length;
  if (d.added.length > 0) {
    parts.push(
      `${plural(d.added.length, 'incident')} added` + (critical > 0 ? ` (${critical} critical)` : ''),
    );
  }
  add(
    d.removed.length,
    d.added.length > 0 ? 'removed' : `${d.removed.length === 1 ? 'incident' : 'incidents'} removed`,
  );
  const count = (f: (c: IncidentChange) => boolean) => d.changed.filter(f).length;
  add(
    count((c) => (c.openedDeltaMs ?? 0) < 0),
    'opened earlier',
  );
  add(
    count((c) => (c.openedDeltaMs ?? 0) > 0),
    'opened later',
  );
  add(
    count((c) => (c.clearedDeltaMs ?? 0) < 0),
    'cleared earlier',
  );
  add(
    count((c) => (c.clearedDeltaMs ?? 0) > 0),
    'cleared later',
  );
  add(
    count((c) => c.severity !== undefined),
    'with another severity',
  );
  add(
    count((c) => escalationDirection(c) > 0),
    'escalated further',
  );
  add(
    count((c) => escalationDirection(c) < 0),
    'escalated less',
  );
  add(
    count((c) => c.state !== undefined),
    'ending in another state',
  );
  const more = d.totals.people.filter((p) => p.proposed > p.base).length;
  const fewer = d.totals.people.filter((p) => p.proposed < p.base).length;
  add(more, `${more === 1 ? 'person' : 'people'} called more often`);
  add(fewer, `${fewer === 1 ? 'person' : 'people'} called less often`);
  // Calls moved from one channel to another for the same person change no total.
  if (more === 0 && fewer === 0 && d.people.length > 0) parts.push('calls moved between channels');
  if (parts.length > 0 && d.unchanged > 0) parts.push(`${d.unchanged} unchanged`);
  return parts;
}

function incidentLine(i: ReplayIncident, from: number, tz: string): string {
  return `  ${offset(i.openedAt, from)}  ${wallTime(i.openedAt, tz)}  ${incidentLabel(i)}  ${i.severity}  ${i.reason}`;
}

function changeLines(c: IncidentChange, from: number): string[] {
  const out: string[] = [];
  const { base: b, proposed: p } = c;
  if (c.openedDeltaMs !== undefined) {
    out.push(
      `opened ${duration(Math.abs(c.openedDeltaMs))} ${c.openedDeltaMs < 0 ? 'earlier' : 'later'} ` +
        `(${offset(b.openedAt, from)} -> ${offset(p.openedAt, from)})`,
    );
  }
  if (c.clearedDeltaMs !== undefined && b.clearedAt !== undefined && p.clearedAt !== undefined) {
    out.push(
      `cleared ${duration(Math.abs(c.clearedDeltaMs))} ${c.clearedDeltaMs < 0 ? 'earlier' : 'later'} ` +
        `(${offset(b.clearedAt, from)} -> ${offset(p.clearedAt, from)})`,
    );
  }
  if (c.severity) out.push(`severity ${c.severity.from} -> ${c.severity.to}`);
  if (c.escalations) {
    const { from: e0, to: e1 } = c.escalations;
    const dir = escalationDirection(c);
    // Steps are shown counted from 1, as a person reads an escalation policy.
    out.push(
      `${dir > 0 ? 'escalated further' : dir < 0 ? 'escalated less' : 'escalated differently'}: ` +
        `escalations ${e0.count} -> ${e1.count}, last step ${e0.maxStep + 1} -> ${e1.maxStep + 1}`,
    );
  }
  if (c.notifications) {
    const { from: n0, to: n1 } = c.notifications;
    out.push(`notifications sent ${n0} -> ${n1} (${signed(n1 - n0)})`);
  }
  if (c.state) out.push(`state at end ${c.state.from} -> ${c.state.to}`);
  return out;
}

function escalationDirection(c: IncidentChange): number {
  if (!c.escalations) return 0;
  const { from: a, to: b } = c.escalations;
  return Math.sign(b.maxStep - a.maxStep) || Math.sign(b.count - a.count);
}

function peopleLines(d: ReplayDiff): string[] {
  const row = (who: { to: string; toName: string }, what: string, base: number, proposed: number) =>
    `  ${who.toName} (${who.to}) ${what} ${base} -> ${proposed} (${signed(proposed - base)})`;
  const rowsOf = new Map<string, PersonChannelCount[]>();
  for (const r of d.people) rowsOf.set(r.to, [...(rowsOf.get(r.to) ?? []), r]);
  const lines = d.people.map((r) => row(r, r.channel, r.base, r.proposed));
  // A person's total says more than the channel rows only when several of them changed.
  for (const p of d.totals.people) {
    if ((rowsOf.get(p.to)?.length ?? 0) > 1) lines.push(row(p, 'all channels', p.base, p.proposed));
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Shared with gateFailures.

export function incidentLabel(i: ReplayIncident): string {
  return `${i.ruleId} on ${i.deviceId}`;
}

/** "+00:12:30 (2024-05-01 08:12:30 UTC)". */
export function when(t: number, from: number, timeZone?: string): string {
  const tz = zoneOrUtc(timeZone);
  return `${offset(t, from)} (${wallTime(t, tz)} ${tz})`;
}

/** +HH:MM:SS from the replay start; hours go past 24 (a week of recording is +167:59:59). */
export function offset(t: number, from: number): string {
  const ms = t - from;
  const s = Math.floor(Math.abs(ms) / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${ms < 0 ? '-' : '+'}${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** "30 s", "2 min 5 s", "1 h 3 min", "2 d 4 h": two units at most, rounded to the second. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  const units: [string, number][] = [
    ['d', Math.floor(s / 86_400)],
    ['h', Math.floor(s / 3600) % 24],
    ['min', Math.floor(s / 60) % 60],
    ['s', s % 60],
  ];
  const first = units.findIndex(([, n]) => n > 0);
  if (first < 0) return '0 s';
  return units
    .slice(first, first + 2)
    .filter(([, n]) => n > 0)
    .map(([u, n]) => `${n} ${u}`)
    .join(' ');
}

function zoneOrUtc(tz: string | undefined): string {
  if (!tz) return 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz;
  } catch {
    return 'UTC';
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function list(ids: readonly string[]): string {
  return ids.length > 0 ? ids.join(', ') : 'none';
}
