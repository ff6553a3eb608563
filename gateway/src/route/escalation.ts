import type { Logger } from '../core/log.js';
import { expandStep } from '../engage/recipients.js';
import type { Site } from '../site/model.js';
import { newId } from './ids.js';
import type { Incident } from './model.js';
import { nextEscalation } from './open.js';
import { planFromRow } from './rows.js';
import type { EngagePlan } from './rule-info.js';
import type { IncidentStore } from './store.js';

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
  ) {}

  /** Runs step 0 of a new incident and schedules what follows; returns the deliveries created. */
  start(i: Incident, plan: EngagePlan, now: number): number {
    if (plan.steps.length === 0) return 0;
    const sent = this.runStep(i, plan, 0, now);
    this.schedule(i.id, plan, 0, plan.repeat?.times ?? 0, now);
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
    // Only `repeat` runs a step that the incident has already reached.
    const repeat = step === i.escalationStep;
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

  private runStep(i: Incident, plan: EngagePlan, step: number, now: number): number {
    const planned = expandStep(this.site, plan.steps[step], {
      isConsole: (c) => this.consoles.has(c),
      onUnknown: (entry) =>
        this.logger.warn('escalation names nobody in the site file', { incident: i.id, entry }),
    });
    for (const p of planned) {
      this.store.insertDelivery({
        id: newId('dlv_', now),
        incidentId: i.id,
        step,
        channel: p.channel,
        recipient: p.recipient,
        at: now,
      });
    }
    return planned.length;
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
