import type { QueueConfig, RouterConfig } from './config.js';
import { assignmentId, type AssignmentData, type Tier, type WorkItem } from './model.js';

/*
 * The five routing questions (issue 4, item 5) as one pure function: who is this (identification),
 * how much do they matter (segmentation), what do they need (objective), who should take it
 * (routing). The fifth, execution, is the service publishing the result.
 */

export type RoutingPolicy = Pick<
  RouterConfig,
  | 'queues'
  | 'technicianPools'
  | 'segments'
  | 'intents'
  | 'fallbackQueue'
  | 'callbackAboveSec'
  | 'reopenWindow'
>;

/** Open assignments per queue id, as every instance sees them in the stream. */
export type QueueLoad = (queueId: string) => number;

export interface RoutingContext {
  instance: string;
  now: number;
}

export interface Routed {
  assignment: AssignmentData;
  /** No queue has the skill: the fallback queue took it. */
  fallback: boolean;
}

/** A job whose technician is still on it (not declined, expired or taken back). */
const LIVE_JOB_STATES = new Set(['offered', 'accepted', 'enroute', 'arrived', 'resolved', 'survey']);

export function identify(w: WorkItem, reopenWindowMs: number): AssignmentData['identification'] {
  const past = w.history.filter((h) => h.incidentId !== w.incident.id);
  const since = w.incident.openedAt - reopenWindowMs;
  const out: AssignmentData['identification'] = {
    deviceId: w.device.id,
    pastIncidents: past.length,
    recentRepeat: past.some((h) => h.openedAt >= since && h.openedAt <= w.incident.openedAt),
  };
  if (w.customer) {
    out.customerId = w.customer.id;
    out.customerName = w.customer.name;
  }
  return out;
}

export function segment(w: WorkItem, segments: RoutingPolicy['segments']): AssignmentData['segment'] {
  const c = w.customer;
  const contract = c?.contract?.toLowerCase();
  const lower = (xs: readonly string[]) => xs.map((x) => x.toLowerCase());
  let tier: Tier = 'basic';
  if (contract !== undefined && lower(segments.premium).includes(contract)) tier = 'premium';
  else if (contract !== undefined && lower(segments.standard).includes(contract)) tier = 'standard';
  if (
    c?.value !== undefined &&
    segments.premiumValueAbove !== undefined &&
    c.value >= segments.premiumValueAbove
  )
    tier = 'premium';
  return c?.value !== undefined ? { tier, value: c.value } : { tier };
}

/** The fault code says most, then the rule, then the kind of device. */
export function objective(w: WorkItem, intents: RoutingPolicy['intents']): AssignmentData['objective'] {
  const keys = [w.intent.faultCode, w.intent.rule, w.intent.category, 'default'];
  for (const k of keys) {
    if (k === undefined || !Object.hasOwn(intents, k)) continue;
    return { ...intents[k] };
  }
  return { intent: w.intent.rule, skill: 'general' };
}

/** Backlog shared among the agents, times the time one case takes. */
export function estimateWaitSec(q: QueueConfig, open: number): number {
  return Math.round((Math.max(0, open) / q.agents) * q.avgHandleSec);
}

/**
 * Among the queues with the skill that serve the tier, those that name the tier come first; then
 * the shortest estimated wait; then the order of the configuration.
 */
export function chooseQueue(
  skill: string,
  tier: Tier,
  policy: RoutingPolicy,
  load: QueueLoad,
): { queue: QueueConfig; waitSec: number; fallback: boolean } {
  const eligible = policy.queues.filter(
    (q) => q.skills.includes(skill) && (!q.tiers || q.tiers.includes(tier)),
  );
  const preferred = eligible.filter((q) => q.tiers?.includes(tier));
  const candidates = preferred.length > 0 ? preferred : eligible;
  let best: { queue: QueueConfig; waitSec: number } | undefined;
  for (const q of candidates) {
    const waitSec = estimateWaitSec(q, load(q.id));
    if (!best || waitSec < best.waitSec) best = { queue: q, waitSec };
  }
  if (best) return { ...best, fallback: false };
  const queue = policy.queues.find((q) => q.id === policy.fallbackQueue) ?? policy.queues[0];
  return { queue, waitSec: estimateWaitSec(queue, load(queue.id)), fallback: true };
}

/** The pool whose skills cover the job's (or else the objective's); the first that fits. */
export function technicianPool(
  w: WorkItem,
  skill: string,
  pools: RoutingPolicy['technicianPools'],
): string | undefined {
  const job = w.job;
  if (!job?.technician || !LIVE_JOB_STATES.has(job.state)) return undefined;
  const needed = job.skills.length > 0 ? job.skills : [skill];
  const covers = pools.find((p) => needed.every((s) => p.skills.includes(s)));
  return (covers ?? pools.find((p) => needed.some((s) => p.skills.includes(s))))?.id;
}

export function route(w: WorkItem, load: QueueLoad, policy: RoutingPolicy, ctx: RoutingContext): Routed {
  const identification = identify(w, policy.reopenWindow);
  const seg = segment(w, policy.segments);
  const obj = objective(w, policy.intents);
  const chosen = chooseQueue(obj.skill, seg.tier, policy, load);
  const pool = technicianPool(w, obj.skill, policy.technicianPools);
  return {
    fallback: chosen.fallback,
    assignment: {
      assignmentId: assignmentId(w.workItemId),
      workItemId: w.workItemId,
      incidentId: w.incident.id,
      site: w.site,
      identification,
      segment: seg,
      objective: obj,
      queue: chosen.queue.id,
      resource: pool ? { kind: 'technician-pool', id: pool } : { kind: 'agent-queue', id: chosen.queue.id },
      estimatedWaitSec: chosen.waitSec,
      callbackOffered: chosen.waitSec > policy.callbackAboveSec,
      routedBy: ctx.instance,
      at: ctx.now,
    },
  };
}

/** The agent sent the case on: same case, new queue, its own wait. `n` counts the transfers. */
export function transfer(
  prev: AssignmentData,
  toQueue: QueueConfig,
  n: number,
  load: QueueLoad,
  policy: Pick<RoutingPolicy, 'callbackAboveSec'>,
  ctx: RoutingContext,
): AssignmentData {
  const waitSec = estimateWaitSec(toQueue, load(toQueue.id));
  return {
    ...prev,
    assignmentId: assignmentId(prev.workItemId, n),
    queue: toQueue.id,
    resource: { kind: 'agent-queue', id: toQueue.id },
    estimatedWaitSec: waitSec,
    callbackOffered: waitSec > policy.callbackAboveSec,
    routedBy: ctx.instance,
    at: ctx.now,
  };
}
