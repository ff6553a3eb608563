'use strict';
// Condition, route and engage nodes only declare a rule: their wires say which chain they belong
// to, and a message sent to them has nowhere to go. The gateway does the work.

const registry = require('./registry.js');

function declarationNode(RED, label, extras) {
  return function VigieDeclaration(config) {
    RED.nodes.createNode(this, config);
    registry.add(this, config);
    if (extras) this.vigieExtras = extras(this);
    let warned = false;
    this.on('input', (msg, _send, done) => {
      // A vigie listen that feeds a debug node also feeds its conditions: those events are expected.
      const fromListen = msg && typeof msg.topic === 'string' && msg.topic.startsWith('vigie/');
      if (!warned && !fromListen) {
        warned = true;
        this.warn(`${label} declares a rule and takes no messages: the gateway evaluates the rule itself`);
      }
      done();
    });
    this.on('close', (_removed, done) => {
      registry.remove(this);
      done();
    });
  };
}

module.exports = { declarationNode };
