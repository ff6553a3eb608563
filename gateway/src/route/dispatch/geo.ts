import type { GeoPoint } from '../crm/crm.js';
import type { DispatchProfile } from '../../site/model.js';

/** Mean Earth radius (IUGG), km: the sphere the haversine formula assumes. */
const EARTH_RADIUS_KM = 6371.0088;
const RAD = Math.PI / 180;

/** Great-circle distance in km (haversine: well-conditioned for the short distances of a site). */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = (b.lat - a.lat) * RAD;
  const dLon = (b.lon - a.lon) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface TravelEstimate {
  /** Undefined when neither a configured time nor both positions are known. */
  minutes?: number;
  km?: number;
  /** The minutes come from the profile's travelMinutes table, not from the distance. */
  configured: boolean;
}

/**
 * How long a technician takes to reach the job. A time written in the profile for the customer's
 * area wins (it knows the ring road at 8 am); otherwise the straight line at `speedKmh`, lengthened
 * by `roadFactor` because roads are not straight.
 */
export function travelEstimate(
  profile: Pick<DispatchProfile, 'speedKmh' | 'roadFactor' | 'travelMinutes'>,
  technicianId: string,
  from: GeoPoint | undefined,
  to: GeoPoint | undefined,
  area: string | undefined,
): TravelEstimate {
  const km = from && to ? distanceKm(from, to) : undefined;
  const table =
    area !== undefined && Object.hasOwn(profile.travelMinutes, area)
      ? profile.travelMinutes[area]
      : undefined;
  const set = table && Object.hasOwn(table, technicianId) ? table[technicianId] : undefined;
  const out: TravelEstimate = { configured: set !== undefined };
  if (km !== undefined) out.km = km;
  if (set !== undefined) out.minutes = set;
  else if (km !== undefined) out.minutes = (km / profile.speedKmh) * 60 * profile.roadFactor;
  return out;
}
