'use strict';
// Flow JSON -> rule documents. A chain listen -> condition -> (route) -> (engage) -> (incident) is
// the declaration of one rule with exactly the keys of a YAML rule (README "Rules: the YAML
// format"); the gateway parses and compiles it like a rule file. Pure: no Node-RED import, so
// tests and the editor's "check" endpoint run it on plain flow JSON.

const c = require('../resources/vigie-common.js');

const T = {
  gateway: 'vigie-gateway',
  listen: 'vigie-listen',
  condition: 'vigie-condition',
  route: 'vigie-route',
  engage: 'vigie-engage',
  incident: 'vigie-incident',
};
const VIGIE = new Set(Object.values(T));
// Which Vigie node may follow which on a declaration wire (a rule reads left to right).
const NEXT = {
  [T.condition]: [T.route, T.engage, T.incident],
  [T.route]: [T.engage, T.incident],
  [T.engage]: [T.incident],
};
const LABEL = {
  [T.listen]: 'vigie listen',
  [T.condition]: 'vigie condition',
  [T.route]: 'vigie route',
  [T.engage]: 'vigie engage',
  [T.incident]: 'vigie incident',
};

function isVigie(type) {
  return VIGIE.has(type);
}

/** Node configs that are deployed and running: not disabled, not on a disabled tab. */
function liveNodes(nodes) {
  const disabledTabs = new Set(nodes.filter((n) => n && n.type === 'tab' && n.disabled).map((n) => n.id));
  const tabs = new Map(nodes.filter((n) => n && n.type === 'tab').map((n) => [n.id, n]));
  const live = nodes.filter((n) => n && n.id && n.type !== 'tab' && !n.d && !disabledTabs.has(n.z));
  return { live, tabs };
}

function targets(n) {
  const out = [];
  for (const port of Array.isArray(n.wires) ? n.wires : []) {
    for (const id of Array.isArray(port) ? port : []) if (!out.includes(id)) out.push(id);
  }
  return out;
}

function name(n) {
  const label = c.text(n.name);
  return label ? `"${label}"` : n.id;
}

function problemsCollector() {
  const seen = new Set();
  const list = [];
  return {
    list,
    add(nodeId, message) {
      const key = `${nodeId}\u0000${message}`;
      if (seen.has(key)) return;
      seen.add(key);
      list.push({ nodeId, message });
    },
  };
}

function assemble(nodes) {
  const { live, tabs } = liveNodes(Array.isArray(nodes) ? nodes : []);
  const byId = new Map(live.map((n) => [n.id, n]));
  const problems = problemsCollector();
  const upstream = new Map();
  for (const n of live) {
    for (const id of targets(n)) {
      if (!byId.has(id)) continue;
      if (!upstream.has(id)) upstream.set(id, []);
      upstream.get(id).push(n);
    }
  }

  checkWires(live, byId, problems);

  const rules = [];
  const incidents = {};
  const reached = new Set();
  for (const cond of live.filter((n) => n.type === T.condition)) {
    const chain = walk(cond, byId, problems);
    for (const n of chain.all) reached.add(n.id);
    const listens = (upstream.get(cond.id) || []).filter((n) => n.type === T.listen);
    const others = (upstream.get(cond.id) || []).filter((n) => n.type !== T.listen);
    for (const o of others) {
      problems.add(
        cond.id,
        `${typeLabel(o)} ${name(o)} is wired into this condition: only a vigie listen may feed a condition`,
      );
    }
    if (listens.length === 0) {
      problems.add(cond.id, 'no vigie listen is wired into this condition (which devices does it watch?)');
    } else if (listens.length > 1) {
      problems.add(
        cond.id,
        `${listens.length} vigie listen nodes are wired into this condition: use one (a listen node may feed several conditions)`,
      );
    }
    for (const inc of chain.incidents) (incidents[inc.id] = incidents[inc.id] || []).push(cond.id);
    const listen = listens.length === 1 ? listens[0] : undefined;
    const built = buildDoc(cond, listen, chain.route, chain.engage, problems);
    if (!built) continue;
    const entry = { doc: built, nodes: { condition: cond.id } };
    if (listen) entry.nodes.listen = listen.id;
    if (chain.route) entry.nodes.route = chain.route.id;
    if (chain.engage) entry.nodes.engage = chain.engage.id;
    const tab = tabs.get(cond.z);
    if (cond.z)
      entry.flow = tab && c.text(tab.label) ? { id: cond.z, label: c.text(tab.label) } : { id: cond.z };
    rules.push({ gateway: listen ? c.text(listen.gateway) : '', rule: entry });
  }

  for (const n of live) {
    if ((n.type === T.route || n.type === T.engage) && !reached.has(n.id)) {
      problems.add(n.id, `not wired after a vigie condition: this ${LABEL[n.type]} declares nothing`);
    }
    if (n.type === T.incident && (c.text(n.scope) || 'chain') === 'chain' && !reached.has(n.id)) {
      problems.add(
        n.id,
        'scope "chain" but no vigie condition is wired to this node: wire one, or use scope all or rules',
      );
    }
    if (n.type === T.incident && c.text(n.scope) === 'rules' && c.list(n.rules).length === 0) {
      problems.add(n.id, 'scope "rules": list at least one rule id');
    }
  }

  duplicateIds(rules, problems);

  // Rules of a chain-scoped incident node, by rule id (the registry filters transitions with them).
  const incidentRules = {};
  const ruleOf = new Map(rules.map((r) => [r.rule.nodes.condition, r.rule.doc.rule]));
  for (const [id, conds] of Object.entries(incidents)) {
    incidentRules[id] = conds.map((cid) => ruleOf.get(cid)).filter((r) => r !== undefined);
  }
  return { rules, problems: problems.list, incidentRules, listenOutputs: listenOutputs(live, byId) };
}

