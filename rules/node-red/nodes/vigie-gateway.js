'use strict';
// Config node: which gateway runs the rules of the chains that name it. Embedded = the gateway
// hosting this Node-RED (settings.vigie.link); remote = another gateway over its HTTP API.

const registry = require('../lib/registry.js');
const { RemoteLink } = require('../lib/remote-link.js');
const c = require('../resources/vigie-common.js');

/** The default rule source id of a remote config node: stable across deploys, valid for the API. */
function defaultSource(id) {
  return `node-red-${String(id)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')}`.slice(0, 63);
}

module.exports = function (RED) {
  registry.install(RED);

  function VigieGateway(config) {
    RED.nodes.createNode(this, config);
    this.name = c.text(config.name);
    this.mode = config.mode === 'remote' ? 'remote' : 'embedded';
    this.source = c.text(config.source) || defaultSource(this.id);
    this.label = this.name || `Node-RED ${this.source}`;
    if (this.mode === 'remote') {
      const url = c.text(config.url);
      const token = (this.credentials && this.credentials.token) || '';
      if (!/^https?:\/\/[^/]/.test(url))
        this.linkError = `remote gateway URL "${url}" is not http(s)://host:port`;
      else if (!c.SOURCE_ID.test(this.source))
        this.linkError = `source id "${this.source}" must be lower-case letters, digits and - (at most 63)`;
      else if (!token) this.linkError = 'the remote gateway needs a bearer token (role integrator or above)';
      else this.link = new RemoteLink({ url, token });
    } else {
      const s = registry.settings();
      this.link = s.link;
      this.source = c.text(s.sourceId) || 'node-red';
    }
    registry.addGateway(this);
    this.on('close', (_removed, done) => {
      registry.removeGateway(this);
      const link = this.mode === 'remote' ? this.link : undefined;
      this.link = undefined;
      if (!link) return done();
      link.close().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('vigie-gateway', VigieGateway, { credentials: { token: { type: 'password' } } });
};

module.exports.defaultSource = defaultSource;
