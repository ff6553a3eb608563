import { compileSchedule } from '../../../../rules/src/schedule.js';
import type { DispatchProfile, Technician } from '../../site/model.js';
import type { GeoPoint } from '../crm/crm.js';
import { travelEstimate } from './geo.js';

// Who to offer a job to next. Pure: the technicians' status and the time are passed in.

export interface JobNeed {
  /** Every one of these is needed (empty: anybody). */
  skills: readonly string[];
  location?: GeoPoint;
  /** The customer's area: the key of the profile's configured travel times. */
  area?: string;
}

export interface TechnicianStatus {
  available: boolean;
  /** Last reported position; the technician's base when none. */
  position?: GeoPoint;
  /** On a job already (accepted, on the way or on site). */
  busy: boolean;
}

export interface Candidate {
  technician: Technician;
  minutes?: number;
  km?: number;
  configured: boolean;
}

export type Exclusion = 'skill' | 'shift' | 'unavailable' | 'busy' | 'tried';

export interface Choice {
  /** Nearest first (travel minutes, then id); those with no estimate last, by id. */
  ranked: Candidate[];
  /** Who was left out and why, for the timeline when nobody is left. */
  excluded: { id: string; why: Exclusion }[];
}

/** Whether `now` falls in the technician's shift, read in its zone (the site's by default). */
export function onShift(t: Technician, now: number, siteTimezone: string): boolean {
  if (!t.shift) return true;
  const { days, from, to, timezone } = t.shift;
  return compileSchedule({ timezone, windows: [{ days, from, to }] }, siteTimezone)(now);
}

export function chooseCandidates(o: {
  need: JobNeed;
  technicians: readonly Technician[];
  status: (id: string) => TechnicianStatus;
  profile: Pick<DispatchProfile, 'speedKmh' | 'roadFactor' | 'travelMinutes'>;
  timezone: string;
  now: number;
  /** Technicians already offered this job (declined, or let the offer expire). */
  tried: ReadonlySet<string>;
}): Choice {
  const ranked: Candidate[] = [];
  const excluded: Choice['excluded'] = [];
  for (const t of o.technicians) {
    const why = exclusion(t, o);
    if (why) {
      excluded.push({ id: t.id, why });
      continue;
    }
    const from = o.status(t.id).position ?? t.base;
    const est = travelEstimate(o.profile, t.id, from, o.need.location, o.need.area);
    const c: Candidate = { technician: t, configured: est.configured };
    if (est.minutes !== undefined) c.minutes = est.minutes;
    if (est.km !== undefined) c.km = est.km;
    ranked.push(c);
  }
  ranked.sort(
    (a, b) =>
      (a.minutes ?? Infinity) - (b.minutes ?? Infinity) ||
      (a.technician.id < b.technician.id ? -1 : a.technician.id > b.technician.id ? 1 : 0),
  );
  return { ranked, excluded };
}

function exclusion(
  t: Technician,
  o: {
    need: JobNeed;
    status: (id: string) => TechnicianStatus;
    timezone: string;
    now: number;
    tried: ReadonlySet<string>;
  },
): Exclusion | undefined {
  if (o.tried.has(t.id)) return 'tried';
  if (!o.need.skills.every((s) => t.skills.includes(s))) return 'skill';
  const s = o.status(t.id);
  if (!s.available) return 'unavailable';
  if (s.busy) return 'busy';
  if (!onShift(t, o.now, o.timezone)) return 'shift';
  return undefined;
}
