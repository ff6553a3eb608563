import type { ReplayIncident, ReplayNotification, ReplayResult } from '../model.js';
import type { Expectations, IncidentExpectation, NotificationExpectation, Span, When } from './spec.js';
import { formatAt, formatOffset } from './time.js';

// Expectations against what a replay did. Pure: a ReplayResult in, failures out, each saying what
// was expected and what happened, with the time as an offset and in the site's zone.

export interface Mismatch {
  expected: string;
  got: string;
}

export interface Failure {
  /** Line of the expectation in the test file (absent for an incident nobody expected). */
  line?: number;
  title: string;
  mismatches: Mismatch[];
  /** What did happen, when it helps (the notifications sent). */
  details?: string[];
}

export interface MatchClock {
  start: number;
  /** When the clock stopped. */
  end: number;
  timeZone: string;
}

/** Most notifications a failure lists; a storm test can send hundreds. */
const MAX_LISTED = 15;

export function matchExpectations(expect: Expectations, result: ReplayResult, clock: MatchClock): Failure[] {
  const failures: Failure[] = [];
  if (expect.incidents) failures.push(...matchIncidents(expect.incidents, result.incidents, clock));
  if (expect.noNotifications) {
    const sent = result.notifications.filter((n) => n.outcome === 'sent');
    if (sent.length > 0)
      failures.push({
        line: expect.notificationsLine,
        title: 'notifications',
        mismatches: [{ expected: 'none sent', got: `${sent.length} sent` }],
        details: listNotifications(sent, clock),
      });
  }
  for (const x of expect.notifications ?? []) {
    const f = matchNotification(x, result.notifications, clock);
    if (f) failures.push(f);
  }
  return failures;
}

const keyOf = (rule: string, device: string) => `${rule}\u0000${device}`;

/**
 * Exhaustive: the n-th expectation for a rule and device is the n-th incident of that rule on that
 * device (in opening order); any incident left over was not expected.
 */
function matchIncidents(
  expected: readonly IncidentExpectation[],
  actual: readonly ReplayIncident[],
  clock: MatchClock,
): Failure[] {
  const byKey = new Map<string, ReplayIncident[]>();
  for (const i of [...actual].sort((a, b) => a.openedAt - b.openedAt)) {
    const k = keyOf(i.ruleId, i.deviceId);
    const list = byKey.get(k) ?? [];
    list.push(i);
    byKey.set(k, list);
  }
  const used = new Set<ReplayIncident>();
  const seen = new Map<string, number>();
  const failures: Failure[] = [];
  for (const x of expected) {
    const k = keyOf(x.rule, x.device);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    const title = `incident ${x.rule} on ${x.device}`;
    const got = byKey.get(k)?.[n];
    if (!got) {
      const count = byKey.get(k)?.length ?? 0;
      failures.push({
        line: x.line,
        title,
        mismatches: [
          {
            expected: `${n === 0 ? 'an incident' : `incident #${n + 1}`}${x.opened ? `, opened ${spanText(x.opened, clock)}` : ''}`,
            got:
              count === 0
                ? `no incident of ${x.rule} on ${x.device}`
                : `${count} incident${count === 1 ? '' : 's'} of ${x.rule} on ${x.device}`,
          },
        ],
      });
      continue;
    }
    used.add(got);
    const mismatches = compareIncident(x, got, clock);
    if (mismatches.length > 0) failures.push({ line: x.line, title, mismatches });
  }
  for (const i of [...actual].sort((a, b) => a.openedAt - b.openedAt)) {
    if (used.has(i)) continue;
    failures.push({
      title: `unexpected incident ${i.ruleId} on ${i.deviceId} (${i.severity}) opened at ${formatAt(i.openedAt, clock.start, clock.timeZone)}${i.reason ? `: ${i.reason}` : ''}`,
      mismatches: [],
    });
  }
  return failures;
}

function compareIncident(x: IncidentExpectation, i: ReplayIncident, clock: MatchClock): Mismatch[] {
  const out: Mismatch[] = [];
  const at = (t: number) => formatAt(t, clock.start, clock.timeZone);
  if (x.severity !== undefined && x.severity !== i.severity)
    out.push({ expected: `severity ${x.severity}`, got: `severity ${i.severity}` });
  if (x.opened && !inSpan(i.openedAt, x.opened, clock))
    out.push({ expected: `opened ${spanText(x.opened, clock)}`, got: `opened at ${at(i.openedAt)}` });
  const moments: ['acknowledged' | 'cleared' | 'resolved', number | undefined][] = [
    ['acknowledged', i.acknowledgedAt],
    ['cleared', i.clearedAt],
    ['resolved', i.resolvedAt],
  ];
  for (const [what, t] of moments) {
    const want: When | undefined = x[what];
    if (want === undefined) continue;
    if (want === 'never') {
      if (t !== undefined) out.push({ expected: `never ${what}`, got: `${what} at ${at(t)}` });
    } else if (t === undefined) {
      out.push({
        expected: `${what} ${spanText(want, clock)}`,
        got: `not ${what}: ${i.state} when the clock stopped, at ${at(clock.end)}`,
      });
    } else if (!inSpan(t, want, clock)) {
      out.push({ expected: `${what} ${spanText(want, clock)}`, got: `${what} at ${at(t)}` });
    }
  }
  if (x.state !== undefined && x.state !== i.state)
    out.push({ expected: `${x.state} when the clock stopped`, got: `${i.state}` });
  if (x.reason !== undefined && !i.reason.includes(x.reason))
    out.push({ expected: `reason containing "${x.reason}"`, got: `reason "${i.reason}"` });
  if (x.damped !== undefined && x.damped !== (i.damped === true))
    out.push({
      expected: x.damped ? 'damped (flapping: pages nobody)' : 'not damped',
      got: i.damped ? 'damped (flapping: pages nobody)' : 'not damped',
    });
  return out;
}

