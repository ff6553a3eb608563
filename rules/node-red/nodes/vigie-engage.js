'use strict';
// Declaration node: engage.* (message, template, steps, repeat) of the rules wired through it.
// It carries no messages; the gateway runs the escalation durably.

const registry = require('../lib/registry.js');
const declaration = require('../lib/declaration.js');

module.exports = function (RED) {
  registry.install(RED);
  RED.nodes.registerType('vigie-engage', declaration.declarationNode(RED, 'vigie engage'));
};
