import {
  connect,
  ErrorCode,
  Events,
  type ConnectionOptions,
  type JetStreamClient,
  type NatsConnection,
} from 'nats';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Counter, Registry } from '../../core/metrics.js';
import type { UplinkConfig } from '../../config/schema.js';
import { LogLimiter } from '../../listen/log-limiter.js';
import { STREAM_SUBJECTS } from './events.js';
import type { Outbox, OutboxRow } from './outbox.js';
import { ensureStream, GATEWAYS_STREAM, sameSubjects } from './streams.js';
import { Wakeup } from './wakeup.js';

export interface UplinkStatus {
  connected: boolean;
  depth: number;
  oldestAgeMs: number;
  lastError?: string;
}

export interface NatsUplinkOptions {
  config: UplinkConfig;
  site: string;
  outbox: Outbox;
  metrics: Registry;
  logger: Logger;
  clock: Clock;
  /** The wait for one PubAck (default 5 s). */
  publishTimeoutMs?: number;
  /** Wait after a failed connect or publish, doubling from min to max (default 200 ms to 5 s). */
  backoff?: { minMs: number; maxMs: number };
  /** For tests: faster reconnects. */
  connectOptions?: Partial<ConnectionOptions>;
}

/** Runs once for every new connection (reconnects of the same connection keep their subscriptions). */
export type ConnectionHook = (nc: NatsConnection) => void | Promise<void>;

// With nothing to do the loop still looks at the outbox now and then: a row written by a path
// that forgot to notify (or by another process on the same file) goes out anyway.
const IDLE_CHECK_MS = 5000;
// A publish that can never succeed: retrying would hold every later event back forever.
const PERMANENT = new Set<string>([ErrorCode.MaxPayloadExceeded, ErrorCode.BadSubject, ErrorCode.BadPayload]);

const errorText = (err: unknown) => (err instanceof Error ? err.message || String(err) : String(err));
const errorCode = (err: unknown) => (err as { code?: string }).code;

/**
 * Drains the outbox to JetStream in commit order (README "Uplink"). One loop does everything
 * (connect, make sure the streams exist, publish), so there is exactly one publisher and the order
 * on the wire is the order of the table. Nothing here may take the gateway down: while NATS is away
 * the outbox holds the events and the gateway stays ready.
 */
export class NatsUplink {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private connected = false;
  private streamsReady = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private lastError: string | undefined;
  private failures = 0;
  private readonly hooks = { connected: [] as ConnectionHook[], streams: [] as ConnectionHook[] };
  private readonly hooked = new WeakSet<NatsConnection>();
  /** New events, a reconnection or stop(). */
  private readonly work = new Wakeup();
  /** Cuts a backoff short: a reconnection or stop(). */
  private readonly interrupt = new Wakeup();
  private readonly limiter: LogLimiter;
  private readonly published: Counter;
  private readonly errors: Counter;
  private readonly dropped: Counter;
  private readonly timeoutMs: number;
  private readonly backoff: { minMs: number; maxMs: number };

  constructor(private readonly o: NatsUplinkOptions) {
    this.timeoutMs = o.publishTimeoutMs ?? 5000;
    this.backoff = o.backoff ?? { minMs: 200, maxMs: 5000 };
    this.limiter = new LogLimiter(o.clock, 60_000);
    const m = o.metrics;
    this.published = m.counter(
      'vigie_uplink_published_total',
      'Events acknowledged by JetStream (replays included)',
    );
    this.errors = m.counter(
      'vigie_uplink_publish_errors_total',
      'Uplink failures by stage (connect, streams, publish...)',
    );
    this.dropped = m.counter(
      'vigie_uplink_dropped_total',
      'Events JetStream can never accept (too large), dropped',
    );
    m.gauge('vigie_uplink_outbox_depth', 'Events waiting in the outbox', () => [[{}, o.outbox.depth()]]);
    m.gauge('vigie_uplink_outbox_oldest_age_seconds', 'Age of the oldest event waiting in the outbox', () => [
      [{}, o.outbox.oldestAge(o.clock.now()) / 1000],
    ]);
    m.gauge('vigie_uplink_connected', '1 while connected to NATS', () => [[{}, this.connected ? 1 : 0]]);
  }

