import type { MqttClient } from 'mqtt';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Site } from '../site/model.js';
import { LogLimiter } from './log-limiter.js';
import { availabilityTopic } from './presets.js';
import type { MqttTransport } from './transport.js';

export interface ExternalBrokerOptions {
  site: Site;
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  logger: Logger;
  /** How long start() waits for the first connection before going on (and retrying in the background). */
  startWaitMs?: number;
  /** Reconnect backoff bounds. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The gateway as a client of a broker already on site (Mosquitto, EMQX...): the ACL is that broker's. */
export class ExternalBroker implements MqttTransport {
  private client: MqttClient | undefined;
  private handler: ((topic: string, payload: Buffer) => void) | undefined;
  private filters: string[];
  private incidentsPrefix: string;
  private backoff: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private wasConnected = false;

  constructor(private readonly opts: ExternalBrokerOptions) {
    this.minBackoff = opts.minBackoffMs ?? 500;
    this.maxBackoff = opts.maxBackoffMs ?? 30_000;
    this.backoff = this.minBackoff;
    this.filters = [];
    this.incidentsPrefix = '';
    this.setSite(opts.site);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  readonly port = undefined;

  /** Subscriptions follow the site: new foreign devices are picked up on the next (re)connection. */
  setSite(site: Site): void {
    const sources = site.devices.flatMap((d) => {
      if (!d.source) return [];
      const availability = availabilityTopic(d.source);
      return availability ? [d.source.topic, availability] : [d.source.topic];
    });
    this.filters = [`vigie/${site.id}/+/+`, `vigie/${site.id}/+/+/status`, ...new Set(sources)];
    this.incidentsPrefix = `vigie/${site.id}/incidents/`;
    if (this.client?.connected) this.subscribe(this.client);
  }

  onMessage(handler: (topic: string, payload: Buffer) => void): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    const { url, username, password, logger } = this.opts;
    // Loaded here, not at the top: the client library costs ~20 MB of RSS that a gateway on its
    // embedded broker (the default, on a Pi) never needs.
    const { default: mqtt } = await import('mqtt');
    const client = mqtt.connect(url, {
      username,
      password,
      // A stable client id and a persistent session: the broker queues the QoS 1 messages that
      // arrive while the gateway restarts or the link blips, instead of dropping a door opening.
      clientId: this.opts.clientId ?? `vigie-gateway-${this.opts.site.id}`,
      clean: false,
      resubscribe: false,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      // The gateway's own status for displays and integrations: the heartbeat says online again.
      will: {
        topic: `vigie/${this.opts.site.id}/gateway/status`,
        payload: Buffer.from('offline'),
        retain: true,
        qos: 1,
      },
    });
    this.client = client;
    client.on('connect', () => {
      this.backoff = this.minBackoff;
      this.wasConnected = true;
      logger.info(`connected to MQTT broker ${redact(url)}`);
      this.subscribe(client);
    });
    // mqtt.js retries at a fixed period from a private interval; we drive the retries ourselves
    // (reconnectPeriod 0) to back off, with jitter so gateways restarted together do not stampede.
    client.on('close', () => {
      if (this.stopping || this.retryTimer) return;
      if (this.wasConnected) logger.warn(`lost MQTT broker ${redact(url)}; reconnecting`);
      this.wasConnected = false;
      const delay = Math.round(this.backoff * (0.75 + Math.random() * 0.5));
      this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.stopping) client.reconnect();
      }, delay);
    });
    // Every failed retry errors (ECONNREFUSED...): once a minute is enough to know.
    const errors = new LogLimiter(systemClock, 60_000);
    client.on('error', (err) => {
      const suppressed = errors.allow('error');
      if (suppressed !== false)
        logger.warn('MQTT client error', { error: err.message, suppressedSinceLast: suppressed });
    });
    client.on('message', (topic, payload) => {
      // Our own incident announcements come back through vigie/{site}/+/+.
      if (topic.startsWith(this.incidentsPrefix) || !this.handler) return;
      try {
        this.handler(topic, payload);
      } catch (err) {
        logger.error('message handler failed', { topic, error: (err as Error).message });
      }
    });
    const wait = this.opts.startWaitMs ?? 5000;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        logger.warn(`MQTT broker ${redact(url)} not reachable yet; the gateway keeps trying`);
        resolve();
      }, wait);
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true);
  }

  publish(topic: string, payload: string | Buffer, opts: { retain?: boolean; qos?: 0 | 1 } = {}): void {
    // While disconnected mqtt.js queues the message and sends it on reconnection.
    this.client?.publish(topic, payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false }, (err) => {
      if (err) this.opts.logger.warn('could not publish', { topic, error: err.message });
    });
  }

  private subscribe(client: MqttClient): void {
    client.subscribe(this.filters, { qos: 1 }, (err, granted) => {
      if (err) return this.opts.logger.warn('MQTT subscribe failed', { error: err.message });
      for (const g of granted ?? []) {
        if (g.qos === 128) this.opts.logger.error(`the broker refused our subscription to ${g.topic}`);
      }
    });
  }
}

/** Broker URLs may carry a password (mqtt://user:pass@host): never log it. */
function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
