import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { SEVERITIES, type FileProblem, type Severity } from './model.js';
import { parseCondition } from './parse-condition.js';
import type { Ref, RuleSpec, SelectorSpec, StepSpec } from './spec.js';
import { describe, YamlReader, type Entry } from './yaml-reader.js';

// Rule files -> RuleSpec: shape and types only. References to the site (teams, badge lists,
// channels...) are checked by the compiler, which knows the site.

const ID = /^[a-z0-9][a-z0-9-]*$/;
const TOP = ['rule', 'name', 'severity', 'description', 'listen', 'route', 'engage'] as const;

export function parseRuleFile(file: string, text: string): { specs: RuleSpec[]; problems: FileProblem[] } {
  const lc = new LineCounter();
  const r = new YamlReader(file, lc);
  const specs: RuleSpec[] = [];
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: false });
  if (!Array.isArray(docs)) return { specs, problems: r.problems };
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const line = err.linePos?.[0]?.line ?? lc.linePos(err.pos[0]).line;
        r.problem(
          line,
          `YAML syntax: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
        );
      }
      continue;
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    const spec = parseRule(r, doc.contents);
    if (spec) specs.push(spec);
  }
  return { specs, problems: r.problems };
}

const INCIDENT_ONLY: RuleSpec['engage'] = { message: '{rule.name}: {device.name} ({reason})', steps: [] };

function parseRule(r: YamlReader, node: unknown): RuleSpec | undefined {
  const at = r.line(node);
  if (!isMap(node))
    return void r.problem(at, `a rule must be a map with rule, name, severity, listen (route, engage)`);
  const before = r.problems.length;
  const m = r.map(node, '', TOP, at);
  if (!m) return undefined;
  // `engage` may be left out: the rule then records and publishes incidents (console board, MQTT,
  // integrations) and notifies nobody. When present, it must name who is notified.
  for (const k of ['rule', 'name', 'severity', 'listen']) {
    if (!m.has(k)) r.problem(at, `${k}: missing`);
  }
  const idE = m.get('rule');
  const id = idE && r.str(idE, 'rule', ID, 'is not a rule id (lower-case letters, digits and -)');
  const name = m.has('name') ? r.str(m.get('name')!, 'name') : undefined;
  const severity = m.has('severity') ? parseSeverity(r, m.get('severity')!) : undefined;
  const description = m.has('description') ? r.str(m.get('description')!, 'description') : undefined;
  const listen = m.has('listen') ? parseListen(r, m.get('listen')!) : undefined;
  const route = m.has('route') ? parseRoute(r, m.get('route')!) : {};
  const engage = m.has('engage') ? parseEngage(r, m.get('engage')!) : INCIDENT_ONLY;
  if (r.problems.length > before || !id || !name || !severity || !listen || !route || !engage)
    return undefined;
  return {
    file: r.file,
    line: idE!.keyLine,
    id,
    name,
    severity,
    ...(description !== undefined ? { description } : {}),
    ...listen,
    route,
    engage,
  };
}

function parseSeverity(r: YamlReader, e: Entry): Severity | undefined {
  const v = r.scalar(e.value);
  if (typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v)) return v as Severity;
  r.problem(
    r.line(e.value, e.keyLine),
    `severity: ${describe(e.value)} is not a severity (use ${SEVERITIES.join(', ')})`,
  );
  return undefined;
}

function parseListen(
  r: YamlReader,
  e: Entry,
): Pick<RuleSpec, 'selector' | 'when' | 'forMs' | 'clear'> | undefined {
  const m = r.map(e.value, 'listen', ['devices', 'when', 'for', 'clear'], e.keyLine);
  if (!m) return undefined;
  const d = m.get('devices');
  const w = m.get('when');
  if (!d) r.problem(e.keyLine, 'listen.devices: missing (which devices: kind, ids, zones, tags, or all)');
  if (!w) r.problem(e.keyLine, 'listen.when: missing (the condition)');
  const selector = d && parseSelector(r, d);
  const when = w && parseCondition(r, w.value, 'listen.when', w.keyLine);
  const f = m.get('for');
  const forMs = f ? r.duration(f, 'listen.for', { allowZero: true }) : 0;
  let clear: 'auto' | 'manual' | undefined = 'auto';
  const c = m.get('clear');
  if (c) {
    const v = r.scalar(c.value);
    clear = v === 'auto' || v === 'manual' ? v : undefined;
    if (!clear)
      r.problem(r.line(c.value, c.keyLine), `listen.clear: ${describe(c.value)} is not auto or manual`);
  }
  if (!selector || !when || forMs === undefined || !clear) return undefined;
  return { selector, when, forMs, clear };
}

function parseSelector(r: YamlReader, e: Entry): SelectorSpec | undefined {
  const line = r.line(e.value, e.keyLine);
  if (isScalar(e.value)) {
    if (e.value.value === 'all') return { line, all: true };
    return void r.problem(
      line,
      `listen.devices: ${describe(e.value)}: use all, or a map with kind, ids, zones, tags`,
    );
  }
  const m = r.map(e.value, 'listen.devices', ['kind', 'ids', 'zones', 'tags'], e.keyLine);
  if (!m) return undefined;
  if (m.size === 0)
    return void r.problem(line, 'listen.devices: give at least one of kind, ids, zones, tags');
  const out: SelectorSpec = { line };
  const k = m.get('kind');
  if (k) {
    const kind = r.str(k, 'listen.devices.kind');
    if (kind === undefined) return undefined;
    out.kind = { value: kind, line: r.line(k.value, k.keyLine) };
  }
  for (const key of ['ids', 'zones', 'tags'] as const) {
    const le = m.get(key);
    if (!le) continue;
    const list = r.strList(le, `listen.devices.${key}`, true);
    if (!list) return undefined;
    out[key] = list.map((x) => x.value);
  }
  return out;
}

function parseRoute(r: YamlReader, e: Entry): RuleSpec['route'] | undefined {
  const m = r.map(e.value, 'route', ['team', 'context', 'crm', 'dispatch', 'contactCenter'], e.keyLine);
  if (!m) return undefined;
  const out: RuleSpec['route'] & { team?: Ref; context?: Ref[] } = {};
  for (const key of ['crm', 'contactCenter'] as const) {
    const b = m.get(key);
    if (!b) continue;
    const v = r.bool(b, `route.${key}`);
    if (v === undefined) return undefined;
    out[key] = v;
  }
  const d = m.get('dispatch');
  if (d) {
    const profile = r.str(d, 'route.dispatch');
    if (profile === undefined) return undefined;
    out.dispatch = { value: profile, line: r.line(d.value, d.keyLine) };
  }
  const t = m.get('team');
  if (t) {
    const team = r.str(t, 'route.team');
    if (team === undefined) return undefined;
    out.team = { value: team, line: r.line(t.value, t.keyLine) };
  }
  const c = m.get('context');
  if (c) {
    const list = r.strList(c, 'route.context');
    if (!list) return undefined;
    out.context = list;
  }
  return out;
}

function parseEngage(r: YamlReader, e: Entry): RuleSpec['engage'] | undefined {
  const m = r.map(e.value, 'engage', ['message', 'steps', 'repeat', 'policy', 'template'], e.keyLine);
  if (!m) return undefined;
  const pe = m.get('policy');
  const policy = pe && r.str(pe, 'engage.policy');
  const te = m.get('template');
  const template = te && r.str(te, 'engage.template');
  const me = m.get('message');
  // With a policy or a template the message is optional: it only titles the incident.
  if (!me && !pe && !te) r.problem(e.keyLine, 'engage.message: missing (the text people receive)');
  const message = me ? r.str(me, 'engage.message') : INCIDENT_ONLY.message;
  const se = m.get('steps');
  if (se && pe) return void r.problem(se.keyLine, 'engage: give steps or a policy, not both');
  if (!se && !pe) r.problem(e.keyLine, 'engage.steps: missing (who is notified), or name a policy');
  const steps = se ? parseSteps(r, se) : [];
  let repeat: { everyMs: number; times: number } | undefined;
  const re = m.get('repeat');
  if (re && pe) return void r.problem(re.keyLine, 'engage.repeat: a policy says how it repeats');
  if (re) {
    const rm = r.map(re.value, 'engage.repeat', ['every', 'times'], re.keyLine);
    if (!rm) return undefined;
    const ev = rm.get('every');
    const ti = rm.get('times');
    if (!ev || !ti) return void r.problem(re.keyLine, 'engage.repeat: give every and times');
    const everyMs = r.duration(ev, 'engage.repeat.every');
    const times = r.num(ti, 'engage.repeat.times', { min: 1, integer: true });
    if (everyMs === undefined || times === undefined) return undefined;
    repeat = { everyMs, times };
  }
  if (!message || !steps || (pe && !policy) || (te && !template)) return undefined;
  const out: RuleSpec['engage'] = { message, steps };
  if (repeat) out.repeat = repeat;
  if (pe && policy) out.policy = { value: policy, line: r.line(pe.value, pe.keyLine) };
  if (te && template) out.template = { value: template, line: r.line(te.value, te.keyLine) };
  return out;
}

function parseSteps(r: YamlReader, e: Entry): StepSpec[] | undefined {
  const items = isSeq(e.value) ? e.value.items : [];
  if (items.length === 0) {
    return void r.problem(r.line(e.value, e.keyLine), `engage.steps: expected a non-empty list of steps`);
  }
  const steps: StepSpec[] = [];
  items.forEach((item, i) => {
    const p = `engage.steps[${i + 1}]`;
    const line = r.line(item, e.keyLine);
    const m = r.map(item, p, ['after', 'notify', 'via'], line);
    if (!m) return;
    const a = m.get('after');
    if (a && i === 0)
      return void r.problem(a.keyLine, `${p}.after: the first step runs at once; remove after`);
    if (!a && i > 0)
      return void r.problem(line, `${p}.after: missing (delay after the previous step, e.g. 5m)`);
    const afterMs = a ? r.duration(a, `${p}.after`) : 0;
    const n = m.get('notify');
    if (!n) return void r.problem(line, `${p}.notify: missing (team:ID, person:ID or ID)`);
    const notify = r.strList(n, `${p}.notify`, true);
    const v = m.get('via');
    const via = v ? r.strList(v, `${p}.via`, true) : undefined;
    if (afterMs === undefined || !notify || (v && !via)) return;
    steps.push(via ? { line, afterMs, notify, via } : { line, afterMs, notify });
  });
  return steps.length === items.length ? steps : undefined;
}
