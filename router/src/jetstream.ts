import {
  AckPolicy,
  consumerOpts,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamSubscription,
  type JsMsg,
} from 'nats';
import type { Logger } from '../../gateway/src/core/log.js';
import type { RouterConfig } from './config.js';

/** Work items, as the durable consumer filters them (every site). */
export const WORK_ITEM_FILTER = 'cc.interactions.>';
const FOLLOW_HEARTBEAT_MS = 2_000;

function isNotFound(err: unknown): boolean {
  return (err as { code?: string })?.code === '404';
}

/**
 * Creates the stream when it is missing and leaves it alone when it exists: the gateway may have
 * made it first, with its own limits. Two starters racing both try; the loser finds it made.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: readonly string[],
  duplicateWindowMs: number,
  log: Logger,
): Promise<'created' | 'present'> {
  try {
    const info = await jsm.streams.info(name);
    const missing = subjects.filter((s) => !info.config.subjects?.includes(s));
    if (missing.length > 0) log.warn('stream lacks subjects the router uses', { stream: name, missing });
    return 'present';
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await jsm.streams.add({ name, subjects: [...subjects], duplicate_window: nanos(duplicateWindowMs) });
    log.info('stream created', { stream: name, subjects });
    return 'created';
  } catch (err) {
    await jsm.streams.info(name).catch(() => Promise.reject(err));
    return 'present';
  }
}

export function deliverSubject(c: RouterConfig['consumer']): string {
  return c.deliverSubject ?? `_VIGIE_ROUTER.${c.durable}`;
}

/**
 * The one durable push consumer all instances share. Its deliver subject is fixed rather than a
 * fresh inbox: two instances that both find it missing would otherwise each create it with their
 * own inbox, and the second would silently move delivery away from the first. Adding the same
 * config twice is a no-op on the server; a changed ackWait or maxDeliver updates it.
 */
export async function ensureWorkConsumer(jsm: JetStreamManager, stream: string, c: RouterConfig['consumer']) {
  const config: Partial<ConsumerConfig> = {
    durable_name: c.durable,
    deliver_subject: deliverSubject(c),
    deliver_group: c.queue,
    filter_subject: WORK_ITEM_FILTER,
    deliver_policy: DeliverPolicy.All,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(c.ackWait),
    max_deliver: c.maxDeliver,
    max_ack_pending: c.maxAckPending,
  };
  try {
    return await jsm.consumers.add(stream, config);
  } catch (err) {
    return jsm.consumers.info(stream, c.durable).catch(() => Promise.reject(err));
  }
}

/** Joins the queue group on the shared durable: each work item reaches one instance. */
export function bindWorkItems(
  js: JetStreamClient,
  stream: string,
  c: RouterConfig['consumer'],
): Promise<JetStreamSubscription> {
  const opts = consumerOpts();
  opts.bind(stream, c.durable);
  opts.queue(c.queue);
  opts.manualAck();
  return js.subscribe(WORK_ITEM_FILTER, opts);
}

/**
 * Reads a whole stream from its first message and then follows it, in order, through an ordered
 * consumer (ephemeral, no acks; the client re-creates it past a gap or a reconnect).
 */
export async function followStream(
  js: JetStreamClient,
  stream: string,
  onMessage: (m: JsMsg) => void,
  log: Logger,
): Promise<JetStreamSubscription> {
  const opts = consumerOpts();
  opts.orderedConsumer();
  opts.bindStream(stream);
  opts.deliverAll();
  // The ordered consumer lives in the server's memory: after a server restart the client only
  // notices it is gone when heartbeats stop, so they come every 2 s instead of the default 5 s.
  opts.idleHeartbeat(FOLLOW_HEARTBEAT_MS);
  const sub = await js.subscribe('>', opts);
  void (async () => {
    try {
      for await (const m of sub) onMessage(m);
    } catch (err) {
      log.error('stream follower stopped', { stream, error: (err as Error).message });
    }
  })();
  return sub;
}

/** The stream's last sequence now: a follower that reached it has caught up. */
export async function lastSequence(jsm: JetStreamManager, stream: string): Promise<number> {
  const info = await jsm.streams.info(stream);
  return info.state.last_seq;
}
