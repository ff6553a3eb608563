import { buildCondition, type Resolved } from './conditions.js';
import { hashValue } from './hash.js';
import type { DeviceInfo, FileProblem, RuleContext, Severity } from './model.js';
import { parseRuleFile } from './parse.js';
import type { RuleCondition } from './runtime.js';
import { compileSchedule, isTimeZone } from './schedule.js';
import type { ConditionSpec, Ref, RuleSpec } from './spec.js';

/** What a rule set is checked against: the site's names and the configured channels. */
export interface RuleEnv {
  context: RuleContext;
  kinds: ReadonlySet<string>;
  /** `team:security`, `person:sec-amina`. */
  targets: ReadonlySet<string>;
  /** `console`, `ops-webhook`. */
  channels: ReadonlySet<string>;
  /** Escalation policies of the site file. */
  policies?: ReadonlySet<string>;
  /** Message templates of the site file. */
  templates?: ReadonlySet<string>;
  /** Technician dispatch profiles of the site file. */
  dispatch?: ReadonlySet<string>;
}

export interface DeviceSelector {
  kind?: string;
  ids?: readonly string[];
  zones?: readonly string[];
  tags?: readonly string[];
  all?: boolean;
}

export interface CompiledStep {
  afterMs: number;
  /** Normalised `team:ID` | `person:ID`. */
  notify: string[];
  via: string[];
}

export interface CompiledRule {
  id: string;
  name: string;
  severity: Severity;
  description?: string;
  file: string;
  line: number;
  selector: DeviceSelector;
  forMs: number;
  clear: 'auto' | 'manual';
  route: { team?: string; context: string[]; crm?: boolean; dispatch?: string; contactCenter?: boolean };
  engage: {
    message: string;
    steps: CompiledStep[];
    repeat?: { everyMs: number; times: number };
    policy?: string;
    template?: string;
  };
  /** Changes whenever the rule's meaning changes (not when it only moves in its file). */
  hash: string;
  matches(device: DeviceInfo): boolean;
  /** Engine internals: the compiled condition. */
  readonly condition: RuleCondition;
}

export const CONTEXT_KEYS = ['location', 'camera', 'speaker'] as const;

export function compileRules(
  specs: RuleSpec[],
  env: RuleEnv,
): { rules: CompiledRule[]; problems: FileProblem[] } {
  const rules: CompiledRule[] = [];
  const problems: FileProblem[] = [];
  const seen = new Map<string, RuleSpec>();
  for (const spec of specs) {
    const at = (line: number, message: string) => problems.push({ file: spec.file, line, message });
    const first = seen.get(spec.id);
    if (first) {
      at(
        spec.line,
        `rule "${spec.id}" is already defined at ${first.file}:${first.line} (rule ids must be unique)`,
      );
      continue;
    }
    seen.set(spec.id, spec);
    const before = problems.length;
    const rule = compileOne(spec, env, at);
    if (rule && problems.length === before) rules.push(rule);
  }
  return { rules, problems };
}

/** Parses and compiles every file; any problem anywhere means the caller keeps its old rules. */
export function loadRuleSet(
  files: { file: string; text: string }[],
  env: RuleEnv,
): { rules: CompiledRule[]; problems: FileProblem[] } {
  const specs: RuleSpec[] = [];
  const problems: FileProblem[] = [];
  for (const f of files) {
    const parsed = parseRuleFile(f.file, f.text);
    specs.push(...parsed.specs);
    problems.push(...parsed.problems);
  }
  const compiled = compileRules(specs, env);
  problems.push(...compiled.problems);
  return { rules: problems.length === 0 ? compiled.rules : [], problems };
}

type At = (line: number, message: string) => void;

