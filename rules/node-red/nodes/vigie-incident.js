'use strict';
// The acknowledgement loop in a flow: output 1 emits the committed incident transitions of its
// scope; an input acknowledges or resolves an incident in the gateway; output 2 gets the reply.

const registry = require('../lib/registry.js');
const c = require('../resources/vigie-common.js');

const ACTIONS = ['acknowledge', 'resolve'];
const USAGE = 'msg.payload must be "acknowledge", "resolve" or { action, incidentId?, note?, by? }';

function optionalText(v, what) {
  if (v === undefined || v === null) return { value: undefined };
  if (typeof v !== 'string' || v.trim() === '') return { error: `${what} must be a non-empty string` };
  return { value: v };
}

/** What an input message asks for, or { error } saying why it cannot be done. */
function readRequest(msg) {
  const p = msg ? msg.payload : undefined;
  let fields;
  if (typeof p === 'string') fields = { action: p.trim() };
  else if (p !== null && typeof p === 'object' && !Array.isArray(p) && !Buffer.isBuffer(p)) fields = p;
  else return { error: USAGE };
  const action = fields.action;
  if (!ACTIONS.includes(action)) {
    return { action, error: `unknown action ${JSON.stringify(action)}: use acknowledge or resolve` };
  }
  const out = { action };
  for (const [key, value] of [
    ['incidentId', fields.incidentId !== undefined ? fields.incidentId : msg.incidentId],
    ['note', fields.note !== undefined ? fields.note : msg.note],
    ['by', fields.by !== undefined ? fields.by : msg.by],
    ['rule', fields.rule !== undefined ? fields.rule : msg.rule],
    ['deviceId', fields.deviceId !== undefined ? fields.deviceId : msg.deviceId],
  ]) {
    const r = optionalText(value, key);
    if (r.error) return { action, error: r.error };
    out[key] = r.value;
  }
  if (!out.incidentId && !(out.rule && out.deviceId)) {
    return { action, error: 'which incident? give msg.incidentId, or msg.rule and msg.deviceId' };
  }
  return out;
}

module.exports = function (RED) {
  registry.install(RED);

  function VigieIncident(config) {
    RED.nodes.createNode(this, config);
    registry.add(this, config);
    const scope = c.text(config.scope) || 'chain';
    const listed = c.list(config.rules);
    const transitions = c.list(config.transitions);
    let chainRules = [];
    let bad = 0;
    let lastError = '';

    const rulesInScope = () => (scope === 'all' ? undefined : scope === 'rules' ? listed : chainRules);
    const inScope = (e) => {
      const rules = rulesInScope();
      if (rules && !rules.includes(e.incident.rule)) return false;
      return transitions.length === 0 || transitions.includes(e.transition);
    };

    this.vigieChainRules = (rules) => {
      chainRules = rules;
    };
    this.vigieExtras = () => {
      const out = [];
      if (this.vigie.link) out.push(`${registry.openCount(this.vigie.link, rulesInScope())} open`);
      if (bad > 0) out.push(`${bad} bad message${bad > 1 ? 's' : ''}${lastError ? `: ${lastError}` : ''}`);
      return out;
    };

    const link = registry.linkFor(config.gateway);
    this.vigie.link = link;
    const unsubscribe = link
      ? link.onIncident((e) => {
          if (!e || !e.incident || !inScope(e)) return;
          const site = e.incident.site || 'site';
          // A copy per node: two incident nodes must not see each other's changes to the payload.
          const payload = { transition: e.transition, incident: { ...e.incident } };
          this.send([{ topic: `vigie/${site}/incidents/${e.incident.id}`, payload }, null]);
        })
      : () => {};

    const reply = (msg, send, payload) => {
      msg.payload = payload;
      send([null, msg]);
    };
    const fail = (msg, send, done, action, error) => {
      bad++;
      lastError = error.length > 40 ? `${error.slice(0, 37)}...` : error;
      this.error(error, msg);
      registry.render(this);
      reply(msg, send, { action: action === undefined ? null : action, ok: false, error });
      done();
    };

    this.on('input', (msg, send, done) => {
      const req = readRequest(msg);
      if (req.error) return fail(msg, send, done, req.action, req.error);
      const current = registry.linkFor(config.gateway);
      if (!current) return fail(msg, send, done, req.action, registry.target(config.gateway).error);
      const by = req.by || 'flow';
      Promise.resolve()
        .then(async () => {
          let id = req.incidentId;
          if (!id) {
            const open = await current.openIncidents();
            const found = open.find((i) => i.rule === req.rule && i.device === req.deviceId);
            if (!found) throw new Error(`no open incident of rule ${req.rule} on device ${req.deviceId}`);
            id = found.id;
          }
          return current.act(req.action, id, by, req.note);
        })
        .then(
          (incident) => {
            reply(msg, send, { action: req.action, ok: true, incident });
            done();
          },
          (err) => fail(msg, send, done, req.action, (err && err.message) || String(err)),
        );
    });

    this.on('close', (_removed, done) => {
      unsubscribe();
      registry.remove(this);
      done();
    });
  }

  RED.nodes.registerType('vigie-incident', VigieIncident);
};

module.exports.readRequest = readRequest;
