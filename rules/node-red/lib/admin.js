'use strict';
// Admin endpoints for the editor: the site catalog (choices and "unknown device/team/..." checks
// before deploy) and a dry run of the draft flows against the gateway.

const { assemble } = require('./assemble.js');
const c = require('../resources/vigie-common.js');

function fail(res, status, message) {
  res.status(status).json({ error: { message } });
}

/** The deployed config node's gateway, else the embedded one. */
function targetOrEmbedded(registry, gatewayId) {
  const t = registry.target(gatewayId);
  return t.link || !c.text(gatewayId) ? t : registry.target('');
}

function routes(RED, registry) {
  const perm = (p) =>
    RED.auth && typeof RED.auth.needsPermission === 'function'
      ? RED.auth.needsPermission(p)
      : (_req, _res, next) => next();

  RED.httpAdmin.get('/vigie/catalog', perm('vigie.read'), async (req, res) => {
    const t = targetOrEmbedded(registry, req.query && req.query.gateway);
    if (!t.link) return fail(res, 404, t.error);
    try {
      res.json(await t.link.catalog());
    } catch (err) {
      fail(res, 502, `gateway unreachable: ${err.message}`);
    }
  });

  RED.httpAdmin.post('/vigie/check', perm('vigie.write'), async (req, res) => {
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    if (!Array.isArray(body.nodes)) return fail(res, 400, 'expected { nodes: [flow JSON], condition? }');
    let result;
    try {
      result = assemble(body.nodes);
    } catch (err) {
      return fail(res, 400, `could not read the flows: ${err.message}`);
    }
    if (result.problems.length > 0) {
      return res.json({ ok: false, checked: 'editor', rules: [], problems: result.problems });
    }
    const mine = result.rules.find((r) => r.rule.nodes.condition === body.condition);
    const gatewayId = mine ? mine.gateway : c.text(body.gateway);
    const t = registry.target(gatewayId);
    if (!t.link) return fail(res, 404, `${t.error} (deploy it once, then check)`);
    const rules = result.rules.filter((r) => registry.target(r.gateway).key === t.key).map((r) => r.rule);
    try {
      const out = await t.link.validateRules(t.sourceId, rules);
      res.json({ ...out, checked: 'gateway' });
    } catch (err) {
      fail(res, 502, `gateway unreachable: ${err.message}`);
    }
  });
}

module.exports = { routes };
