import type { DispatchProfile, Site } from '../../site/model.js';
import type { CustomerRecord } from '../crm/crm.js';
import type { Incident } from '../model.js';
import type { JobSpec } from './model.js';

/**
 * What a job needs from its incident, the customer and the profile, fixed when it starts. `known`
 * is false when the profile cannot tell which skills the fault needs (the dispatchers decide).
 */
export function jobSpec(
  site: Pick<Site, 'devices'>,
  incident: Incident,
  profile: Pick<DispatchProfile, 'skills'>,
  customer: CustomerRecord | undefined,
): { spec: JobSpec; known: boolean } {
  const device = site.devices.find((d) => d.id === incident.deviceId);
  const raw = incident.values.code;
  const code = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : undefined;
  const skills = skillsFor(profile, code);
  // The customer's address is where the appliance is; the site's device record is the fallback.
  const loc = customer?.location ?? device?.location;
  const label = device?.location?.label;
  const spec: JobSpec = {
    skills: skills ?? [],
    place: customer?.address ?? (label ? `${label}, ${incident.zone}` : incident.zone),
    deviceId: incident.deviceId,
    deviceName: incident.deviceName,
  };
  if (loc) spec.location = { lat: loc.lat, lon: loc.lon };
  if (customer?.area !== undefined) spec.area = customer.area;
  if (code !== undefined && code !== '') spec.code = code;
  if (customer) {
    const c: NonNullable<JobSpec['customer']> = { id: customer.id, name: customer.name };
    if (customer.phone) c.phone = customer.phone;
    if (customer.email) c.email = customer.email;
    if (customer.language === 'en' || customer.language === 'fr') c.language = customer.language;
    spec.customer = c;
  }
  return { spec, known: skills !== undefined };
}

/**
 * The skills a fault needs: its code's entry, else `default`. A profile listing codes but neither
 * this one nor `default` cannot know: undefined, and the dispatchers decide. An empty map needs none.
 */
export function skillsFor(
  profile: Pick<DispatchProfile, 'skills'>,
  code: string | undefined,
): string[] | undefined {
  const table = profile.skills;
  if (code !== undefined && code !== 'default' && Object.hasOwn(table, code)) return [...table[code]];
  if (Object.hasOwn(table, 'default')) return [...table.default];
  return Object.keys(table).length === 0 ? [] : undefined;
}