function typeLabel(n) {
  return LABEL[n.type] || `a ${n.type} node`;
}

/** Declaration wires only join Vigie nodes in chain order; a wire elsewhere carries no message. */
function checkWires(live, byId, problems) {
  for (const n of live) {
    const allowed = NEXT[n.type];
    if (!allowed) continue;
    for (const id of targets(n)) {
      const t = byId.get(id);
      if (!t) continue;
      if (!isVigie(t.type)) {
        problems.add(
          n.id,
          `wired to ${typeLabel(t)} ${name(t)}: a ${LABEL[n.type]} output only declares the rule and sends no messages (use a vigie incident node for messages)`,
        );
      } else if (!allowed.includes(t.type)) {
        problems.add(
          n.id,
          `wired to ${typeLabel(t)} ${name(t)}: a ${LABEL[n.type]} may only be followed by ${allowed.map((x) => LABEL[x]).join(', ')}`,
        );
      }
    }
  }
}

/** Follows declaration wires from a condition: at most one route and one engage per rule. */
function walk(cond, byId, problems) {
  const routes = new Set();
  const engages = new Set();
  const incidentNodes = new Set();
  const all = new Set();
  const stack = [cond];
  const visited = new Set([cond.id]);
  while (stack.length > 0) {
    const n = stack.pop();
    for (const id of targets(n)) {
      const t = byId.get(id);
      if (!t || visited.has(id) || !(NEXT[n.type] || []).includes(t.type)) continue;
      visited.add(id);
      all.add(t);
      if (t.type === T.route) routes.add(t);
      if (t.type === T.engage) engages.add(t);
      if (t.type === T.incident) incidentNodes.add(t);
      if (NEXT[t.type]) stack.push(t);
    }
  }
  for (const [set, label] of [
    [routes, 'vigie route'],
    [engages, 'vigie engage'],
  ]) {
    if (set.size > 1) {
      problems.add(
        cond.id,
        `this rule reaches ${set.size} ${label} nodes (${[...set].map(name).join(', ')}): a rule takes one`,
      );
    }
  }
  return {
    route: routes.size === 1 ? [...routes][0] : undefined,
    engage: engages.size === 1 ? [...engages][0] : undefined,
    incidents: [...incidentNodes],
    all: [...all],
  };
}

function duplicateIds(rules, problems) {
  const seen = new Map();
  for (const r of rules) {
    const key = `${r.gateway}\u0000${r.rule.doc.rule}`;
    const first = seen.get(key);
    if (first) {
      const id = r.rule.doc.rule;
      problems.add(
        r.rule.nodes.condition,
        `rule id "${id}" is also declared by condition ${first.nodes.condition}`,
      );
      problems.add(
        first.nodes.condition,
        `rule id "${id}" is also declared by condition ${r.rule.nodes.condition}`,
      );
    } else seen.set(key, r.rule);
  }
}

/** Listen nodes whose output reaches a non-Vigie node: only they tap the sensor stream. */
function listenOutputs(live, byId) {
  const out = {};
  for (const n of live.filter((x) => x.type === T.listen)) {
    out[n.id] = targets(n).some((id) => byId.has(id) && !isVigie(byId.get(id).type));
  }
  return out;
}

// ---- one rule document ----

