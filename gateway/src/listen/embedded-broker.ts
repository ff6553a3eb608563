import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from '../core/log.js';
import type { Registry } from '../core/metrics.js';
import type { Site } from '../site/model.js';
import { TopicAcl, type Principal } from './acl.js';
import { verifyPassword } from './credentials.js';
import { GuardedSocket } from './frame-guard.js';
import { LogLimiter } from './log-limiter.js';
import type { MqttTransport } from './transport.js';
import { systemClock } from '../core/clock.js';

export interface EmbeddedBrokerOptions {
  site: Site;
  host: string;
  port: number;
  maxPayloadBytes: number;
  logger: Logger;
  metrics: Registry;
}

// CONNACK return codes, MQTT 3.1.1 [3.2.2.3]
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** The broker inside the gateway (aedes): devices connect here, and the hooks below are the ACL. */
/** A valid scrypt hash of a random secret nobody knows: the work done for unknown usernames. */
const NO_ONES_HASH = 'scrypt$16384$8$1$hlhdS75LvfjcyAzYeaUCFA==$1E9MLqc28TsQ05ObaRmwicxxNhiHq9l+rMP7kFXLne8=';

export class EmbeddedBroker implements MqttTransport {
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private handler: ((topic: string, payload: Buffer) => void) | undefined;
  private acl: TopicAcl;
  private readonly principals = new WeakMap<Client, Principal>();
  private readonly wills = new WeakMap<Client, string>();
  /** Who holds each client id, so one device cannot take over another's session by reusing its id. */
  private readonly owners = new Map<string, { username: string; client: Client }>();
  private readonly denied;
  private readonly limiter = new LogLimiter(systemClock, 60_000);
  private boundPort: number | undefined;
  private running = false;

  constructor(private readonly opts: EmbeddedBrokerOptions) {
    this.acl = new TopicAcl(opts.site);
    this.denied = opts.metrics.counter(
      'vigie_mqtt_denied_total',
      'MQTT operations refused by the broker ACL, by action',
    );
  }

  get connected(): boolean {
    return this.running;
  }

  get port(): number | undefined {
    return this.boundPort;
  }

  /** New credentials and topics after a site reload; connected clients keep their principal. */
  setSite(site: Site): void {
    this.acl = new TopicAcl(site);
  }

  onMessage(handler: (topic: string, payload: Buffer) => void): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker({
      connectTimeout: 10_000,
      maxClientsIdLength: 128,
      preConnect: (client, packet, done) => {
        if (packet.will) this.wills.set(client, packet.will.topic);
        done(null, true);
      },
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          () => done(null, true),
          (err: AuthenticateError) => done(err, false),
        );
      },
      authorizePublish: (client, packet, done) => {
        // client null: the gateway's own publish (incident transitions).
        if (client === null) return done(null);
        const p = this.principals.get(client);
        if (p && this.acl.canPublish(p, packet.topic)) return done(null);
        this.deny('publish', p?.username, packet.topic);
        done(new Error('publish not authorized'));
      },
      authorizeSubscribe: (client, sub, done) => {
        const p = this.principals.get(client);
        if (p && this.acl.canSubscribe(p, sub.topic)) return done(null, sub);
        this.deny('subscribe', p?.username, sub.topic);
        // A null subscription answers SUBACK 0x80 (failure) for that filter [MQTT-3.9.3].
        done(null, null as unknown as Subscription);
      },
    });
    broker.on('publish', (packet, client) => {
      if (client === null || !this.handler) return;
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      try {
        this.handler(packet.topic, payload);
      } catch (err) {
        // A fault downstream must not unwind into aedes and drop the device's connection.
        this.opts.logger.error('message handler failed', {
          topic: packet.topic,
          error: (err as Error).message,
        });
      }
    });
    broker.on('clientDisconnect', (client) => {
      if (this.owners.get(client.id)?.client === client) this.owners.delete(client.id);
    });
    broker.on('clientError', (client, err) =>
      this.opts.logger.debug('client error', { client: client.id, error: err.message }),
    );
    this.broker = broker;
    // Room for the topic and headers on top of the payload; beyond that the connection is cut unread.
    const maxPacket = this.opts.maxPayloadBytes * 2 + 65_536;
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(new GuardedSocket(socket, maxPacket, () => this.deny('oversize', undefined, '')));
    });
    server.listen(this.opts.port, this.opts.host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
    this.server = server;
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    this.running = true;
    this.opts.logger.info(`MQTT broker listening on ${this.opts.host}:${this.boundPort}`);
  }

  async stop(): Promise<void> {
    this.running = false;
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of this.sockets) s.destroy();
      await closed;
    }
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }

  publish(topic: string, payload: string | Buffer, opts: { retain?: boolean; qos?: 0 | 1 } = {}): void {
    const broker = this.broker;
    if (!broker) return;
    const packet: PublishPacket = {
      cmd: 'publish',
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos: opts.qos ?? 0,
      retain: opts.retain ?? false,
      dup: false,
    };
    broker.publish(packet, (err) => {
      if (err) this.opts.logger.warn('could not publish', { topic, error: err.message });
    });
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<void> {
    const p = this.acl.principal(username);
    if (!p || !password) {
      // An unknown name costs the same scrypt as a wrong password, so response times do not tell
      // an attacker which usernames exist.
      if (password) await verifyPassword(password.toString('utf8'), NO_ONES_HASH);
      // Unknown names are not logged: they are attacker-chosen, and sometimes a pasted password.
      this.deny('connect', p?.username, '');
      throw authError(
        username ? 'bad username or password' : 'anonymous connections are refused',
        username ? BAD_USERNAME_OR_PASSWORD : NOT_AUTHORIZED,
      );
    }
    if (!(await verifyPassword(password.toString('utf8'), p.passwordHash))) {
      this.deny('connect', username, '');
      throw authError('bad username or password', BAD_USERNAME_OR_PASSWORD);
    }
    // aedes would only check the will with authorizePublish when it fires; refusing it here tells
    // the device at once that its configuration is wrong.
    const will = this.wills.get(client);
    if (will !== undefined && !this.acl.canWill(p, will)) {
      this.deny('will', username, will);
      throw authError('last will topic not authorized', NOT_AUTHORIZED);
    }
    const owner = this.owners.get(client.id);
    if (owner && owner.username !== p.username && !owner.client.closed) {
      this.deny('client_id', p.username, '');
      throw authError('client id in use by another principal', IDENTIFIER_REJECTED);
    }
    this.owners.set(client.id, { username: p.username, client });
    this.principals.set(client, p);
  }

  private deny(action: string, username: string | undefined, topic: string): void {
    this.denied.inc({ action });
    const key = `${action}:${username ?? '?'}`;
    const suppressed = this.limiter.allow(key);
    if (suppressed === false) return;
    this.opts.logger.warn(`MQTT ${action} refused`, {
      user: username,
      topic: topic.length > 120 ? topic.slice(0, 120) + '...' : topic,
      suppressedSinceLast: suppressed,
    });
  }
}
