import type { Database } from 'better-sqlite3';
import type { TokenAuth } from '../../api/auth.js';
import type { UplinkConfig } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import { VigieError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Registry } from '../../core/metrics.js';
import type { IncidentChange, IncidentService } from '../incidents.js';
import type { Incident } from '../model.js';
import { AssignmentConsumer } from './assignments.js';
import { CommandResponder } from './commands.js';
import { isSubjectToken } from './events.js';
import { incidentRecorder } from './incident-events.js';
import { NatsUplink, type NatsUplinkOptions, type UplinkStatus } from './nats-uplink.js';
import { Outbox } from './outbox.js';

export { AssignmentConsumer, type AssignmentData } from './assignments.js';
export { CommandResponder, type CommandReply, COMMAND_VERBS, MAX_COMMAND_BYTES } from './commands.js';
export * from './events.js';
export { incidentEvent, incidentRecorder, type IncidentEventData } from './incident-events.js';
export { NatsUplink, type UplinkStatus } from './nats-uplink.js';
export { Outbox, type OutboxRow } from './outbox.js';
export { GATEWAYS_STREAM } from './streams.js';

export interface UplinkDeps {
  db: Database;
  /** The site id: a subject token of every subject. */
  site: string;
  incidents: Pick<IncidentService, 'acknowledge' | 'resolve' | 'addNote' | 'annotate' | 'get'>;
  auth: TokenAuth;
  metrics: Registry;
  logger: Logger;
  clock: Clock;
  /** An assignment from the router was applied (after its commit). */
  onAssignment?: (incident: Incident) => void;
  /** For tests: publish timeout, backoff, connection options. */
  tuning?: Pick<NatsUplinkOptions, 'publishTimeoutMs' | 'backoff' | 'connectOptions'> & {
    retryDelayMs?: number;
  };
}

export interface Uplink {
  /** For other writers of uplink events (jobs, work items): `append` inside their transaction. */
  outbox: Outbox;
  /** For `IncidentService.addRecorder`. */
  recorder: (changes: readonly IncidentChange[], now: number) => void;
  start(): void;
  stop(): Promise<void>;
  /** Publish now what was just committed (appending already does it; harmless to call again). */
  notify(): void;
  status(): UplinkStatus;
  /** A core NATS message now, not through the outbox (the heartbeat); false while disconnected. */
  publishCore(subject: string, data: Uint8Array): boolean;
}

/**
 * The contact-center uplink (issue 4 item 4): the outbox and its publisher, the commands the
 * contact center sends back and the router's assignments.
 */
export function createUplink(config: UplinkConfig, deps: UplinkDeps): Uplink {
  if (!isSubjectToken(deps.site)) {
    throw new VigieError('VIGIE_ERR_SITE_INVALID', `site id "${deps.site}" cannot be a NATS subject token`);
  }
  const logger = deps.logger.child('uplink');
  const { retryDelayMs, ...tuning } = deps.tuning ?? {};
  // The publisher runs on a later tick than the (synchronous) transaction that appends, so waking
  // it from inside the transaction is safe: it reads the outbox once the commit is done.
  const outbox = new Outbox(deps.db, deps.clock, () => nats.notify());
  const nats = new NatsUplink({
    config,
    site: deps.site,
    outbox,
    metrics: deps.metrics,
    logger,
    clock: deps.clock,
    ...tuning,
  });
  const assignments = new AssignmentConsumer({
    db: deps.db,
    site: deps.site,
    stream: config.streams.contactCenter,
    incidents: deps.incidents,
    metrics: deps.metrics,
    logger,
    clock: deps.clock,
    onApplied: deps.onAssignment,
    retryDelayMs,
  });
  const commands = config.commands
    ? new CommandResponder({
        site: deps.site,
        incidents: deps.incidents,
        auth: deps.auth,
        metrics: deps.metrics,
        logger,
        clock: deps.clock,
      })
    : undefined;
  if (commands) nats.onConnection((nc) => void commands.subscribe(nc));
  nats.onConnection((nc) => assignments.start(nc), 'streams');
  return {
    outbox,
    recorder: incidentRecorder(outbox, deps.site),
    start: () => nats.start(),
    async stop() {
      await assignments.stop();
      await nats.stop();
    },
    notify: () => nats.notify(),
    status: () => nats.status(),
    publishCore: (subject, data) => nats.publishCore(subject, data),
  };
}
