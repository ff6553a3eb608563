import type { Database } from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import { NotFoundError, VigieError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { ServiceMessages } from '../../engage/service-messages.js';
import type { DispatchProfile, Language, Site } from '../../site/model.js';
import type { CustomerRecord } from '../crm/crm.js';
import { newId } from '../ids.js';
import type { IncidentService } from '../incidents.js';
import type { Incident } from '../model.js';
import { cloudEvent, subjects, type CloudEvent, type JobEventKind } from '../uplink/events.js';
import { chooseCandidates, onShift, type Exclusion } from './choose.js';
import { linkSigner, type LinkSigner } from './links.js';
import type { UnassignedWhy } from './messages.js';
import {
  nextState,
  type Job,
  type JobState,
  type JobSummary,
  type Offer,
  type TechnicianAction,
} from './model.js';
import { JobNotifier, type TechnicianContact } from './notify.js';
import { PAGE_TEXT, type Refusal } from './page-text.js';
import { jobSpec } from './spec.js';
import { JobStore } from './store.js';
import {
  jobPage,
  summarize,
  surveyPage,
  type JobPage,
  type SurveyPage,
  type TechnicianView,
} from './views.js';

export type { JobPage, SurveyPage, TechnicianView } from './views.js';

export interface JobServiceOptions {
  db: Database;
  clock: Clock;
  site: Site;
  logger: Logger;
  incidents: Pick<IncidentService, 'annotate' | 'get' | 'resolve'>;
  messages: ServiceMessages;
  /** The uplink outbox: called inside the transaction of every job change. */
  emit?: (e: { subject: string; event: CloudEvent; incidentId: string }) => void;
  /** http.publicUrl: links are `${linkBase}/j/TOKEN` and `${linkBase}/s/TOKEN`. */
  linkBase: string;
  /** config dispatch.linkTtl. */
  linkTtlMs: number;
  /**
   * After a change is committed (not when `create` nests in the caller's transaction: the caller
   * knows when it commits): wake the delivery worker and the uplink, and re-arm `runDue` at `nextDue()`.
   */
  committed?: () => void;
  /** Tests: a signer with a known key instead of the one kept in the database. */
  links?: LinkSigner;
}

/** `message` is what to tell the person, in `language` (theirs, else the site's). */
export type ActResult =
  | { ok: true; changed: boolean; job: JobSummary; message: string; language: Language }
  | { ok: false; reason: Refusal; message: string; language: Language; job?: JobSummary };

type Refused = Extract<ActResult, { ok: false }>;

const TARGET: Partial<Record<TechnicianAction, JobState>> = {
  enroute: 'enroute',
  arrived: 'arrived',
  resolved: 'resolved',
};

/**
 * Technician jobs (README "Technician dispatch"): the nearest fitting technician is offered the job
 * by SMS with a signed link; no answer in time or a decline offers it to the next; nobody left tells
 * the dispatcher team. Every change is one transaction holding the job rows, the incident timeline
 * entry and context, the uplink event and the messages to send, so a crash keeps all or none of it.
 */
export class JobService {
  private readonly db: Database;
  private readonly store: JobStore;
  private readonly links: LinkSigner;
  private readonly notify: JobNotifier;
  private readonly source: string;

  constructor(private readonly o: JobServiceOptions) {
    this.db = o.db;
    this.store = new JobStore(o.db);
    this.links = o.links ?? linkSigner(o.db, o.linkTtlMs);
    this.source = `vigie://${o.site.id}/gateway`;
    this.notify = new JobNotifier({
      site: o.site,
      messages: o.messages,
      incidents: o.incidents,
      links: this.links,
      linkBase: o.linkBase.replace(/\/+$/, ''),
    });
  }

  /**
   * Starts the job of an incident (once: a second call returns the first job) and offers it. Nests
   * in the caller's transaction. Undefined when the profile is not in the site file (any more): the
   * timeline says so, and nothing is retried.
   */
  create(incident: Incident, profileId: string, customer?: CustomerRecord): JobSummary | undefined {
    const nested = this.db.inTransaction;
    const out = this.db.transaction(() => {
      const existing = this.store.byIncident(incident.id);
      if (existing) return { summary: this.summarize(existing), changed: false };
      const profile = this.profile(profileId);
      if (!profile) {
        this.o.logger.warn('rule names a dispatch profile the site does not have: no technician sent', {
          incident: incident.id,
          profile: profileId,
        });
        this.o.incidents.annotate(incident.id, {
          kind: 'job',
          actor: 'system',
          detail: { error: `no dispatch profile "${profileId}" in the site file` },
        });
        return { summary: undefined, changed: true };
      }
      const now = this.o.clock.now();
      const { spec, known } = jobSpec(this.o.site, incident, profile, customer);
      const job: Job = {
        id: newId('job_', now),
        incidentId: incident.id,
        profile: profile.id,
        state: known ? 'offered' : 'unassigned',
        spec,
        createdAt: now,
        updatedAt: now,
      };
      this.store.insertJob(job);
      if (known) this.offerNext(job, profile, now);
      else this.unassign(job, profile, 'code', now, []);
      return { summary: this.summarize(job), changed: true };
    })();
    if (!nested && out.changed) this.o.committed?.();
    return out.summary;
  }

  /** A tap on the technician's page. Refusals change nothing and say why in the technician's language. */
  act(token: string, action: TechnicianAction, now = this.o.clock.now()): ActResult {
    const link = this.links.verify('job', token, now);
    if (!link.ok) return this.refuse('not-found', this.notify.lang(undefined));
    let resolvedBy: string | undefined;
    const result = this.db.transaction((): ActResult => {
      const offer = this.store.offer(link.id);
      const job = offer && this.store.job(offer.jobId);
      if (!offer || !job) return this.refuse('not-found', this.notify.lang(undefined));
      const tech = this.contact(offer.technicianId);
      const lang = this.notify.lang(tech.language);
      const mine = job.offerId === offer.id;
      const done = (changed: boolean): ActResult => ({
        ok: true,
        changed,
        job: this.summarize(job),
        message: PAGE_TEXT[lang].done[action],
        language: lang,
      });
      const refuse = (reason: Refusal) => this.refuse(reason, lang, job);
      if (action === 'accept' || action === 'decline') {
        if (offer.state === 'pending' && mine && job.state === 'offered') {
          if (now >= offer.expiresAt) return refuse('expired');
          if (action === 'accept') this.accept(job, offer, tech, now);
          else this.decline(job, offer, tech, now);
          return done(true);
        }
        // The same button twice (a double tap, a reload): the first one counted.
        if (offer.state === (action === 'accept' ? 'accepted' : 'declined')) return done(false);
        if (offer.state === 'accepted') return refuse('wrong-state');
        return refuse(offer.state === 'declined' ? 'superseded' : 'expired');
      }
      if (offer.state !== 'accepted' || !mine) {
        if (offer.state === 'pending' && mine) return refuse('wrong-state');
        return refuse(offer.state === 'expired' || offer.state === 'pending' ? 'expired' : 'superseded');
      }
      if (job.state === TARGET[action]) return done(false);
      const to = nextState(job.state, action);
      if (!to) return refuse('wrong-state');
      this.progress(job, to, tech, now);
      if (to === 'resolved') resolvedBy = tech.id;
      return done(true);
    })();
    if (result.ok && result.changed) {
      if (resolvedBy !== undefined) this.resolveIncident(result.job.incidentId, resolvedBy);
      this.o.committed?.();
    }
    return result;
  }

  /** The customer's answer to the survey (1..5); one answer per job. */
  survey(token: string, score: number, now = this.o.clock.now()): ActResult {
    const link = this.links.verify('survey', token, now);
    if (!link.ok) return this.refuse('not-found', this.notify.lang(undefined));
    const result = this.db.transaction((): ActResult => {
      const job = this.store.job(link.id);
      if (!job) return this.refuse('not-found', this.notify.lang(undefined));
      const lang = this.notify.lang(job.spec.customer?.language);
      if (job.surveyScore !== undefined) return this.refuse('answered', lang, job);
      if (!Number.isInteger(score) || score < 1 || score > 5) return this.refuse('invalid', lang, job);
      if (job.state !== 'resolved') return this.refuse('wrong-state', lang, job);
      job.surveyScore = score;
      job.surveyedAt = now;
      job.updatedAt = now;
      this.store.updateJob(job);
      const summary = this.summarize(job);
      const c = job.spec.customer;
      this.o.incidents.annotate(
        job.incidentId,
        {
          kind: 'customer',
          actor: c ? `customer:${c.id}` : 'customer',
          detail: { survey: score, job: job.id },
          at: now,
        },
        { survey: { score, at: now, job: job.id }, job: summary },
      );
      this.emit(job, 'survey', summary, now);
      return { ok: true, changed: true, job: summary, message: PAGE_TEXT[lang].thanks, language: lang };
    })();
    if (result.ok) this.o.committed?.();
    return result;
  }

  /** Offers whose time ran out go to the next technician. Returns how many offers expired. */
  runDue(now = this.o.clock.now()): number {
    let n = 0;
    // A batch at a time: the next offers of this batch may be due already (a zero timeout).
    for (let batch = this.store.dueOffers(now); batch.length > 0; batch = this.store.dueOffers(now)) {
      const before = n;
      for (const d of batch) {
        const expired = this.db.transaction(() => {
          const job = this.store.job(d.id);
          if (!job || job.state !== 'offered' || job.dueAt === undefined || job.dueAt > now) return false;
          const offer = job.offerId !== undefined ? this.store.offer(job.offerId) : undefined;
          if (offer?.state === 'pending') this.store.answerOffer(offer.id, 'expired', now);
          this.record(job, 'expired', 'system', { technician: job.technicianId }, now);
          const profile = this.profile(job.profile);
          if (profile) this.offerNext(job, profile, now);
          else this.orphan(job, now);
          return true;
        })();
        if (expired) n++;
      }
      if (n === before) break;
    }
    if (n > 0) this.o.committed?.();
    return n;
  }

  /** When the next offer runs out (for the gateway's timer). */
  nextDue(): number | undefined {
    return this.store.nextDue();
  }

  summary(incidentId: string): JobSummary | undefined {
    const job = this.store.byIncident(incidentId);
    return job && this.summarize(job);
  }

  /** Jobs for the API, newest first. */
  jobs(
    o: { state?: JobState; limit?: number } = {},
  ): (JobSummary & { createdAt: number; updatedAt: number })[] {
    const limit = Math.max(1, Math.min(1000, o.limit ?? 100));
    return this.store
      .list(limit, o.state)
      .map((j) => ({ ...this.summarize(j), createdAt: j.createdAt, updatedAt: j.updatedAt }));
  }

  /** Every technician of the site with what dispatch knows of them now. */
  technicians(now = this.o.clock.now()): TechnicianView[] {
    const statuses = this.store.statuses();
    const busy = this.store.busyTechnicians();
    return this.o.site.technicians.map((t) => {
      const s = statuses.get(t.id);
      return {
        id: t.id,
        name: t.name,
        skills: t.skills,
        available: s?.available ?? true,
        onShift: onShift(t, now, this.o.site.timezone),
        busy: busy.has(t.id),
        position: s?.position ?? t.base,
        positionFrom: s?.position ? 'reported' : 'base',
      };
    });
  }

  /** A technician off sick or back: unavailable ones are never offered a job. */
  setAvailable(id: string, available: boolean): void {
    this.mustTechnician(id);
    this.store.setAvailable(id, available);
  }

  /** The technician's last known position (from their phone, a fleet tracker...). */
  setLocation(id: string, lat: number, lon: number, now = this.o.clock.now()): void {
    this.mustTechnician(id);
    if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180))
      throw new VigieError('VIGIE_ERR_BAD_REQUEST', 'lat is between -90 and 90, lon between -180 and 180');
    this.store.setLocation(id, { lat, lon }, now);
  }

  /** The technician's page for a link, or undefined when the link is not valid (any more). */
  view(token: string, now = this.o.clock.now()): JobPage | undefined {
    const link = this.links.verify('job', token, now);
    const offer = link.ok ? this.store.offer(link.id) : undefined;
    const job = offer && this.store.job(offer.jobId);
    if (!offer || !job) return undefined;
    const tech = this.contact(offer.technicianId);
    return jobPage({
      job,
      offer,
      summary: this.summarize(job),
      technicianName: tech.name,
      language: this.notify.lang(tech.language),
      timezone: this.o.site.timezone,
      now,
    });
  }

  /** The customer's survey page, or undefined when the link is not valid. */
  surveyView(token: string, now = this.o.clock.now()): SurveyPage | undefined {
    const link = this.links.verify('survey', token, now);
    const job = link.ok ? this.store.job(link.id) : undefined;
    if (!job) return undefined;
    const tech = job.technicianId !== undefined ? this.contact(job.technicianId).name : undefined;
    return surveyPage(job, this.notify.lang(job.spec.customer?.language), tech);
  }

  // --- transitions (inside a transaction) ---

  /** Offers the job to the nearest fitting technician not tried yet, or gives it to the dispatchers. */
  private offerNext(job: Job, profile: DispatchProfile, now: number): void {
    const tried = this.store.tried(job.id);
    const statuses = this.store.statuses();
    const busy = this.store.busyTechnicians();
    const choice = chooseCandidates({
      need: {
        skills: job.spec.skills,
        ...(job.spec.location ? { location: job.spec.location } : {}),
        ...(job.spec.area !== undefined ? { area: job.spec.area } : {}),
      },
      technicians: this.o.site.technicians,
      status: (id) => ({
        available: statuses.get(id)?.available ?? true,
        position: statuses.get(id)?.position,
        busy: busy.has(id),
      }),
      profile,
      timezone: this.o.site.timezone,
      now,
      tried,
    });
    const best = choice.ranked[0];
    if (!best) {
      this.unassign(job, profile, tried.size > 0 ? 'declined' : 'nobody', now, choice.excluded);
      return;
    }
    const offer: Offer = {
      id: newId('off_', now),
      jobId: job.id,
      technicianId: best.technician.id,
      state: 'pending',
      offeredAt: now,
      expiresAt: now + profile.offerTimeoutMs,
    };
    if (best.minutes !== undefined) offer.travelMinutes = best.minutes;
    if (best.km !== undefined) offer.distanceKm = best.km;
    this.store.insertOffer(offer);
    Object.assign(job, {
      state: 'offered',
      technicianId: offer.technicianId,
      offerId: offer.id,
      dueAt: offer.expiresAt,
      travelMinutes: offer.travelMinutes,
      distanceKm: offer.distanceKm,
      etaAt: undefined,
      updatedAt: now,
    } satisfies Partial<Job>);
    this.store.updateJob(job);
    const delivery = this.notify.offer(job, offer, this.contact(offer.technicianId), profile, now);
    this.record(
      job,
      'offered',
      'system',
      {
        technician: offer.technicianId,
        travelMinutes: job.travelMinutes !== undefined ? Math.ceil(job.travelMinutes) : undefined,
        distanceKm: job.distanceKm !== undefined ? Math.round(job.distanceKm * 10) / 10 : undefined,
        travelTimeConfigured: best.configured,
        expiresAt: offer.expiresAt,
        delivery,
      },
      now,
    );
  }

  private unassign(
    job: Job,
    profile: DispatchProfile,
    why: UnassignedWhy,
    now: number,
    excluded: readonly { id: string; why: Exclusion }[],
  ): void {
    this.clearAssignment(job, now);
    this.store.updateJob(job);
    const told = this.notify.dispatchers(job, profile, why, now);
    const left: Partial<Record<Exclusion, string[]>> = {};
    for (const e of excluded) (left[e.why] ??= []).push(e.id);
    this.record(
      job,
      'unassigned',
      'system',
      {
        why,
        ...(job.spec.code !== undefined ? { code: job.spec.code } : {}),
        excluded: left,
        dispatchers: profile.dispatchers,
        told,
      },
      now,
    );
  }

  /** The profile left the site file while the job was offered: nobody to ask, nobody to tell. */
  private orphan(job: Job, now: number): void {
    this.clearAssignment(job, now);
    this.store.updateJob(job);
    this.record(
      job,
      'unassigned',
      'system',
      { why: 'profile', error: `no dispatch profile "${job.profile}"` },
      now,
    );
  }

  private clearAssignment(job: Job, now: number): void {
    Object.assign(job, {
      state: 'unassigned',
      technicianId: undefined,
      offerId: undefined,
      dueAt: undefined,
      travelMinutes: undefined,
      distanceKm: undefined,
      etaAt: undefined,
      updatedAt: now,
    } satisfies Partial<Job>);
  }

  private accept(job: Job, offer: Offer, tech: TechnicianContact, now: number): void {
    this.store.answerOffer(offer.id, 'accepted', now);
    job.state = 'accepted';
    job.dueAt = undefined;
    job.etaAt = offer.travelMinutes !== undefined ? arrival(now, offer.travelMinutes) : undefined;
    job.updatedAt = now;
    this.store.updateJob(job);
    this.record(job, 'accepted', `technician:${tech.id}`, { technician: tech.id, etaAt: job.etaAt }, now);
    const profile = this.profile(job.profile);
    if (profile) this.notify.customer(job, profile, 'eta', tech, now);
  }

  private decline(job: Job, offer: Offer, tech: TechnicianContact, now: number): void {
    this.store.answerOffer(offer.id, 'declined', now);
    this.record(job, 'declined', `technician:${tech.id}`, { technician: tech.id }, now);
    const profile = this.profile(job.profile);
    if (profile) this.offerNext(job, profile, now);
    else this.orphan(job, now);
  }

  private progress(job: Job, to: JobState, tech: TechnicianContact, now: number): void {
    job.state = to;
    job.updatedAt = now;
    // Leaving now: the arrival estimate counts from now rather than from the acceptance.
    if (to === 'enroute' && job.travelMinutes !== undefined) job.etaAt = arrival(now, job.travelMinutes);
    this.store.updateJob(job);
    if (to === 'arrived' && job.spec.location) this.store.setLocation(tech.id, job.spec.location, now);
    this.record(
      job,
      to as JobEventKind,
      `technician:${tech.id}`,
      { technician: tech.id, etaAt: job.etaAt },
      now,
    );
    const profile = this.profile(job.profile);
    if (!profile) return;
    if (to === 'arrived') this.notify.customer(job, profile, 'arrived', tech, now);
    if (to === 'resolved') this.notify.customer(job, profile, 'survey', tech, now);
  }

  /** Timeline entry, incident context and uplink event of one job change. */
  private record(
    job: Job,
    kind: JobEventKind,
    actor: string,
    detail: Record<string, unknown>,
    now: number,
  ): void {
    const summary = this.summarize(job);
    const clean = Object.fromEntries(Object.entries(detail).filter(([, v]) => v !== undefined));
    this.o.incidents.annotate(
      job.incidentId,
      { kind: 'job', actor, detail: { event: kind, job: job.id, state: job.state, ...clean }, at: now },
      { job: summary },
    );
    this.emit(job, kind, summary, now);
  }

  private emit(job: Job, kind: JobEventKind, summary: JobSummary, now: number): void {
    if (!this.o.emit) return;
    const site = this.o.site.id;
    this.o.emit({
      subject: subjects.job(site, kind),
      event: cloudEvent({
        source: this.source,
        type: `job.${kind}`,
        subject: job.incidentId,
        site,
        time: now,
        data: { job: summary },
      }),
      incidentId: job.incidentId,
    });
  }

  /** After the job's commit: the technician's "resolved" closes the incident unless somebody did. */
  private resolveIncident(incidentId: string, technicianId: string): void {
    try {
      const i = this.o.incidents.get(incidentId);
      if (!i || i.state === 'resolved') return;
      this.o.incidents.resolve(
        incidentId,
        { id: `technician:${technicianId}`, via: 'link' },
        'resolved on site',
      );
    } catch (err) {
      this.o.logger.error('the job is resolved but its incident could not be', {
        incident: incidentId,
        error: (err as Error).message,
      });
    }
  }

  // --- helpers ---

  private summarize(job: Job): JobSummary {
    return summarize(job, (id) => this.contact(id).name);
  }

  private refuse(reason: Refusal, lang: Language, job?: Job): Refused {
    const r: Refused = { ok: false, reason, message: PAGE_TEXT[lang].refused[reason], language: lang };
    if (job) r.job = this.summarize(job);
    return r;
  }

  private profile(id: string): DispatchProfile | undefined {
    return Object.hasOwn(this.o.site.dispatch, id) ? this.o.site.dispatch[id] : undefined;
  }

  private contact(id: string): TechnicianContact {
    return this.o.site.technicians.find((t) => t.id === id) ?? { id, name: id };
  }

  private mustTechnician(id: string): void {
    if (!this.o.site.technicians.some((t) => t.id === id)) throw new NotFoundError(`technician ${id}`);
  }
}

function arrival(now: number, travelMinutes: number): number {
  return Math.round(now + travelMinutes * 60_000);
}
