import { isScalar, isSeq } from 'yaml';
import { SEVERITIES } from '../../../../rules/src/model.js';
import { describe, type Entry, type YamlReader } from '../../../../rules/src/yaml-reader.js';
import type { Expectations, IncidentExpectation, NotificationExpectation } from './spec.js';
import { required, span, when } from './yaml-values.js';

// `expect:` of a rule test: the incidents (all of them) and the notifications (each at least once,
// or exactly `count` times) the replay must produce.

const EXPECT_KEYS = ['incidents', 'notifications'];
const INCIDENT_KEYS = [
  'rule',
  'device',
  'severity',
  'opened',
  'acknowledged',
  'cleared',
  'resolved',
  'state',
  'reason',
  'damped',
];
const NOTIFICATION_KEYS = ['to', 'channel', 'at', 'rule', 'device', 'step', 'outcome', 'message', 'count'];
const STATES = ['open', 'acknowledged', 'cleared', 'resolved'] as const;
const OUTCOMES = ['sent', 'suppressed', 'cancelled', 'failed', 'any'] as const;

export function parseExpect(r: YamlReader, e: Entry, path: string): Expectations | undefined {
  const m = r.map(e.value, path, EXPECT_KEYS, e.keyLine);
  if (!m) return undefined;
  const out: Expectations = { line: e.keyLine };
  if (m.size === 0) r.problem(e.keyLine, `${path}: give incidents and/or notifications`);
  const inc = m.get('incidents');
  if (inc) {
    out.incidents = isNone(inc.value)
      ? []
      : listOf(r, inc, `${path}.incidents`, (node, p) => parseIncident(r, node, p, inc.keyLine));
  }
  const notes = m.get('notifications');
  if (notes) {
    out.notificationsLine = notes.keyLine;
    if (isNone(notes.value)) out.noNotifications = true;
    else
      out.notifications = listOf(r, notes, `${path}.notifications`, (node, p) =>
        parseNotification(r, node, p, notes.keyLine),
      );
  }
  return out;
}

const isNone = (node: unknown) =>
  (isScalar(node) && node.value === 'none') || (isSeq(node) && node.items.length === 0);

function listOf<T>(
  r: YamlReader,
  e: Entry,
  path: string,
  each: (node: unknown, path: string) => T | undefined,
): T[] {
  if (!isSeq(e.value)) {
    r.problem(r.line(e.value, e.keyLine), `${path}: expected a list or none, got ${describe(e.value)}`);
    return [];
  }
  const out: T[] = [];
  e.value.items.forEach((node, i) => {
    const v = each(node, `${path}[${i + 1}]`);
    if (v !== undefined) out.push(v);
  });
  return out;
}

function parseIncident(
  r: YamlReader,
  node: unknown,
  path: string,
  fallback: number,
): IncidentExpectation | undefined {
  const line = r.line(node, fallback);
  const m = r.map(node, path, INCIDENT_KEYS, line);
  if (!m) return undefined;
  const before = r.problems.length;
  const rule = required(r, m, 'rule', path, line, (e) => r.str(e, `${path}.rule`));
  const device = required(r, m, 'device', path, line, (e) => r.str(e, `${path}.device`));
  const x: IncidentExpectation = { line, rule: rule ?? '', device: device ?? '' };
  const sev = m.get('severity');
  if (sev)
    x.severity = r.str(
      sev,
      `${path}.severity`,
      new RegExp(`^(${SEVERITIES.join('|')})$`),
      'is not a severity',
    );
  const opened = m.get('opened');
  if (opened) x.opened = span(r, opened, `${path}.opened`);
  for (const k of ['acknowledged', 'cleared', 'resolved'] as const) {
    const te = m.get(k);
    if (te) x[k] = when(r, te, `${path}.${k}`);
  }
  const state = m.get('state');
  if (state)
    x.state = r.str(
      state,
      `${path}.state`,
      /^(open|acknowledged|cleared|resolved)$/,
      `is not a state (${STATES.join(', ')})`,
    ) as IncidentExpectation['state'] | undefined;
  const reason = m.get('reason');
  if (reason) x.reason = r.str(reason, `${path}.reason`);
  const damped = m.get('damped');
  if (damped) x.damped = r.bool(damped, `${path}.damped`);
  return r.problems.length > before ? undefined : x;
}

function parseNotification(
  r: YamlReader,
  node: unknown,
  path: string,
  fallback: number,
): NotificationExpectation | undefined {
  const line = r.line(node, fallback);
  const m = r.map(node, path, NOTIFICATION_KEYS, line);
  if (!m) return undefined;
  const before = r.problems.length;
  const x: NotificationExpectation = { line };
  for (const k of ['to', 'channel', 'rule', 'device', 'message'] as const) {
    const e = m.get(k);
    if (e) x[k] = r.str(e, `${path}.${k}`);
  }
  const at = m.get('at');
  if (at) x.at = span(r, at, `${path}.at`);
  const step = m.get('step');
  if (step) x.step = r.num(step, `${path}.step`, { min: 1, integer: true });
  const outcome = m.get('outcome');
  if (outcome)
    x.outcome = r.str(
      outcome,
      `${path}.outcome`,
      /^(sent|suppressed|cancelled|failed|any)$/,
      `is not an outcome (${OUTCOMES.join(', ')})`,
    ) as NotificationExpectation['outcome'] | undefined;
  const count = m.get('count');
  if (count) x.count = r.num(count, `${path}.count`, { min: 0, integer: true });
  if (m.size === 0 || (m.size === 1 && count))
    r.problem(
      line,
      `${path}: say which notification (to, channel, at, rule, device, step, outcome, message)`,
    );
  return r.problems.length > before ? undefined : x;
}