function buildDoc(cond, listen, route, engage, problems) {
  const before = problems.list.length;
  const p = (msg) => problems.add(cond.id, msg);
  const doc = {};
  const id = c.text(cond.rule);
  if (!id) p('rule id missing (lower-case letters, digits and -, e.g. door-held-open)');
  else if (!c.RULE_ID.test(id)) p(`rule id "${id}" is not a rule id (lower-case letters, digits and -)`);
  doc.rule = id;
  doc.name = c.text(cond.name);
  if (!doc.name) p('name missing: the rule name people see');
  doc.severity = c.text(cond.severity) || 'major';
  if (!c.SEVERITIES.includes(doc.severity))
    p(`severity "${doc.severity}" is not a severity (use ${c.SEVERITIES.join(', ')})`);
  const description = c.text(cond.description);
  if (description) doc.description = description;

  const listenDoc = {};
  if (listen) {
    const devices = selector(listen, problems);
    if (devices !== undefined) listenDoc.devices = devices;
  }
  const when = condition(cond, p);
  if (when !== undefined) listenDoc.when = when;
  const forText = c.text(cond.for);
  if (forText) {
    if (!c.isDuration(forText)) p(`for: "${forText}" is not a duration (use 500ms, 30s, 5m, 1h)`);
    listenDoc.for = forText;
  }
  const clear = c.text(cond.clear) || 'auto';
  if (clear !== 'auto' && clear !== 'manual') p(`clear: "${clear}" is not auto or manual`);
  if (clear === 'manual') listenDoc.clear = 'manual';
  doc.listen = listenDoc;

  const policy = route ? c.text(route.policy) : '';
  if (route) {
    const r = routeDoc(route);
    if (Object.keys(r).length > 0) doc.route = r;
  }
  const e = engage ? engageDoc(engage, policy, route, problems) : {};
  if (policy) e.policy = policy;
  if (Object.keys(e).length > 0) doc.engage = e;
  if (!listen) return undefined;
  return problems.list.length > before ? undefined : doc;
}

function selector(listen, problems) {
  if (listen.all === true || listen.all === 'true') return 'all';
  const devices = {};
  const kind = c.text(listen.kind);
  if (kind) devices.kind = kind;
  for (const key of ['ids', 'zones', 'tags']) {
    const items = c.list(listen[key]);
    if (items.length > 0) devices[key] = items;
  }
  if (Object.keys(devices).length === 0) {
    problems.add(listen.id, 'no devices selected: tick "every device" or give a kind, ids, zones or tags');
    return undefined;
  }
  return devices;
}

function durationField(value, label, p, required) {
  const t = c.text(value);
  if (!t) {
    if (required) p(`${label}: missing (a duration: 500ms, 30s, 5m, 1h)`);
    return t;
  }
  if (!c.isDuration(t)) p(`${label}: "${t}" is not a duration (use 500ms, 30s, 5m, 1h)`);
  return t;
}

function badge(before, within, allow, label, p) {
  const b = {
    before: c.text(before) || 'open',
    within: durationField(within, `${label} within`, p, true),
    allow: c.text(allow),
  };
  if (!b.allow) p(`${label} allow: missing (a badge list of the site)`);
  return { badge: b };
}

function structured(value, label, p) {
  const r = c.parseStructured(value);
  if (r.error) return void p(`${label}: ${r.error}`);
  if (r.value === undefined) return void p(`${label}: missing`);
  const bad = c.conditionProblem(r.value);
  if (bad) return void p(`${label}: ${bad}`);
  return r.value;
}

