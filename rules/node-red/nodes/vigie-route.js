'use strict';
// Declaration node: route.* of the rules of the conditions wired to it (and engage.policy).
// It carries no messages; the gateway runs the rule.

const registry = require('../lib/registry.js');
const declaration = require('../lib/declaration.js');

module.exports = function (RED) {
  registry.install(RED);
  RED.nodes.registerType('vigie-route', declaration.declarationNode(RED, 'vigie route'));
};