function matchNotification(
  x: NotificationExpectation,
  all: readonly ReplayNotification[],
  clock: MatchClock,
): Failure | undefined {
  const hits = all.filter((n) => notificationMatches(x, n, clock));
  const title = describeNotification(x, clock);
  if (x.count !== undefined) {
    if (hits.length === x.count) return undefined;
    return {
      line: x.line,
      title,
      mismatches: [{ expected: times(x.count), got: times(hits.length) }],
      details: listNotifications(hits.length > 0 ? hits : all, clock, hits.length > 0 ? 'matching' : 'all'),
    };
  }
  if (hits.length > 0) return undefined;
  return {
    line: x.line,
    title,
    mismatches: [{ expected: 'at least once', got: 'never' }],
    details: listNotifications(all, clock, 'all'),
  };
}

function notificationMatches(x: NotificationExpectation, n: ReplayNotification, clock: MatchClock): boolean {
  const outcome = x.outcome ?? 'sent';
  if (outcome !== 'any' && n.outcome !== outcome) return false;
  if (x.to !== undefined && n.to !== x.to && n.to.slice(n.to.indexOf(':') + 1) !== x.to) return false;
  if (x.channel !== undefined && n.channel !== x.channel) return false;
  if (x.rule !== undefined && n.ruleId !== x.rule) return false;
  if (x.device !== undefined && n.deviceId !== x.device) return false;
  // Deliveries count steps from 0; a rule file's reader counts them from 1 (README "Engage").
  if (x.step !== undefined && n.step + 1 !== x.step) return false;
  if (x.message !== undefined && !n.message.includes(x.message)) return false;
  if (x.at !== undefined && !inSpan(n.at, x.at, clock)) return false;
  return true;
}

/** `voice notification to sec-amina at +30s (...) (door-held-open on door-g12 step 1)` */
function describeNotification(x: NotificationExpectation, clock: MatchClock): string {
  const outcome = x.outcome && x.outcome !== 'sent' ? `${x.outcome === 'any' ? 'any' : x.outcome} ` : '';
  const parts = [`${outcome}${x.channel ? `${x.channel} ` : ''}notification`];
  if (x.to) parts.push(`to ${x.to}`);
  if (x.at) parts.push(spanText(x.at, clock));
  const about = [x.rule, x.device && `on ${x.device}`, x.step !== undefined && `step ${x.step}`].filter(
    Boolean,
  );
  if (about.length > 0) parts.push(`(${about.join(' ')})`);
  if (x.message) parts.push(`containing "${x.message}"`);
  return parts.join(' ');
}

function listNotifications(
  list: readonly ReplayNotification[],
  clock: MatchClock,
  which: 'all' | 'matching' = 'all',
): string[] {
  if (list.length === 0) return ['nothing was sent'];
  const head = which === 'all' ? 'the replay sent:' : 'matching:';
  const lines = [...list]
    .sort((a, b) => a.at - b.at)
    .slice(0, MAX_LISTED)
    .map((n) => notificationLine(n, clock));
  if (list.length > MAX_LISTED) lines.push(`... and ${list.length - MAX_LISTED} more`);
  return [head, ...lines];
}

/** `+30s (2026-11-24 14:00:30 +01:00) voice to person:sec-amina, door-held-open on door-g12, step 1` */
export function notificationLine(n: ReplayNotification, clock: MatchClock): string {
  const outcome = n.outcome === 'sent' ? '' : ` [${n.outcome}${n.detail ? `: ${n.detail}` : ''}]`;
  return `${formatAt(n.at, clock.start, clock.timeZone)} ${n.channel} to ${n.to}, ${n.ruleId} on ${n.deviceId}, step ${n.step + 1}${outcome}`;
}

function inSpan(t: number, s: Span, clock: MatchClock): boolean {
  const off = t - clock.start;
  return off >= s.from && off <= s.to;
}

function spanText(s: Span, clock: MatchClock): string {
  const abs = (off: number) => formatAt(clock.start + off, clock.start, clock.timeZone);
  return s.from === s.to ? `at ${abs(s.from)}` : `between ${formatOffset(s.from)} and ${abs(s.to)}`;
}

const times = (n: number) => (n === 0 ? 'never' : n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);
