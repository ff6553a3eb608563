import type { Logger } from '../core/log.js';
import { expandStep, type PlannedDelivery } from '../engage/recipients.js';
import type { EngageStep } from './rule-info.js';
import type { Site } from '../site/model.js';
import { newId } from './ids.js';
import type { Incident } from './model.js';
import { nextEscalation } from './open.js';
import { planFromRow } from './rows.js';
import type { EngagePlan } from './rule-info.js';
import type { IncidentStore } from './store.js';

/**
 * Who one step reaches when it runs at `at`: deliveries, and the people left out with why (quiet
 * hours, nobody on call). The gateway passes one that knows rotations and preferences.
 */
export type StepResolver = (
  step: EngageStep,
  incident: Incident,
  at: number,
) => { planned: PlannedDelivery[]; skipped: { who: string; reason: string }[] };

/**
 * Escalation of one incident: step 0 when it opens, each later step when its row falls due, the
 * last step again per `repeat`. Runs inside the caller's transaction, so a step's deliveries, the
 * incident's new step and the next due time are committed together (a step is never sent twice).
 */
export class Escalator {
  constructor(
    private readonly store: IncidentStore,
    private readonly site: Site,
    private readonly logger: Logger,
    private readonly consoles: ReadonlySet<string>,
    private readonly resolver?: StepResolver,
  ) {}

  /**
   * Runs step 0 of a new incident and schedules what follows; returns the deliveries created.
   * `startAt` later than `now` holds the first step back (a grouped alert waits for its group).
   */
  start(i: Incident, plan: EngagePlan, now: number, startAt = now): number {
    if (plan.steps.length === 0) return 0;
    const sent = this.runStep(i, plan, 0, now, startAt);
    this.schedule(i.id, plan, 0, plan.repeat?.times ?? 0, startAt);
    return sent;
  }

  /** Runs the step due for `incidentId`; returns the incident after it, or undefined when nothing ran. */
  run(incidentId: string, now: number): Incident | undefined {
    const row = this.store.getEscalation(incidentId);
    if (!row || row.due_at > now) return undefined;
    const i = this.store.getIncident(incidentId);
    const plan = planFromRow(row);
    // Acknowledge, clear and resolve delete the row; this guards against a row left behind anyway.
    if (!i || i.state !== 'open' || row.next_step >= plan.steps.length) {
      this.store.deleteEscalation(incidentId);
      return undefined;
    }
    const step = row.next_step;
    // Only `repeat` runs a step the incident has already reached (or, for a policy, an earlier one).
    const repeat = step <= i.escalationStep;
    const sent = this.runStep(i, plan, step, now);
    i.escalationStep = step;
    i.updatedAt = now;
    this.store.updateIncident(i);
    this.store.appendTimeline({
      incidentId,
      at: now,
      kind: 'escalated',
      actor: 'system',
      detail: { step, repeat, deliveries: sent },
    });
    this.schedule(i.id, plan, step, row.repeats_left, now);
    return i;
  }

  stop(incidentId: string): void {
    this.store.deleteEscalation(incidentId);
  }

  private runStep(i: Incident, plan: EngagePlan, step: number, now: number, due = now): number {
    const { planned, skipped } = this.resolve(plan.steps[step], i, now);
    for (const p of planned) {
      this.store.insertDelivery({
        id: newId('dlv_', now),
        incidentId: i.id,
        step,
        channel: p.channel,
        recipient: p.recipient,
        at: now,
        due,
      });
    }
    if (skipped.length > 0) {
      this.store.appendTimeline({
        incidentId: i.id,
        at: now,
        kind: 'note',
        actor: 'system',
        detail: { text: 'left out of this step', step, skipped },
      });
    }
    return planned.length;
  }

  private resolve(step: EngageStep, i: Incident, now: number): ReturnType<StepResolver> {
    if (this.resolver) return this.resolver(step, i, now);
    const planned = expandStep(this.site, step, {
      isConsole: (c) => this.consoles.has(c),
      onUnknown: (entry) =>
        this.logger.warn('escalation names nobody in the site file', { incident: i.id, entry }),
    });
    return { planned, skipped: [] };
  }

  private schedule(
    incidentId: string,
    plan: EngagePlan,
    step: number,
    repeatsLeft: number,
    now: number,
  ): void {
    const next = nextEscalation(plan, step, repeatsLeft, now);
    if (next) this.store.setEscalation({ incidentId, plan, ...next });
    else this.store.deleteEscalation(incidentId);
  }
}