function compileOne(spec: RuleSpec, env: RuleEnv, at: At): CompiledRule | undefined {
  const sel = spec.selector;
  if (sel.kind && !env.kinds.has(sel.kind.value)) {
    at(
      sel.kind.line,
      `listen.devices.kind: "${sel.kind.value}" is not a device kind (known: ${[...env.kinds].join(', ')})`,
    );
  }
  const team = spec.route.team;
  if (team && !env.targets.has(`team:${team.value}`))
    at(team.line, `route.team: "${team.value}" is not a team of the site`);
  const dispatch = spec.route.dispatch;
  if (dispatch && !env.dispatch?.has(dispatch.value))
    at(
      dispatch.line,
      `route.dispatch: "${dispatch.value}" is not a dispatch profile of the site (known: ${[...(env.dispatch ?? [])].join(', ') || 'none'})`,
    );
  for (const c of spec.route.context ?? []) {
    if (!(CONTEXT_KEYS as readonly string[]).includes(c.value)) {
      at(c.line, `route.context: "${c.value}" is not a context (use ${CONTEXT_KEYS.join(', ')})`);
    }
  }
  const steps = spec.engage.steps.map((s, i) => ({
    afterMs: s.afterMs,
    notify: s.notify.map((n) => resolveTarget(n, env, `engage.steps[${i + 1}].notify`, at)),
    // `name?` marks a channel as optional: used where this gateway configures it, skipped where it
    // does not, so one rule file serves a bare demo and a site with webhooks. Without `?`, an
    // unknown name is a typo and the file is refused.
    via: (s.via ?? [{ value: 'console', line: s.line }]).flatMap((v) => {
      const optional = v.value.endsWith('?');
      const name = optional ? v.value.slice(0, -1) : v.value;
      if (env.channels.has(name)) return [name];
      if (!optional) {
        at(
          v.line,
          `engage.steps[${i + 1}].via: "${v.value}" is not a configured channel (known: ${[...env.channels].join(', ')}; write "${v.value}?" if it is optional)`,
        );
      }
      return [];
    }),
  }));
  const { policy, template } = spec.engage;
  if (policy && !env.policies?.has(policy.value))
    at(
      policy.line,
      `engage.policy: "${policy.value}" is not a policy of the site (known: ${[...(env.policies ?? [])].join(', ') || 'none'})`,
    );
  if (template && !env.templates?.has(template.value))
    at(
      template.line,
      `engage.template: "${template.value}" is not a template of the site (known: ${[...(env.templates ?? [])].join(', ') || 'none'})`,
    );
  const built = buildCondition(spec.when, resolver(env, at));
  const slots = built.slots;
  const selector: DeviceSelector = sel.all
    ? { all: true }
    : {
        ...(sel.kind ? { kind: sel.kind.value } : {}),
        ...(sel.ids ? { ids: sel.ids } : {}),
        ...(sel.zones ? { zones: sel.zones } : {}),
        ...(sel.tags ? { tags: sel.tags } : {}),
      };
  const { file, line, id, name, severity, description, forMs, clear } = spec;
  return {
    id,
    name,
    severity,
    ...(description !== undefined ? { description } : {}),
    file,
    line,
    selector,
    forMs,
    clear,
    route: {
      ...(team ? { team: team.value } : {}),
      context: spec.route.context ? spec.route.context.map((c) => c.value) : [...CONTEXT_KEYS],
      // A technician cannot be sent without knowing to whom: dispatch implies the CRM lookup.
      ...(spec.route.crm || dispatch ? { crm: true } : {}),
      ...(dispatch ? { dispatch: dispatch.value } : {}),
      ...(spec.route.contactCenter === false ? { contactCenter: false } : {}),
    },
    engage: {
      message: spec.engage.message,
      steps,
      ...(spec.engage.repeat ? { repeat: spec.engage.repeat } : {}),
      ...(policy ? { policy: policy.value } : {}),
      ...(template ? { template: template.value } : {}),
    },
    hash: hashValue(spec),
    matches: matcher(selector),
    condition: {
      root: built.root,
      timeDriven: built.timeDriven,
      whenHash: hashValue(spec.when),
      initSub: () => slots.map((s) => (s === 'latch' ? 0 : [])),
    },
  };
}

function resolveTarget(n: Ref, env: RuleEnv, path: string, at: At): string {
  const v = n.value;
  if (v.startsWith('team:') || v.startsWith('person:')) {
    if (!env.targets.has(v))
      at(n.line, `${path}: "${v}" is not a ${v.startsWith('team:') ? 'team' : 'person'} of the site`);
    return v;
  }
  // README "Rules": a bare id names a person first, then a team.
  if (env.targets.has(`person:${v}`)) return `person:${v}`;
  if (env.targets.has(`team:${v}`)) return `team:${v}`;
  at(n.line, `${path}: "${v}" is not a person or a team of the site`);
  return v;
}

function resolver(env: RuleEnv, at: At): Resolved {
  const ctx = env.context;
  return {
    schedule(line, name, c) {
      const spec = name !== undefined ? ctx.schedules[name] : c.spec;
      if (!spec) {
        const known = Object.keys(ctx.schedules);
        at(line, `schedule: "${name}" is not a schedule of the site (known: ${known.join(', ') || 'none'})`);
        return () => false;
      }
      const tz = spec.timezone ?? ctx.timezone;
      if (!isTimeZone(tz)) {
        at(line, `schedule: "${tz}" is not a time zone (use an IANA name such as Europe/Paris)`);
        return () => false;
      }
      return compileSchedule(spec, ctx.timezone);
    },
    badges(c) {
      if (c.allowIds) return new Set(c.allowIds);
      const list = c.allowList !== undefined ? ctx.badgeLists[c.allowList] : undefined;
      if (!list) {
        const known = Object.keys(ctx.badgeLists);
        at(
          c.line,
          `badge.allow: "${c.allowList}" is not a badge list of the site (known: ${known.join(', ') || 'none'})`,
        );
        return new Set();
      }
      return new Set(list);
    },
  };
}

function matcher(sel: DeviceSelector): (device: DeviceInfo) => boolean {
  if (sel.all) return () => true;
  const ids = sel.ids && new Set(sel.ids);
  const zones = sel.zones && new Set(sel.zones);
  const tags = sel.tags;
  return (d) =>
    (sel.kind === undefined || d.kind === sel.kind) &&
    (!ids || ids.has(d.id)) &&
    (!zones || (d.zone !== undefined && zones.has(d.zone))) &&
    (!tags || tags.every((t) => d.tags?.includes(t) ?? false));
}

export type { ConditionSpec, RuleSpec };
