'use strict';
// The running Vigie nodes of this Node-RED. At every `flows:started` the chains are assembled into
// rule documents and each gateway gets the whole set of this Node-RED (one rule source per
// gateway): the gateway runs them in its engine, so no sensor event crosses a Node-RED wire.

const os = require('node:os');
const { assemble, TYPES } = require('./assemble.js');
const admin = require('./admin.js');
const c = require('../resources/vigie-common.js');

const entries = new Map(); // node id -> { node, config }
const gateways = new Map(); // vigie-gateway config node id -> node
const trackers = new Map(); // link -> open incidents of that gateway
const retries = new Set();
let RED;
let hookedEvents;
const adminApps = new WeakSet();
let generation = 0;

/** Called by every node module: the latest RED wins (the test helper makes one per load). */
function install(red) {
  RED = red;
  if (red.events && hookedEvents !== red.events) {
    if (hookedEvents) hookedEvents.removeListener('flows:started', onFlowsStarted);
    hookedEvents = red.events;
    hookedEvents.on('flows:started', onFlowsStarted);
  }
  if (red.httpAdmin && !adminApps.has(red.httpAdmin)) {
    adminApps.add(red.httpAdmin);
    admin.routes(red, api);
  }
}

function settings() {
  const s = RED && RED.settings && RED.settings.vigie;
  return s && typeof s === 'object' ? s : {};
}

function add(node, config) {
  node.vigie = { config, problem: undefined, note: undefined, text: undefined, unreachable: undefined };
  entries.set(node.id, { node, config });
}

function remove(node) {
  const e = entries.get(node.id);
  if (e && e.node === node) entries.delete(node.id);
}

function addGateway(node) {
  gateways.set(node.id, node);
}

function removeGateway(node) {
  if (gateways.get(node.id) !== node) return;
  gateways.delete(node.id);
  untrack(node.link);
}

/**
 * Where a node's gateway field points: '' or an embedded-mode config node = the gateway hosting
 * this Node-RED (settings.vigie); a remote-mode config node = its own link.
 */
function target(gatewayId) {
  const id = c.text(gatewayId);
  const g = id ? gateways.get(id) || (RED && RED.nodes.getNode(id)) : undefined;
  if (id && (!g || g.type !== TYPES.gateway)) return { error: `vigie gateway ${id} is not deployed` };
  if (g && g.mode === 'remote') {
    if (!g.link) return { error: g.linkError || 'the remote gateway has no URL' };
    return { key: g.id, link: g.link, sourceId: g.source, label: g.label, gateway: g };
  }
  const s = settings();
  if (!s.link) {
    return {
      error: 'no embedded Vigie gateway in this Node-RED: add a vigie gateway node in remote mode',
    };
  }
  return {
    key: 'embedded',
    link: s.link,
    sourceId: c.text(s.sourceId) || 'node-red',
    label: c.text(s.label) || `Node-RED on ${os.hostname()}`,
  };
}

function linkFor(gatewayId) {
  const t = target(gatewayId);
  return t.link;
}

// ---- status badges ----

