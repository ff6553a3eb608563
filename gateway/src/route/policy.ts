import type { Severity } from '../../../rules/src/model.js';
import type { Person, Policy, Site } from '../site/model.js';
import { inQuietHours, onCallAt } from './oncall.js';
import type { EngageStep } from './rule-info.js';

/*
 * Escalation policies, on-call schedules and people's preferences, as written in the site file:
 *
 *   language: en                 # default language of messages: en | fr (default en)
 *   people:
 *     - id: amina
 *       name: Amina Diallo
 *       phone: "+33612345678"
 *       language: fr             # en | fr
 *       channels:                # gateway channel names in failover order, per severity
 *         critical: [voice, sms]
 *         warning: [sms, email]
 *         default: [email]       # severities not listed; [] somewhere = "not for this severity"
 *       quietHours: { from: "22:00", to: "07:00", timezone: Europe/Paris }  # zone default: the site's
 *   oncall:
 *     security-night:
 *       timezone: Europe/Paris   # default: the site's
 *       rotation:
 *         members: [amina, claire, bob]
 *         every: 1w              # 1d, 12h, 1w, 2w... counted in wall-clock time of the zone
 *         start: "2026-11-02T08:00"   # local: members[0] is on call from then; nobody before
 *       overrides:               # win over the rotation while active; the last listed wins
 *         - { person: luc, from: "2026-11-24T20:00", to: "2026-11-25T08:00" }   # local times
 *   policies:
 *     door-security:
 *       tiers:
 *         - notify: [oncall:security-night, team:security]  # person:ID, team:ID, oncall:ID; a bare
 *                                                           # id is a person, else a team, else an oncall
 *           via: [voice, sms]    # optional: these channels for everyone in the tier
 *           mode: parallel       # parallel (default) | sequential: one person after the other
 *           every: 2m            # sequential only: delay between two people
 *           wait: 5m             # before the next tier if nobody acknowledged (required but on the last)
 *         - notify: [person:supervisor]
 *           wait: 10m
 *       repeat: 2                # run the whole policy again this many times (default 0)
 *       repeatAfter: 10m         # pause before a repeat (default: the last tier's wait)
 *
 * Without `channels`, a person can only be reached by a step that names its channels (`via`).
 * Quiet hours hold back everything but critical alerts, except for the person on call reached through
 * an `oncall:` entry: being on call is agreeing to be woken.
 */

export interface PolicyPlan {
  steps: EngageStep[];
  /** Run all the steps again `times` more times, `everyMs` after the last one, while unacknowledged. */
  repeat?: { times: number; everyMs: number; fromStep: 0 };
}

/**
 * The escalation steps of a policy: a parallel tier is one step; a sequential tier is one step per
 * person (teams expanded in order, each person once) or on-call entry, `every` apart. Each step's
 * `afterMs` counts from the previous step; a tier's `wait` counts from its last step. On-call entries
 * stay symbolic: who is on call is decided when the step runs.
 */
export function policyPlan(policy: Policy, site: Pick<Site, 'teams'>): PolicyPlan {
  const teams = new Map(site.teams.map((t) => [t.id, t.members]));
  const steps: EngageStep[] = [];
  let afterMs = 0;
  for (const tier of policy.tiers) {
    if (tier.mode === 'parallel') steps.push({ afterMs, notify: tier.notify, via: tier.via });
    else {
      const one = new Set<string>();
      for (const entry of tier.notify) {
        const members = entry.startsWith('team:') ? (teams.get(entry.slice(5)) ?? []) : undefined;
        for (const e of members ? members.map((m) => `person:${m}`) : [entry]) {
          if (one.has(e)) continue;
          one.add(e);
          steps.push({ afterMs: one.size === 1 ? afterMs : (tier.everyMs ?? 0), notify: [e], via: tier.via });
        }
      }
    }
    afterMs = tier.waitMs ?? 0;
  }
  const plan: PolicyPlan = { steps };
  if (policy.repeat)
    plan.repeat = { times: policy.repeat.times, everyMs: policy.repeat.afterMs, fromStep: 0 };
  return plan;
}

export interface PersonDelivery {
  person: Person;
  /** In failover order. */
  channels: readonly string[];
}

export interface Skipped {
  /** Person id, or the `notify` entry when it names nobody. */
  person: string;
  reason: string;
}

/**
 * Who one step reaches at `at`, and on which channels: `step.via` when it names some, else each
 * person's channels for the severity. Each person once. Entries: `person:ID`, `team:ID`, `oncall:ID`
 * or a bare id (a person, else a team, else an on-call schedule).
 */
export function resolveStep(
  site: Site,
  step: EngageStep,
  severity: Severity,
  at: number,
): { deliveries: PersonDelivery[]; skipped: Skipped[] } {
  const people = new Map(site.people.map((p) => [p.id, p]));
  const teams = new Map(site.teams.map((t) => [t.id, t.members]));
  // Person id -> reached as the one on call (quiet hours do not apply then).
  const reached = new Map<string, boolean>();
  const skipped: Skipped[] = [];
  const reach = (id: string, onDuty: boolean) => reached.set(id, (reached.get(id) ?? false) || onDuty);
  for (const raw of step.notify) {
    const [kind, id] = splitEntry(raw, site);
    if (kind === 'person' && people.has(id)) reach(id, false);
    else if (kind === 'team' && teams.has(id)) teams.get(id)!.forEach((m) => reach(m, false));
    else if (kind === 'oncall' && Object.hasOwn(site.oncall, id)) {
      const who = onCallAt(site.oncall[id], at);
      if (who) reach(who, true);
      else skipped.push({ person: raw, reason: 'nobody on call' });
    } else skipped.push({ person: raw, reason: 'no person, team or on-call schedule by this name' });
  }
  const deliveries: PersonDelivery[] = [];
  for (const [id, onDuty] of reached) {
    const person = people.get(id);
    if (!person) {
      skipped.push({ person: id, reason: 'not one of the people' });
      continue;
    }
    const channels = step.via.length > 0 ? step.via : preferredChannels(person, severity);
    if (channels.length === 0) skipped.push({ person: id, reason: 'no channel for this severity' });
    else if (
      severity !== 'critical' &&
      !onDuty &&
      person.quietHours &&
      inQuietHours(person.quietHours, site.timezone, at)
    )
      skipped.push({ person: id, reason: 'quiet hours' });
    else deliveries.push({ person, channels });
  }
  return { deliveries, skipped };
}

/** The person's channels for a severity, in failover order (empty when none). */
export function preferredChannels(person: Person, severity: Severity): readonly string[] {
  return person.channels?.[severity] ?? person.channels?.default ?? [];
}

/** The person's next preferred channel for the severity that was not tried yet. */
export function failoverChannel(
  person: Person,
  severity: Severity,
  tried: readonly string[],
): string | undefined {
  return preferredChannels(person, severity).find((c) => !tried.includes(c));
}

function splitEntry(raw: string, site: Site): ['person' | 'team' | 'oncall' | '', string] {
  const m = /^(person|team|oncall):(.*)$/.exec(raw);
  if (m) return [m[1] as 'person' | 'team' | 'oncall', m[2]];
  if (site.people.some((p) => p.id === raw)) return ['person', raw];
  if (site.teams.some((t) => t.id === raw)) return ['team', raw];
  if (Object.hasOwn(site.oncall, raw)) return ['oncall', raw];
  return ['', raw];
}
