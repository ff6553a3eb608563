import type { Recipient } from '../../engage/channel.js';
import type { ServiceMessages } from '../../engage/service-messages.js';
import type { DispatchProfile, Language, Site } from '../../site/model.js';
import type { IncidentService } from '../incidents.js';
import type { LinkSigner } from './links.js';
import { clockTime, texts, type UnassignedWhy } from './messages.js';
import { firstName, type Job, type Offer } from './model.js';

/** A technician as messages need them (a stub when the site file no longer lists them). */
export interface TechnicianContact {
  id: string;
  name: string;
  phone?: string;
  email?: string;
  language?: Language;
}

export type CustomerNews = 'eta' | 'arrived' | 'survey';

/**
 * Writes the job's messages into the delivery queue, inside the caller's transaction: the offer to
 * the technician, the news to the customer, the call for help to the dispatchers.
 */
export class JobNotifier {
  constructor(
    private readonly o: {
      site: Site;
      messages: ServiceMessages;
      incidents: Pick<IncidentService, 'annotate'>;
      links: LinkSigner;
      /** http.publicUrl without its trailing slash. */
      linkBase: string;
    },
  ) {}

  lang(l: string | undefined): Language {
    return l === 'en' || l === 'fr' ? l : this.o.site.language;
  }

  /** The offer SMS; returns its delivery id. */
  offer(job: Job, offer: Offer, tech: TechnicianContact, profile: DispatchProfile, now: number): string {
    const lang = this.lang(tech.language);
    const link = `${this.o.linkBase}/j/${this.o.links.sign('job', offer.id, now)}`;
    const message = texts(lang, lang).offer({
      device: job.spec.deviceName,
      ...(job.spec.code !== undefined ? { code: job.spec.code } : {}),
      place: job.spec.place,
      ...(offer.distanceKm !== undefined ? { km: offer.distanceKm } : {}),
      ...(offer.travelMinutes !== undefined ? { minutes: offer.travelMinutes } : {}),
      answerMinutes: Math.max(1, Math.round((offer.expiresAt - now) / 60_000)),
      link,
    });
    const recipient: Recipient = { kind: 'technician', id: tech.id, name: tech.name, language: lang };
    if (tech.phone) recipient.phone = tech.phone;
    return this.o.messages.enqueue(
      {
        incidentId: job.incidentId,
        channel: profile.sms,
        recipient,
        tag: 'job-offer',
        message,
        language: lang,
      },
      now,
    );
  }

  /** Tells the customer on the profile's channels they have an address for; the timeline says what went. */
  customer(
    job: Job,
    profile: DispatchProfile,
    news: CustomerNews,
    tech: TechnicianContact,
    now: number,
  ): void {
    const c = job.spec.customer;
    const lang = this.lang(c?.language);
    const t = texts(lang, lang);
    const facts = {
      ...(c ? { customerFirstName: firstName(c.name) } : {}),
      technicianFirstName: firstName(tech.name),
      device: job.spec.deviceName,
      ...(job.etaAt !== undefined ? { eta: clockTime(job.etaAt, this.o.site.timezone, lang) } : {}),
    };
    const sent: { via: string; channel: string; delivery: string }[] = [];
    if (c) {
      const mail =
        news === 'survey'
          ? t.survey({ ...facts, link: `${this.o.linkBase}/s/${this.o.links.sign('survey', job.id, now)}` })
          : t[news](facts);
      for (const via of profile.notifyCustomer) {
        const address = via === 'sms' ? c.phone : c.email;
        const channel = via === 'sms' ? profile.sms : profile.email;
        if (!address || !channel) continue;
        const recipient: Recipient = { kind: 'customer', id: c.id, name: c.name, language: lang };
        if (via === 'sms') recipient.phone = address;
        else recipient.email = address;
        const delivery = this.o.messages.enqueue(
          {
            incidentId: job.incidentId,
            channel,
            recipient,
            tag: `customer-${news}`,
            message: mail.message,
            ...(via === 'email' ? { subject: mail.subject } : {}),
            language: lang,
          },
          now,
        );
        sent.push({ via, channel, delivery });
      }
    }
    const detail: Record<string, unknown> = { told: news, job: job.id };
    if (sent.length > 0) detail.messages = sent;
    else
      detail.skipped = c ? "no phone or e-mail on record for the profile's channels" : 'no customer record';
    this.o.incidents.annotate(job.incidentId, { kind: 'customer', actor: 'system', detail, at: now });
  }

  /** Nobody took the job: every member of the dispatcher team hears of it. Returns who was told. */
  dispatchers(job: Job, profile: DispatchProfile, why: UnassignedWhy, now: number): string[] {
    const teamId = profile.dispatchers.replace(/^team:/, '');
    const team = this.o.site.teams.find((t) => t.id === teamId);
    const told: string[] = [];
    for (const member of team?.members ?? []) {
      const p = this.o.site.people.find((x) => x.id === member);
      if (!p) continue;
      const channel = p.phone ? profile.sms : p.email && profile.email ? profile.email : undefined;
      if (!channel) continue;
      const lang = this.lang(p.language);
      const mail = texts(lang, lang).unassigned({
        device: job.spec.deviceName,
        ...(job.spec.code !== undefined ? { code: job.spec.code } : {}),
        place: job.spec.place,
        incidentId: job.incidentId,
        why,
      });
      const recipient: Recipient = { kind: 'person', id: p.id, name: p.name, language: lang };
      if (p.phone) recipient.phone = p.phone;
      else recipient.email = p.email;
      this.o.messages.enqueue(
        {
          incidentId: job.incidentId,
          channel,
          recipient,
          tag: 'job-unassigned',
          message: mail.message,
          ...(channel === profile.email && !p.phone ? { subject: mail.subject } : {}),
          language: lang,
        },
        now,
      );
      told.push(p.id);
    }
    return told;
  }
}