function short(text) {
  const s = String(text);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function render(node) {
  const v = node.vigie;
  if (!v) return;
  const extras = typeof node.vigieExtras === 'function' ? node.vigieExtras() : [];
  const join = (first) => [first, ...extras].filter(Boolean).join(' · ');
  if (v.problem) return node.status({ fill: 'red', shape: 'ring', text: short(v.problem) });
  const link = v.link;
  const ls = link && typeof link.status === 'function' ? link.status() : { connected: true };
  if (v.unreachable) {
    return node.status({
      fill: 'yellow',
      shape: 'ring',
      text: short(`gateway unreachable: ${v.unreachable}`),
    });
  }
  if (!ls.connected && link && link.mode === 'remote' && ls.error === 'connecting') {
    return node.status({ fill: 'yellow', shape: 'ring', text: 'connecting to the gateway' });
  }
  if (!ls.connected && link && link.mode === 'remote') {
    return node.status({ fill: 'red', shape: 'ring', text: short(`gateway unreachable: ${ls.error || ''}`) });
  }
  if (v.note) return node.status({ fill: v.note.fill, shape: 'ring', text: short(join(v.note.text)) });
  const text = join(v.text);
  if (!text) return node.status({});
  node.status({ fill: 'green', shape: 'dot', text: short(text) });
}

function renderAll(filter) {
  for (const { node } of entries.values()) if (!filter || filter(node)) render(node);
}

// ---- open incidents per gateway, for the "N open" badges ----

/**
 * Badges are for people: at most a few renders a second, however many transitions the gateway
 * commits (a busy site commits thousands a second, and a status update is a message to every
 * open editor).
 */
const RENDER_EVERY_MS = 250;

function track(link) {
  if (!link || trackers.has(link)) return;
  // id -> rule of every unresolved incident, and the count per rule: O(1) per transition.
  const t = { open: new Map(), byRule: new Map(), unsubs: [], timer: undefined };
  trackers.set(link, t);
  const renderSoon = () => {
    if (t.timer) return;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      if (trackers.get(link) === t) renderAll((n) => n.vigie.link === link);
    }, RENDER_EVERY_MS);
  };
  const forget = (id) => {
    const rule = t.open.get(id);
    if (rule === undefined) return;
    t.open.delete(id);
    const n = (t.byRule.get(rule) || 1) - 1;
    if (n > 0) t.byRule.set(rule, n);
    else t.byRule.delete(rule);
  };
  const remember = (id, rule) => {
    if (t.open.has(id)) return;
    t.open.set(id, rule);
    t.byRule.set(rule, (t.byRule.get(rule) || 0) + 1);
  };
  const refresh = () =>
    Promise.resolve()
      .then(() => link.openIncidents())
      .then(
        (list) => {
          t.open.clear();
          t.byRule.clear();
          for (const i of list || []) remember(i.id, i.rule);
          renderAll((n) => n.vigie.link === link);
        },
        () => {},
      );
  t.unsubs.push(
    link.onIncident((e) => {
      if (!e || !e.incident) return;
      if (e.transition === 'resolved') forget(e.incident.id);
      else remember(e.incident.id, e.incident.rule);
      renderSoon();
    }),
  );
  if (typeof link.onStatus === 'function') {
    let was = link.status().connected;
    t.unsubs.push(
      link.onStatus((s) => {
        // Transitions may have been missed while the stream was down.
        if (s.connected && !was) refresh();
        was = s.connected;
        renderAll((n) => n.vigie.link === link);
      }),
    );
  }
  refresh();
}

function untrack(link) {
  const t = trackers.get(link);
  if (!t) return;
  trackers.delete(link);
  if (t.timer) clearTimeout(t.timer);
  for (const u of t.unsubs) u();
}

/** How many unresolved incidents a gateway has, optionally only for some rules. */
function openCount(link, rules) {
  const t = trackers.get(link);
  if (!t) return 0;
  if (!rules) return t.open.size;
  let n = 0;
  for (const r of rules) n += t.byRule.get(r) || 0;
  return n;
}

// ---- deploy ----

function flowConfigs(ev) {
  if (ev && ev.config && Array.isArray(ev.config.flows)) return ev.config.flows;
  const out = [];
  if (RED && RED.nodes && typeof RED.nodes.eachNode === 'function') RED.nodes.eachNode((n) => out.push(n));
  else for (const e of entries.values()) out.push(e.config);
  return out;
}

function onFlowsStarted(ev) {
  const gen = ++generation;
  for (const t of retries) clearTimeout(t);
  retries.clear();
  let result;
  try {
    result = assemble(flowConfigs(ev));
  } catch (err) {
    if (RED) RED.log.error(`vigie: could not assemble the flows: ${err.stack || err}`);
    return;
  }
  for (const { node } of entries.values()) {
    Object.assign(node.vigie, {
      problem: undefined,
      note: undefined,
      text: undefined,
      unreachable: undefined,
    });
    if (node.type === TYPES.listen && node.vigieTap) node.vigieTap(result.listenOutputs[node.id] === true);
    if (node.type === TYPES.incident && node.vigieChainRules)
      node.vigieChainRules(result.incidentRules[node.id] || []);
  }

  const problems = result.problems.slice();
  const groups = new Map();
  const group = (t) => {
    if (!groups.has(t.key)) groups.set(t.key, { ...t, rules: [], nodeIds: new Set() });
    return groups.get(t.key);
  };
  // Every gateway this Node-RED talks to gets its set, even an empty one: deleting the last
  // chain must stop its rules.
  const embedded = target('');
  if (embedded.link) group(embedded);
  for (const g of gateways.values()) {
    const t = target(g.id);
    if (t.link && t.key !== 'embedded') group(t);
  }
  for (const r of result.rules) {
    const t = target(r.gateway);
    if (!t.link) {
      problems.push({ nodeId: r.rule.nodes.listen, message: t.error });
      continue;
    }
    const g = group(t);
    g.rules.push(r.rule);
    for (const id of Object.values(r.rule.nodes)) g.nodeIds.add(id);
  }
  for (const { node } of entries.values()) {
    const gw =
      node.type === TYPES.incident || node.type === TYPES.listen ? node.vigie.config.gateway : undefined;
    if (gw !== undefined) node.vigie.link = linkFor(gw);
    if (node.type === TYPES.incident) track(node.vigie.link);
  }
  for (const g of groups.values()) {
    track(g.link);
    for (const id of g.nodeIds) {
      const e = entries.get(id);
      if (e)
        Object.assign(e.node.vigie, {
          link: g.link,
          note: { fill: 'yellow', text: 'sending to the gateway' },
        });
    }
  }

  if (problems.length > 0) {
    showProblems(problems);
    const text = `not sent: ${problems.length} problem${problems.length > 1 ? 's' : ''} in the flows; the previous rules keep running`;
    for (const { node } of entries.values()) {
      if (!node.vigie.problem && node.type !== TYPES.listen && node.type !== TYPES.incident)
        node.vigie.note = { fill: 'yellow', text };
    }
    renderAll();
    return;
  }
  renderAll();
  for (const g of groups.values()) send(g, gen, 0);
}

