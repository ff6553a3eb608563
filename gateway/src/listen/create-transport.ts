import type { Config } from '../config/schema.js';
import { VigieError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Registry } from '../core/metrics.js';
import type { Site } from '../site/model.js';
import { EmbeddedBroker } from './embedded-broker.js';
import { ExternalBroker } from './external-broker.js';
import type { MqttTransport } from './transport.js';

/** The transport named by `mqtt.mode` in the configuration. */
export function createTransport(
  config: Readonly<Config>,
  site: Site,
  deps: { logger: Logger; metrics: Registry },
): MqttTransport & { setSite(site: Site): void } {
  const m = config.mqtt;
  if (m.mode === 'external') {
    if (!m.url)
      throw new VigieError('VIGIE_ERR_CONFIG_INVALID', 'mqtt.url is required with mqtt.mode: external');
    return new ExternalBroker({
      site,
      url: m.url,
      username: m.username,
      password: m.password,
      clientId: m.clientId,
      logger: deps.logger,
    });
  }
  return new EmbeddedBroker({
    site,
    host: m.host,
    port: m.port,
    maxPayloadBytes: m.maxPayloadBytes,
    logger: deps.logger,
    metrics: deps.metrics,
  });
}
