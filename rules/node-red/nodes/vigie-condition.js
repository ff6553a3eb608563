'use strict';
// Declaration node: the rule itself (id, name, severity, listen.when/for/clear). Its badge says
// whether the gateway runs the rule and how many of its incidents are not resolved yet.

const registry = require('../lib/registry.js');
const declaration = require('../lib/declaration.js');

module.exports = function (RED) {
  registry.install(RED);
  const extras = (node) => () => {
    const v = node.vigie;
    if (!v.ruleId || !v.text) return [];
    return [`${registry.openCount(v.link, [v.ruleId])} open`];
  };
  RED.nodes.registerType('vigie-condition', declaration.declarationNode(RED, 'vigie condition', extras));
};
