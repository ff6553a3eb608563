'use strict';
// Declares which devices a rule watches (listen.devices). Two optional uses as a Node-RED node:
// - output: the accepted sensor events of its devices, only while the output is wired to a
//   non-Vigie node (the gateway copies its hot path to Node-RED only then);
// - input: a raw {topic, payload} fed into the gateway's listen stage, as if from MQTT.

const registry = require('../lib/registry.js');
const c = require('../resources/vigie-common.js');

/** The listen.devices selector as a predicate over SensorEvents (zones and tags need the catalog). */
function matcher(config, devices) {
  if (config.all === true || config.all === 'true') return () => true;
  const kind = c.text(config.kind);
  const ids = c.list(config.ids);
  const zones = c.list(config.zones);
  const tags = c.list(config.tags);
  if (!kind && ids.length === 0 && zones.length === 0 && tags.length === 0) return () => false;
  return (ev) => {
    if (kind && ev.kind !== kind) return false;
    if (ids.length > 0 && !ids.includes(ev.deviceId)) return false;
    if (zones.length === 0 && tags.length === 0) return true;
    const d = devices && devices.get(ev.deviceId);
    if (!d) return false;
    if (zones.length > 0 && !zones.includes(d.zone)) return false;
    return tags.every((t) => Array.isArray(d.tags) && d.tags.includes(t));
  };
}

function payloadText(payload) {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  if (payload !== null && typeof payload === 'object') return JSON.stringify(payload);
  return undefined;
}

module.exports = function (RED) {
  registry.install(RED);

  function VigieListen(config) {
    RED.nodes.createNode(this, config);
    registry.add(this, config);
    let rejected = 0;
    let lastError = '';
    let untap;
    let devices;
    const needsCatalog = c.list(config.zones).length > 0 || c.list(config.tags).length > 0;

    this.vigieExtras = () => {
      const out = [];
      if (untap) out.push('sending events');
      if (rejected > 0) out.push(`${rejected} rejected${lastError ? `: ${lastError}` : ''}`);
      return out;
    };

    let match = matcher(config, undefined);
    // Called by the registry at each deploy: tap only when someone downstream reads the events.
    this.vigieTap = (on) => {
      const link = registry.linkFor(config.gateway);
      if (untap && (!on || link !== this.vigie.tapLink)) {
        untap();
        untap = undefined;
      }
      if (!on || untap || !link) return;
      this.vigie.tapLink = link;
      if (needsCatalog) {
        match = () => false;
        Promise.resolve()
          .then(() => link.catalog())
          .then(
            (cat) => {
              devices = new Map(((cat && cat.devices) || []).map((d) => [d.id, d]));
              match = matcher(config, devices);
            },
            (err) =>
              this.warn(
                `device catalog unavailable, zone and tag selectors match nothing yet: ${err.message}`,
              ),
          );
      }
      untap = link.onSensorEvent((ev) => {
        if (!match(ev)) return;
        this.send({ topic: `vigie/${ev.site}/${ev.kind}/${ev.deviceId}`, payload: ev });
      });
    };

    const reject = (reason, msg, done) => {
      rejected++;
      lastError = reason.length > 40 ? `${reason.slice(0, 37)}...` : reason;
      this.error(reason, msg);
      registry.render(this);
      done();
    };

    this.on('input', (msg, _send, done) => {
      const topic = msg && msg.topic;
      if (typeof topic !== 'string' || topic.trim() === '') {
        return reject('msg.topic must be the MQTT topic of a device (vigie/SITE/KIND/ID)', msg, done);
      }
      const payload = payloadText(msg.payload);
      if (payload === undefined) {
        return reject(
          `msg.payload must be a string, a Buffer or an object, not ${typeof msg.payload}`,
          msg,
          done,
        );
      }
      const link = registry.linkFor(config.gateway);
      if (!link) return reject(registry.target(config.gateway).error, msg, done);
      Promise.resolve()
        .then(() => link.inject(topic, payload))
        .then(
          (r) => (r && r.ok ? done() : reject((r && r.error) || 'rejected', msg, done)),
          (err) => reject(`gateway unreachable: ${err.message}`, msg, done),
        );
    });

    this.on('close', (_removed, done) => {
      if (untap) untap();
      untap = undefined;
      registry.remove(this);
      done();
    });
  }

  RED.nodes.registerType('vigie-listen', VigieListen);
};

module.exports.matcher = matcher;
