import type { Site } from '../site/model.js';
import { policyPlan } from './policy.js';
import type { RuleInfo } from './rule-info.js';

interface WithPolicy extends RuleInfo {
  engage: RuleInfo['engage'] & { policy?: string };
}

const cache = new WeakMap<object, RuleInfo>();

/**
 * The engage plan an incident of this rule follows: the rule's own steps, or the site policy it
 * names turned into steps (route/policy.ts). Cached per compiled rule object: a reload makes new ones.
 */
export function planRule(rule: WithPolicy | undefined, site: Site): RuleInfo | undefined {
  if (!rule) return undefined;
  const name = rule.engage.policy;
  if (!name) return rule;
  const hit = cache.get(rule);
  if (hit) return hit;
  const policy = Object.hasOwn(site.policies, name) ? site.policies[name] : undefined;
  // The rule compiler checked the name against this site; a miss means the site changed under us.
  const plan = policy ? policyPlan(policy, site) : { steps: [] };
  const info: RuleInfo = {
    ...rule,
    engage: {
      message: rule.engage.message,
      steps: plan.steps,
      ...(plan.repeat ? { repeat: plan.repeat } : {}),
      ...(rule.engage.template ? { template: rule.engage.template } : {}),
      policy: name,
    },
  };
  cache.set(rule, info);
  return info;
}
