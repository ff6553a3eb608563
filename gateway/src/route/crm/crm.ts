/*
 * The CRM, as the route stage needs it: who owns the appliance that faulted, where they are and how
 * to reach them. Two implementations: the built-in directory (SQLite, imported from CSV) and a REST
 * adapter for the site's real CRM. Either may be slow or down: a lookup has a deadline, and an
 * incident never waits on it to page people.
 */

export interface CrmQuery {
  /** Appliance serial number as the device reports it (`WM-0042`). */
  serial?: string;
  deviceId?: string;
  site?: string;
  /** E.164 (`+33612345678`). */
  phone?: string;
}

export interface GeoPoint {
  lat: number;
  lon: number;
}

export interface CustomerRecord {
  id: string;
  name: string;
  phone?: string;
  email?: string;
  /** `en`, `fr`: the language of the messages the customer gets. */
  language?: string;
  address?: string;
  location?: GeoPoint;
  /** District or postcode area: the key of configured travel times. */
  area?: string;
  /** Contract level (`premium`, `standard`, `none`...): segmentation and priority. */
  contract?: string;
  /** Yearly value of the customer, for segmentation. */
  value?: number;
  assets?: { serial: string; model?: string; deviceId?: string }[];
  /** Past cases the CRM knows of (the gateway adds its own incidents for the device). */
  history?: { at: number; summary: string; ref?: string }[];
  source: 'directory' | 'rest';
}

export type CrmResult = { found: true; customer: CustomerRecord } | { found: false } | { error: string };

export interface Crm {
  readonly kind: 'directory' | 'rest';
  /** Never rejects: a failure is `{ error }`, and gives up when `signal` aborts. */
  lookup(q: CrmQuery, signal: AbortSignal): Promise<CrmResult>;
}
