import type { Language } from '../../site/model.js';
import type { GeoPoint } from '../crm/crm.js';

/**
 * A technician job's life (README "Technician dispatch"):
 *   offered -> accepted -> enroute -> arrived -> resolved
 *   offered -(declined, or no answer in time)-> offered to the next technician | unassigned
 *   accepted -> arrived (skipping "on my way" is allowed)
 * `unassigned`: nobody fits or everybody said no; the dispatcher team was told.
 */
export type JobState = 'offered' | 'accepted' | 'enroute' | 'arrived' | 'resolved' | 'unassigned';

/** What a technician's link can do. */
export type TechnicianAction = 'accept' | 'decline' | 'enroute' | 'arrived' | 'resolved';

export const TECHNICIAN_ACTIONS: readonly TechnicianAction[] = [
  'accept',
  'decline',
  'enroute',
  'arrived',
  'resolved',
];

export type OfferState = 'pending' | 'accepted' | 'declined' | 'expired';

/** The job as events, the incident context and the API carry it (README "Job events"). */
export interface JobSummary {
  id: string;
  incidentId: string;
  state: JobState;
  profile: string;
  skills: string[];
  /** The technician offered the job (offered) or doing it (accepted and after). */
  technician?: { id: string; firstName: string };
  /** Estimated arrival, epoch ms (accepted and on the way). */
  etaAt?: number;
  travelMinutes?: number;
  distanceKm?: number;
  customerId?: string;
  surveyScore?: number;
}

/** What a job keeps from its start. */
export interface JobSpec {
  skills: string[];
  location?: GeoPoint;
  area?: string;
  /** Where to go, as people read it: the customer's address, else the device's location label or zone. */
  place: string;
  deviceId: string;
  deviceName: string;
  code?: string;
  customer?: { id: string; name: string; phone?: string; email?: string; language?: Language };
}

export interface Job {
  id: string;
  incidentId: string;
  profile: string;
  state: JobState;
  spec: JobSpec;
  technicianId?: string;
  offerId?: string;
  dueAt?: number;
  etaAt?: number;
  travelMinutes?: number;
  distanceKm?: number;
  surveyScore?: number;
  surveyedAt?: number;
  createdAt: number;
  updatedAt: number;
}

export interface Offer {
  id: string;
  jobId: string;
  technicianId: string;
  state: OfferState;
  offeredAt: number;
  expiresAt: number;
  answeredAt?: number;
  travelMinutes?: number;
  distanceKm?: number;
}

/** The job state an action leads to; absent: not allowed in that state. */
const NEXT: Readonly<Record<JobState, Partial<Record<TechnicianAction, JobState>>>> = {
  // A decline hands the job to the next technician: offered again, or unassigned if nobody is left.
  offered: { accept: 'accepted', decline: 'offered' },
  accepted: { enroute: 'enroute', arrived: 'arrived' },
  enroute: { arrived: 'arrived' },
  arrived: { resolved: 'resolved' },
  resolved: {},
  unassigned: {},
};

export function nextState(state: JobState, action: TechnicianAction): JobState | undefined {
  return NEXT[state][action];
}

export function actionsIn(state: JobState): TechnicianAction[] {
  return TECHNICIAN_ACTIONS.filter((a) => NEXT[state][a] !== undefined);
}

/** "Hugo Martin" -> "Hugo": customers are told the technician's first name only. */
export function firstName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? name;
}