function showProblems(problems) {
  for (const p of problems) {
    const e = p.nodeId && entries.get(p.nodeId);
    if (!e) {
      if (RED) RED.log.error(`vigie: ${p.rule ? `rule ${p.rule}: ` : ''}${p.message}`);
      continue;
    }
    // One badge per node; every message still reaches the debug sidebar and catch nodes.
    if (!e.node.vigie.problem) e.node.vigie.problem = p.message;
    e.node.error(p.rule ? `rule ${p.rule}: ${p.message}` : p.message);
  }
}

function send(g, gen, attempt) {
  Promise.resolve()
    .then(() => g.link.putRules(g.sourceId, g.label, g.rules))
    .then(
      (res) => {
        if (gen !== generation) return;
        applyResult(g, res);
      },
      (err) => {
        if (gen !== generation) return;
        const message = (err && err.message) || String(err);
        const nodes = [...g.nodeIds].map((id) => entries.get(id)).filter(Boolean);
        if (err && err.code === 'VIGIE_ERR_REFUSED') {
          for (const { node } of nodes) {
            node.vigie.note = { fill: 'red', text: `gateway refused the rules: ${message}` };
            if (node.type === TYPES.condition) node.error(`gateway refused the rules: ${message}`);
          }
          renderAll();
          return;
        }
        for (const { node } of nodes) {
          node.vigie.unreachable = `${message} (retrying)`;
          render(node);
        }
        const base = Number(settings().retryMs) || 1000;
        const delay = Math.min(30_000, base * 2 ** attempt);
        const timer = setTimeout(() => {
          retries.delete(timer);
          send(g, gen, attempt + 1);
        }, delay);
        if (timer.unref) timer.unref();
        retries.add(timer);
      },
    );
}

function applyResult(g, res) {
  const result = res && typeof res === 'object' ? res : { ok: false, rules: [], problems: [] };
  for (const id of g.nodeIds) {
    const e = entries.get(id);
    if (e) Object.assign(e.node.vigie, { note: undefined, unreachable: undefined });
  }
  if (result.ok) {
    const uses = new Map();
    for (const r of g.rules) {
      const cond = entries.get(r.nodes.condition);
      if (cond) {
        cond.node.vigie.ruleId = r.doc.rule;
        cond.node.vigie.text = `rule ${r.doc.rule} running`;
      }
      for (const key of ['listen', 'route', 'engage']) {
        const id = r.nodes[key];
        if (id) uses.set(id, (uses.get(id) || 0) + 1);
      }
    }
    for (const [id, n] of uses) {
      const e = entries.get(id);
      if (e) e.node.vigie.text = `${n} rule${n > 1 ? 's' : ''}`;
    }
  } else {
    const problems = Array.isArray(result.problems) ? result.problems : [];
    const own = problems.filter((p) => p.nodeId && entries.has(p.nodeId));
    const setWide = problems.filter((p) => !(p.nodeId && entries.has(p.nodeId)));
    showProblems(own);
    const why = setWide.length > 0 ? setWide.map((p) => p.message).join('; ') : 'see the nodes in red';
    let reported = false;
    for (const id of g.nodeIds) {
      const e = entries.get(id);
      if (!e || e.node.vigie.problem) continue;
      e.node.vigie.note = {
        fill: 'red',
        text: `rejected by the gateway (${why}); the previous rules keep running`,
      };
      if (!reported && setWide.length > 0 && e.node.type === TYPES.condition) {
        e.node.error(`rejected by the gateway: ${why}`);
        reported = true;
      }
    }
    if (!reported) for (const p of setWide) if (RED) RED.log.error(`vigie: ${p.message}`);
  }
  renderAll();
}

const api = {
  install,
  add,
  remove,
  addGateway,
  removeGateway,
  target,
  linkFor,
  render,
  renderAll,
  openCount,
  track,
  settings,
  assemble,
};

module.exports = api;
