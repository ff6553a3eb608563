import type { Scalar, Severity, Transition } from '../../../rules/src/model.js';
import type { WatchConfig } from '../config/schema.js';
import type { Recipient } from '../engage/channel.js';
import { personRecipient } from '../engage/recipients.js';
import { preferredChannels, resolveStep } from '../route/policy.js';
import type { RuleInfo } from '../route/rule-info.js';
import type { Person, Site } from '../site/model.js';
import { GATEWAY_DEVICE_ID, PROBLEM_IDS, PROBLEMS, problemRuleId, type ProblemId } from './model.js';

// The built-in `gateway-*` rules: what an incident about the gateway's own trouble looks like and
// who hears of it. They are not in any rule file; the pipeline asks SelfWatch.rule(id) for them.

/**
 * One step to `watch.notify`. Without `via` (or with `via: []`) the step is a policy tier: each
 * person's first channel for the severity, the next ones as failover (engage/step-resolver.ts).
 * store-failing has no step: nothing can be queued while the database fails; the fallback alarm
 * (watch/fallback-alarm.ts) is its engage, and the incident is only the record, written later.
 */
export function systemRule(problem: ProblemId, watch: Pick<WatchConfig, 'notify' | 'via'>): RuleInfo {
  const spec = PROBLEMS[problem];
  const steps =
    problem === 'store-failing' || watch.notify.length === 0
      ? []
      : [{ afterMs: 0, notify: [...watch.notify], via: [...(watch.via ?? [])] }];
  return {
    id: problemRuleId(problem),
    name: spec.name,
    severity: spec.severity,
    // No device context to attach (the gateway has no camera); the contact center must hear of it.
    route: { context: [], contactCenter: true },
    engage: { message: '{rule.name}: {reason}', steps },
  };
}

/** Every built-in rule by id. */
export function systemRules(watch: Pick<WatchConfig, 'notify' | 'via'>): ReadonlyMap<string, RuleInfo> {
  return new Map(PROBLEM_IDS.map((p) => [problemRuleId(p), systemRule(p, watch)]));
}

/** The problem behind a `gateway-*` rule id (an incident left by a previous run), if it is one. */
export function problemOfRule(ruleId: string): ProblemId | undefined {
  return PROBLEM_IDS.find((p) => problemRuleId(p) === ruleId);
}

export function openTransition(
  problem: ProblemId,
  at: number,
  reason: string,
  values: Readonly<Record<string, Scalar>> = {},
): Transition {
  return transition('open', problem, at, reason, values);
}

export function clearTransition(
  problem: ProblemId,
  at: number,
  reason: string,
  values: Readonly<Record<string, Scalar>> = {},
): Transition {
  return transition('clear', problem, at, reason, values);
}

function transition(
  type: 'open' | 'clear',
  problem: ProblemId,
  at: number,
  reason: string,
  values: Readonly<Record<string, Scalar>>,
): Transition {
  return {
    type,
    ruleId: problemRuleId(problem),
    deviceId: GATEWAY_DEVICE_ID,
    severity: PROBLEMS[problem].severity,
    at,
    triggerTs: at,
    reason,
    values,
  };
}

/**
 * People `watch.notify` reaches at `at` (on-call entries resolved then), for the fallback alarm:
 * everyone, quiet hours or not (the database failing is critical).
 */
export function notifyRecipients(site: Site, notify: readonly string[], at: number): Recipient[] {
  const { deliveries } = resolveStep(site, { afterMs: 0, notify, via: ['fallback'] }, 'critical', at);
  return deliveries.map((d) => personRecipient(d.person, site.language));
}

/**
 * What in `watch` does not fit the site and the channels, as warnings for the log at start: an
 * entry naming nobody, a channel that does not exist, a person who would hear nothing.
 */
export function checkWatch(
  watch: Pick<WatchConfig, 'enabled' | 'notify' | 'via' | 'fallback'>,
  site: Site,
  channels?: ReadonlySet<string>,
): string[] {
  if (!watch.enabled) return [];
  const warnings: string[] = [];
  if (watch.notify.length === 0)
    warnings.push(
      "watch.notify is empty: the gateway's own trouble reaches the console and the contact center only",
    );
  const people = new Map(site.people.map((p) => [p.id, p]));
  const reached = new Map<string, Person>();
  for (const entry of watch.notify) {
    const ids = entryPeople(entry, site);
    if (!ids) warnings.push(`watch.notify: "${entry}" names no person, team or on-call schedule of the site`);
    for (const id of ids ?? []) {
      const p = people.get(id);
      if (p) reached.set(id, p);
    }
  }
  for (const [key, names] of [
    ['via', watch.via],
    ['fallback', watch.fallback],
  ] as const) {
    for (const c of names ?? [])
      if (channels && !channels.has(c)) warnings.push(`watch.${key}: no channel named "${c}" is configured`);
  }
  if (!watch.via || watch.via.length === 0) {
    const severities = new Set<Severity>(
      PROBLEM_IDS.filter((p) => p !== 'store-failing').map((p) => PROBLEMS[p].severity),
    );
    for (const p of reached.values()) {
      const missing = [...severities].filter((s) => preferredChannels(p, s).length === 0);
      if (missing.length > 0)
        warnings.push(
          `watch.notify reaches ${p.id}, who has no channel for ${missing.join(', ')} alerts in the site ` +
            `file and watch.via is not set: they will not hear of the gateway's own trouble`,
        );
    }
  }
  for (const p of reached.values())
    if (!p.phone && !p.email)
      warnings.push(
        `${p.id} has no phone or e-mail: the alarm sent when the database fails cannot reach them`,
      );
  return warnings;
}

/** The person ids an entry stands for (on-call: every member), or undefined when it names nothing. */
function entryPeople(entry: string, site: Site): readonly string[] | undefined {
  const m = /^(person|team|oncall):(.*)$/.exec(entry);
  const [kind, id] = m ? [m[1], m[2]] : ['', entry];
  const person = site.people.find((p) => p.id === id);
  if ((kind === 'person' || kind === '') && person) return [id];
  const team = site.teams.find((t) => t.id === id);
  if ((kind === 'team' || kind === '') && team) return team.members;
  if ((kind === 'oncall' || kind === '') && Object.hasOwn(site.oncall, id)) {
    const s = site.oncall[id];
    return [...s.rotation.members, ...s.overrides.map((o) => o.person)];
  }
  return undefined;
}
