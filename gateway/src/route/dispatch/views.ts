import type { Language } from '../../site/model.js';
import type { GeoPoint } from '../crm/crm.js';
import { clockTime } from './messages.js';
import {
  actionsIn,
  firstName,
  type Job,
  type JobSummary,
  type Offer,
  type TechnicianAction,
} from './model.js';
import type { Refusal } from './page-text.js';

// How jobs look from outside: the summary events and the API carry, and what the pages show. Pure.

/** What the technician's page shows for a link. */
export interface JobPage {
  language: Language;
  job: JobSummary;
  technicianName: string;
  deviceName: string;
  code?: string;
  place: string;
  location?: GeoPoint;
  /** First name always; the phone once the technician has accepted. */
  customer?: { firstName: string; phone?: string };
  distanceKm?: number;
  travelMinutes?: number;
  /** Arrival estimate as a wall-clock time in the site's zone. */
  eta?: string;
  /** While the offer waits for an answer: until when (wall clock). */
  answerBy?: string;
  /** What this link can do now (only the buttons to show). */
  actions: TechnicianAction[];
  /** Why it can do nothing, when it cannot. */
  notice?: Refusal;
}

export interface SurveyPage {
  language: Language;
  deviceName: string;
  technicianFirstName?: string;
  /** The answer already given. */
  score?: number;
}

export interface TechnicianView {
  id: string;
  name: string;
  skills: readonly string[];
  available: boolean;
  onShift: boolean;
  busy: boolean;
  position: GeoPoint;
  /** Where the position comes from: the last report, or the technician's base. */
  positionFrom: 'reported' | 'base';
}

const minutes = (m: number) => Math.ceil(m);
const km = (k: number) => Math.round(k * 10) / 10;

export function summarize(job: Job, nameOf: (technicianId: string) => string): JobSummary {
  const s: JobSummary = {
    id: job.id,
    incidentId: job.incidentId,
    state: job.state,
    profile: job.profile,
    skills: [...job.spec.skills],
  };
  if (job.technicianId !== undefined)
    s.technician = { id: job.technicianId, firstName: firstName(nameOf(job.technicianId)) };
  if (job.etaAt !== undefined) s.etaAt = job.etaAt;
  if (job.travelMinutes !== undefined) s.travelMinutes = minutes(job.travelMinutes);
  if (job.distanceKm !== undefined) s.distanceKm = km(job.distanceKm);
  if (job.spec.customer) s.customerId = job.spec.customer.id;
  if (job.surveyScore !== undefined) s.surveyScore = job.surveyScore;
  return s;
}

/**
 * The page of one offer's link: the buttons its technician may press now. An offer that went to
 * somebody else, or ran out, shows the job without them (and without the customer's phone).
 */
export function jobPage(o: {
  job: Job;
  offer: Offer;
  summary: JobSummary;
  technicianName: string;
  language: Language;
  timezone: string;
  now: number;
}): JobPage {
  const { job, offer, language: lang, timezone: tz } = o;
  const page: JobPage = {
    language: lang,
    job: o.summary,
    technicianName: o.technicianName,
    deviceName: job.spec.deviceName,
    place: job.spec.place,
    actions: [],
  };
  if (job.spec.code !== undefined) page.code = job.spec.code;
  if (job.spec.location) page.location = job.spec.location;
  if (offer.distanceKm !== undefined) page.distanceKm = km(offer.distanceKm);
  if (offer.travelMinutes !== undefined) page.travelMinutes = minutes(offer.travelMinutes);
  const c = job.spec.customer;
  const mine = job.offerId === offer.id;
  if (offer.state === 'pending' && mine && job.state === 'offered') {
    if (o.now < offer.expiresAt) {
      page.actions = ['accept', 'decline'];
      page.answerBy = clockTime(offer.expiresAt, tz, lang, 60_000);
    } else page.notice = 'expired';
    if (c) page.customer = { firstName: firstName(c.name) };
  } else if (offer.state === 'accepted' && mine) {
    page.actions = actionsIn(job.state);
    if (job.etaAt !== undefined && (job.state === 'accepted' || job.state === 'enroute'))
      page.eta = clockTime(job.etaAt, tz, lang);
    if (c) page.customer = { firstName: firstName(c.name), ...(c.phone ? { phone: c.phone } : {}) };
  } else page.notice = offer.state === 'declined' || offer.state === 'accepted' ? 'superseded' : 'expired';
  return page;
}

export function surveyPage(job: Job, language: Language, technicianName: string | undefined): SurveyPage {
  const page: SurveyPage = { language, deviceName: job.spec.deviceName };
  if (technicianName !== undefined) page.technicianFirstName = firstName(technicianName);
  if (job.surveyScore !== undefined) page.score = job.surveyScore;
  return page;
}
