import { Registry, type Counter } from '../../gateway/src/core/metrics.js';
import type { QueueConfig } from './config.js';
import { queueView, type KpiTracker, type SiteKpis } from './kpis.js';
import type { DurationSummary } from './stats.js';

export type WorkItemOutcome = 'assigned' | 'fallback' | 'duplicate' | 'malformed' | 'failed';

/** What /metrics serves: this instance's own counters, and the KPIs every instance shares. */
export class RouterMetrics {
  readonly registry = new Registry();
  /** outcome: assigned, fallback (no queue had the skill), duplicate (assigned before a redelivery), malformed, failed. */
  readonly workItems: Counter;
  readonly assignments: Counter;
  readonly outcomes: Counter;
  /** Work items that came back after an instance died or was too slow to acknowledge them. */
  readonly redelivered: Counter;
  /** Work items on the shared consumer not delivered yet, and delivered but not acknowledged. */
  consumer = { pending: 0, ackPending: 0 };
  /** Gateway silences this instance raised first (the others' copies were duplicates), by site. */
  readonly gatewaySilences: Counter;
  /** Ends of a silence this instance announced first, by site. */
  readonly gatewayBacks: Counter;
  /** Gateways by state, set by the gateway watch (none known while it is off). */
  gatewayStates: () => Record<'up' | 'silent', number> = () => ({ up: 0, silent: 0 });

  constructor(kpis: KpiTracker, queues: readonly QueueConfig[]) {
    const r = this.registry;
    this.workItems = r.counter(
      'router_work_items_total',
      'Work items this instance took, by site and outcome.',
    );
    this.assignments = r.counter(
      'router_assignments_total',
      'Assignments this instance published, by site and queue.',
    );
    this.outcomes = r.counter(
      'router_outcomes_total',
      'Outcomes recorded through this instance, by site and outcome.',
    );
    this.redelivered = r.counter(
      'router_work_items_redelivered_total',
      'Work items this instance received again after a delivery that was not acknowledged.',
    );
    this.gatewaySilences = r.counter(
      'router_gateway_silences_total',
      'Gateway silences this instance raised as a work item, by site.',
    );
    this.gatewayBacks = r.counter(
      'router_gateway_back_total',
      'Gateways heard again after a raised silence, announced by this instance, by site.',
    );
    r.gauge('router_gateways', 'Gateways known from their heartbeats, by state (up, silent).', () =>
      Object.entries(this.gatewayStates()).map(([state, n]) => [{ state }, n]),
    );
    r.gauge('router_consumer_pending', 'Work items waiting in the shared durable consumer.', () => [
      [{}, this.consumer.pending],
    ]);
    r.gauge(
      'router_consumer_ack_pending',
      'Work items delivered to a router and not acknowledged yet.',
      () => [[{}, this.consumer.ackPending]],
    );
    const times: [string, keyof SiteKpis, string][] = [
      ['acknowledge', 'timeToAcknowledge', 'acknowledged'],
      ['dispatch', 'timeToDispatch', 'job accepted by a technician'],
      ['resolve', 'timeToResolve', 'resolved'],
    ];
    for (const [name, key, until] of times) {
      r.gauge(
        `router_kpi_time_to_${name}_seconds`,
        `Incident opened to ${until}, by site (stat: mean, p50, p90).`,
        () => kpis.all().flatMap((s) => statSeries(s.site, s[key] as DurationSummary)),
      );
      r.gauge(`router_kpi_time_to_${name}_count`, `Incidents measured for time to ${name}, by site.`, () =>
        kpis.all().map((s) => [{ site: s.site }, (s[key] as DurationSummary).count]),
      );
    }
    const perSite = (name: string, help: string, pick: (s: SiteKpis) => number | null) =>
      r.gauge(name, help, () =>
        kpis.all().flatMap((s) => {
          const v = pick(s);
          return v === null ? [] : [[{ site: s.site }, v] as [Record<string, string>, number]];
        }),
      );
    perSite(
      'router_kpi_first_contact_resolution_ratio',
      'Work items resolved at first contact.',
      (s) => s.firstContactResolutionRate,
    );
    perSite('router_kpi_transfer_ratio', 'Work items transferred at least once.', (s) => s.transferRate);
    perSite('router_kpi_work_items', 'Work items seen in the stream.', (s) => s.workItems);
    perSite(
      'router_kpi_reopened',
      'Work items re-opened by a new one for the same device or customer.',
      (s) => s.reopened,
    );
    r.gauge('router_queue_open', 'Open assignments per queue.', () =>
      queueView(queues, kpis).map((q) => [{ queue: q.id }, q.open]),
    );
    r.gauge('router_queue_estimated_wait_seconds', 'Estimated wait for a new case, per queue.', () =>
      queueView(queues, kpis).map((q) => [{ queue: q.id }, q.estimatedWaitSec]),
    );
  }

  render(): string {
    return this.registry.render();
  }
}

function statSeries(site: string, d: DurationSummary): [Record<string, string>, number][] {
  const out: [Record<string, string>, number][] = [];
  if (d.meanSec !== null) out.push([{ site, stat: 'mean' }, d.meanSec]);
  if (d.p50Sec !== null) out.push([{ site, stat: 'p50' }, d.p50Sec]);
  if (d.p90Sec !== null) out.push([{ site, stat: 'p90' }, d.p90Sec]);
  return out;
}