function primary(cond, p) {
  const type = c.text(cond.condition);
  switch (type) {
    case 'state': {
      const field = c.text(cond.field);
      const values = c.list(cond.values).map(c.scalar);
      if (!field) p('state: field missing');
      if (values.length === 0) p('state: give at least one value');
      return { state: { [field]: values.length === 1 ? values[0] : values } };
    }
    case 'threshold': {
      const field = c.text(cond.field);
      if (!field) p('threshold: field missing (which value to compare)');
      const t = { field };
      for (const key of ['above', 'below', 'hysteresis']) {
        const raw = c.text(cond[key]);
        if (!raw) continue;
        const n = c.toNumber(raw);
        if (n === undefined) p(`threshold ${key}: "${raw}" is not a number`);
        else t[key] = n;
      }
      if (!c.text(cond.above) && !c.text(cond.below)) p('threshold: give above, below or both');
      if (t.above !== undefined && t.below !== undefined && t.below >= t.above)
        p(`threshold: below (${t.below}) must be less than above (${t.above})`);
      if (t.hysteresis !== undefined && t.hysteresis < 0) p('threshold hysteresis: must be 0 or more');
      if (t.hysteresis === 0) delete t.hysteresis;
      return { threshold: t };
    }
    case 'absence': {
      const kind = c.text(cond.absence) || 'offline-or-silent';
      if (kind === 'offline-or-silent') return { any: [{ status: 'offline' }, { absent: 'heartbeat' }] };
      if (kind === 'offline') return { status: 'offline' };
      if (kind === 'heartbeat') return { absent: 'heartbeat' };
      if (kind === 'silent') return { absent: durationField(cond.silentFor, 'silent for', p, true) };
      return void p(`absence: "${kind}" is not one of offline-or-silent, offline, heartbeat, silent`);
    }
    case 'status': {
      const s = c.text(cond.status);
      if (s !== 'online' && s !== 'offline') p(`status: "${s}" is not online or offline`);
      return { status: s };
    }
    case 'schedule': {
      const s = c.text(cond.schedule);
      if (!s) p('schedule: name missing (a schedule of the site)');
      return { schedule: s };
    }
    case 'badge':
      return badge(cond.badgeBefore, cond.badgeWithin, cond.badgeAllow, 'badge', p);
    case 'count': {
      const where = structured(cond.countOf, 'count of', p);
      const atLeast = c.toNumber(cond.atLeast);
      if (atLeast === undefined || atLeast < 1 || !Number.isInteger(atLeast))
        p(`count at least: "${c.text(cond.atLeast)}" is not a whole number of 1 or more`);
      const within = durationField(cond.within, 'count within', p, true);
      return { count: { where, atLeast, within } };
    }
    case 'expression':
      return structured(cond.expression, 'expression', p);
    default:
      return void p(`condition type "${type}" is not one of ${c.CONDITION_TYPES.join(', ')}`);
  }
}

function condition(cond, p) {
  const first = primary(cond, p);
  const qualifiers = [];
  if (cond.unlessBadge === true || cond.unlessBadge === 'true') {
    const b = badge(cond.unlessBadgeBefore, cond.unlessBadgeWithin, cond.unlessBadgeAllow, 'unless badge', p);
    qualifiers.push({ not: b });
  }
  const mode = c.text(cond.scheduleMode);
  if (mode === 'inside' || mode === 'outside') {
    const s = c.text(cond.scheduleName);
    if (!s) p(`${mode} schedule: name missing (a schedule of the site)`);
    qualifiers.push(mode === 'inside' ? { schedule: s } : { not: { schedule: s } });
  } else if (mode) p(`schedule mode "${mode}" is not inside or outside`);
  if (first === undefined) return undefined;
  return qualifiers.length > 0 ? { all: [first, ...qualifiers] } : first;
}

function routeDoc(route) {
  const r = {};
  const team = c.text(route.team);
  if (team) r.team = team;
  const context = c.list(route.context);
  if (context.length > 0) r.context = context;
  if (route.crm === true || route.crm === 'true') r.crm = true;
  const dispatch = c.text(route.dispatch);
  if (dispatch) r.dispatch = dispatch;
  if (route.contactCenter === false || route.contactCenter === 'false') r.contactCenter = false;
  return r;
}

function engageDoc(engage, policy, route, problems) {
  const p = (msg) => problems.add(engage.id, msg);
  const e = {};
  const message = c.text(engage.message);
  if (message) e.message = message;
  const template = c.text(engage.template);
  if (template) e.template = template;
  const parsed = c.parseStructured(engage.steps);
  const every = c.text(engage.repeatEvery);
  const times = c.text(engage.repeatTimes);
  if (policy) {
    // Same rule as a YAML file: a policy says who is notified and how it repeats.
    if (parsed.error || parsed.value !== undefined)
      p(
        `remove the steps: route ${name(route)} names the escalation policy "${policy}", which says who is notified`,
      );
    if (every || times) p(`remove the repeat: the escalation policy "${policy}" says how it repeats`);
    return e;
  }
  if (parsed.error) p(`steps: ${parsed.error}`);
  else if (parsed.value === undefined)
    p('steps missing: who is notified (or name a policy on the vigie route node)');
  else {
    const bad = c.stepsProblem(parsed.value);
    if (bad) p(bad);
    else e.steps = parsed.value;
  }
  if (!message && !template) p('message missing: the text people receive (or name a template)');
  if (every || times) {
    const n = c.toNumber(times);
    if (!every || !times) p('repeat: give both every and times');
    else if (!c.isDuration(every)) p(`repeat every: "${every}" is not a duration (use 30s, 5m, 1h)`);
    else if (n === undefined || n < 1 || !Number.isInteger(n))
      p(`repeat times: "${times}" is not a whole number of 1 or more`);
    else e.repeat = { every, times: n };
  }
  return e;
}

module.exports = { assemble, isVigie, TYPES: T };
