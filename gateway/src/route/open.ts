import type { Transition } from '../../../rules/src/model.js';
import { renderTemplate } from '../../../rules/src/template.js';
import type { Device } from '../site/model.js';
import type { Incident } from './model.js';
import type { EngagePlan, RuleInfo } from './rule-info.js';

// How a new incident is built from the engine's `open` decision, its rule and its device.

const CONTEXT_KEYS = ['location', 'camera', 'speaker'] as const;

/** Used when the rule vanished (reloaded away) between the engine's decision and the commit. */
export function fallbackRule(t: Transition): RuleInfo {
  return { id: t.ruleId, name: t.ruleId, severity: t.severity, engage: { message: '{reason}', steps: [] } };
}

export function buildIncident(
  id: string,
  siteId: string,
  t: Transition,
  rule: RuleInfo,
  device: Device | undefined,
  now: number,
): Incident {
  const context: Record<string, unknown> = {};
  // README "Rules": the rule lists what to attach; everything the device has when it does not say.
  const wanted: readonly string[] = rule.route?.context ?? CONTEXT_KEYS;
  for (const key of CONTEXT_KEYS) {
    if (wanted.includes(key) && device?.[key] !== undefined) context[key] = device[key];
  }
  if (rule.route?.team) context.team = rule.route.team;
  // The composer renders every message of this incident with the rule's template.
  if (rule.engage.template) context.template = rule.engage.template;
  // "Open for 45 s" counts from when the door opened, not from the end of the rule's `for` window.
  if (t.since !== undefined) context.since = t.since;
  const incident: Incident = {
    id,
    site: device?.site ?? siteId,
    ruleId: t.ruleId,
    ruleName: rule.name,
    deviceId: t.deviceId,
    deviceName: device?.name ?? t.deviceId,
    zone: device?.zone ?? '',
    severity: t.severity,
    state: 'open',
    reason: t.reason,
    message: '',
    triggerTs: t.triggerTs,
    openedAt: t.at,
    escalationStep: 0,
    values: t.values,
    context,
    updatedAt: now,
  };
  incident.message = renderMessage(rule.engage, incident, rule, device);
  return incident;
}

export function renderMessage(
  plan: EngagePlan,
  i: Incident,
  rule: RuleInfo,
  device: Device | undefined,
): string {
  const vars = {
    incident: { id: i.id, severity: i.severity, state: i.state, zone: i.zone },
    device: {
      id: i.deviceId,
      name: i.deviceName,
      zone: i.zone,
      kind: device?.kind,
      serial: device?.serial,
      location: device?.location,
    },
    rule: { id: rule.id, name: rule.name, severity: rule.severity },
    severity: i.severity,
    reason: i.reason,
    values: i.values,
    location: device?.location,
    camera: device?.camera,
    speaker: device?.speaker,
  };
  return renderTemplate(plan.message || '{rule.name}: {reason}', vars);
}

/**
 * Where the escalation goes after `step` has run at `now`: the next step `afterMs` later, else the
 * last step again per `repeat`, else nowhere (undefined).
 */
export function nextEscalation(
  plan: EngagePlan,
  step: number,
  repeatsLeft: number,
  now: number,
): { nextStep: number; dueAt: number; repeatsLeft: number } | undefined {
  const next = plan.steps[step + 1];
  if (next) return { nextStep: step + 1, dueAt: now + Math.max(0, next.afterMs), repeatsLeft };
  if (plan.repeat && repeatsLeft > 0 && plan.steps.length > 0) {
    const from = Math.min(plan.repeat.fromStep ?? plan.steps.length - 1, plan.steps.length - 1);
    return {
      nextStep: from,
      dueAt: now + Math.max(1, plan.repeat.everyMs),
      repeatsLeft: repeatsLeft - 1,
    };
  }
  return undefined;
}