  /**
   * `hook` runs for each new connection: at once (`connected`: core NATS needs nothing more), or
   * once the streams exist (`streams`: a JetStream consumer).
   */
  onConnection(hook: ConnectionHook, when: 'connected' | 'streams' = 'connected'): void {
    this.hooks[when].push(hook);
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Events were committed: publish them now rather than at the next check. */
  notify(): void {
    this.work.fire();
  }

  status(): UplinkStatus {
    const s: UplinkStatus = {
      connected: this.connected,
      depth: this.o.outbox.depth(),
      oldestAgeMs: this.o.outbox.oldestAge(this.o.clock.now()),
    };
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  /**
   * A core NATS publish on the uplink's connection, outside the outbox: for messages that are
   * worthless late (the heartbeat). False while disconnected, where the client would otherwise
   * buffer it and send it after the reconnection.
   */
  publishCore(subject: string, data: Uint8Array): boolean {
    const nc = this.nc;
    if (!nc || !this.connected || nc.isClosed() || nc.isDraining()) return false;
    try {
      nc.publish(subject, data);
      return true;
    } catch (err) {
      this.fail('core-publish', err, { subject });
      return false;
    }
  }

  /** Lets the batch in flight settle (its acknowledged events are removed), then closes the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.work.fire();
    this.interrupt.fire();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const next = await this.step();
        if (next === 'idle') await this.work.wait(IDLE_CHECK_MS);
        else if (next === 'failed') await this.interrupt.wait(this.nextBackoff());
        else if (next === 'disconnected') await this.work.wait(IDLE_CHECK_MS);
      } catch (err) {
        // step() catches what it expects; this is the last line that keeps the loop alive.
        this.fail('uplink', err);
        await this.interrupt.wait(this.nextBackoff());
      }
    }
    await this.close();
  }

  private async step(): Promise<'idle' | 'more' | 'failed' | 'disconnected'> {
    if (!this.nc) return (await this.connect()) ? 'more' : 'failed';
    if (!this.connected) return 'disconnected';
    if (!this.streamsReady) {
      if (!(await this.ensureStreams(this.nc))) return 'failed';
    }
    return this.publishBatch();
  }

  private async connect(): Promise<boolean> {
    const c = this.o.config;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: c.servers,
        user: c.user,
        pass: c.pass,
        token: c.token,
        name: `vigie-gateway-${this.o.site}`,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        // A silent network (no RST) is noticed within a minute, not the default four.
        pingInterval: 20_000,
        maxPingOut: 3,
        timeout: 5000,
        ...this.o.connectOptions,
      });
    } catch (err) {
      this.fail('connect', err);
      return false;
    }
    if (this.stopping) {
      await nc.close().catch(() => undefined);
      return false;
    }
    this.nc = nc;
    this.js = nc.jetstream();
    this.connected = true;
    this.streamsReady = false;
    this.lastError = undefined;
    this.o.logger.info('connected to NATS', { server: nc.getServer() });
    void this.watch(nc);
    await this.runHooks(nc, this.hooks.connected);
    return true;
  }

  /** Follows the connection: publishing pauses while it is away and resumes the moment it is back. */
  private async watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) {
          this.connected = false;
          this.logLimited('disconnect', 'warn', 'NATS connection lost: events wait in the outbox', {
            server: String(s.data),
          });
        } else if (s.type === Events.Reconnect) {
          this.connected = true;
          // The server may have come back without its store: check the streams again.
          this.streamsReady = false;
          this.failures = 0;
          this.o.logger.info('reconnected to NATS', { server: String(s.data) });
          this.work.fire();
          this.interrupt.fire();
        }
      }
    } catch (err) {
      this.fail('status', err);
    }
    const err = await nc.closed();
    if (this.nc === nc && !this.stopping) {
      // Closed by the client itself (repeated auth failures...): start over with a new connection.
      this.fail('closed', err ?? new Error('connection closed'));
      this.nc = undefined;
      this.js = undefined;
      this.connected = false;
      this.work.fire();
    }
  }

  private async ensureStreams(nc: NatsConnection): Promise<boolean> {
    const c = this.o.config;
    try {
      const jsm = await nc.jetstreamManager();
      for (const [name, subjects] of [
        [c.streams.events, STREAM_SUBJECTS.events],
        [c.streams.contactCenter, STREAM_SUBJECTS.contactCenter],
      ] as const) {
        const r = await ensureStream(jsm, name, subjects, c.duplicateWindow);
        if (r.created) this.o.logger.info('stream created', { stream: name, subjects });
        else if (!sameSubjects(r.subjects, subjects)) {
          this.logLimited(`subjects-${name}`, 'warn', 'stream exists with other subjects: left as it is', {
            stream: name,
            has: r.subjects,
            expected: subjects,
          });
        }
      }
    } catch (err) {
      this.fail('streams', err);
      return false;
    }
    await this.ensureGatewaysStream(nc);
    this.streamsReady = true;
    // Once per connection object: subscriptions and consumers survive its reconnects.
    if (!this.hooked.has(nc)) {
      this.hooked.add(nc);
      await this.runHooks(nc, this.hooks.streams);
    }
    return true;
  }

  /**
   * Best effort: without it heartbeats still reach live subscribers, only a router started later
   * cannot learn of a gateway already silent. So a failure (an operator's stream already capturing
   * `vigie.>`, which JetStream refuses to overlap) is logged and never holds the events back.
   */
  private async ensureGatewaysStream(nc: NatsConnection): Promise<void> {
    const c = this.o.config;
    const name = c.streams.gateways;
    try {
      const jsm = await nc.jetstreamManager();
      const r = await ensureStream(
        jsm,
        name,
        GATEWAYS_STREAM.subjects,
        c.duplicateWindow,
        GATEWAYS_STREAM.config,
      );
      if (r.created) this.o.logger.info('stream created', { stream: name, subjects: r.subjects });
    } catch (err) {
      this.errors.inc({ stage: 'streams' });
      this.logLimited(`stream-${name}`, 'warn', 'gateways stream not available: heartbeats are not kept', {
        stream: name,
        error: errorText(err),
      });
    }
  }

  private async runHooks(nc: NatsConnection, hooks: readonly ConnectionHook[]): Promise<void> {
    for (const hook of hooks) {
      try {
        await hook(nc);
      } catch (err) {
        this.fail('hook', err);
      }
    }
  }

  /**
   * Publishes up to `batch` of the oldest events, pipelined: JetStream keeps one connection's order,
   * so the stream stores them in table order. Only the acknowledged prefix is removed; from the first
   * failure on, everything is published again later (the duplicate window drops what did arrive).
   */
  private async publishBatch(): Promise<'idle' | 'more' | 'failed'> {
    const js = this.js;
    if (!js) return 'failed';
    const rows = this.o.outbox.peek(this.o.config.batch);
    if (rows.length === 0) return 'idle';
    const results = await Promise.allSettled(
      rows.map((r) =>
        js.publish(r.subject, Buffer.from(r.data, 'utf8'), { msgID: r.id, timeout: this.timeoutMs }),
      ),
    );
    let n = 0;
    while (n < rows.length && results[n].status === 'fulfilled') n++;
    const done = rows.slice(0, n).map((r) => r.seq);
    this.published.inc({}, n);
    if (n === rows.length) {
      this.o.outbox.remove(done);
      this.failures = 0;
      this.lastError = undefined;
      return 'more';
    }
    const reason = (results[n] as PromiseRejectedResult).reason;
    if (PERMANENT.has(errorCode(reason) ?? '')) {
      this.drop(rows[n], reason);
      this.o.outbox.remove([...done, rows[n].seq]);
      return 'more';
    }
    this.o.outbox.remove(done);
    // No stream captures the subject (somebody deleted it): check the streams again before retrying.
    if (errorCode(reason) === ErrorCode.NoResponders) this.streamsReady = false;
    this.o.outbox.markFailed(rows[n].seq, errorText(reason));
    this.fail('publish', reason, { event: rows[n].id, subject: rows[n].subject });
    return 'failed';
  }

  private drop(row: OutboxRow, err: unknown): void {
    this.dropped.inc();
    this.o.logger.error('event can never be published: dropped from the outbox', {
      event: row.id,
      subject: row.subject,
      bytes: row.data.length,
      error: errorText(err),
    });
  }

  private nextBackoff(): number {
    const { minMs, maxMs } = this.backoff;
    const ms = Math.min(maxMs, minMs * 2 ** Math.min(this.failures, 16));
    this.failures++;
    return ms;
  }

  private fail(what: string, err: unknown, fields: Record<string, unknown> = {}): void {
    this.errors.inc({ stage: what });
    this.lastError = `${what}: ${errorText(err)}`;
    this.logLimited(what, 'warn', `uplink ${what} failed`, { ...fields, error: errorText(err) });
  }

  private logLimited(
    key: string,
    level: 'warn' | 'error',
    msg: string,
    fields: Record<string, unknown>,
  ): void {
    const allowed = this.limiter.allow(key);
    if (allowed === false) return;
    this.o.logger[level](msg, allowed > 0 ? { ...fields, suppressed: allowed } : fields);
  }

  private async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    this.connected = false;
    if (!nc || nc.isClosed()) return;
    // drain() flushes what is buffered and lets subscriptions finish; a server that is away
    // would make it wait, so it gets a moment and then the connection is closed anyway.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      nc.drain().catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, 2000))),
    ]);
    clearTimeout(timer);
    if (!nc.isClosed()) await nc.close().catch(() => undefined);
  }
}
