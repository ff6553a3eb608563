import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { memoryLogger } from '../../core/log.js';
import { ServiceMessages } from '../../engage/service-messages.js';
import type { Device, DispatchProfile, Site, Technician } from '../../site/model.js';
import { openDatabase, type Database } from '../../store/db.js';
import type { CustomerRecord } from '../crm/crm.js';
import { IncidentService } from '../incidents.js';
import type { Incident } from '../model.js';
import { NO_KEYS, T0, testSite } from '../testing.js';
import type { CloudEvent } from '../uplink/events.js';
import { JobService, type JobServiceOptions } from './jobs.js';

// Fixtures for the dispatch tests (not used by the gateway itself). T0 is a Thursday, 09:00 in Paris.

export const coffee: Device = {
  id: 'coffee-1',
  kind: 'appliance',
  name: 'Lounge coffee machine',
  site: 'cdg-t2',
  zone: 'hall-b',
  location: { lat: 49.0033, lon: 2.5703, label: 'Lounge bar' },
  serial: 'WM-0042',
  tags: [],
};

const tech = (
  id: string,
  name: string,
  phone: string,
  skills: string[],
  lat: number,
  lon: number,
  more: Partial<Technician> = {},
): Technician => ({
  id,
  name,
  phone,
  skills,
  base: { lat, lon },
  ...more,
});

/** Hugo is nearest (about 2 km), Lea further (about 9 km), Marc plumbs on weekdays only, far away. */
export const TECHNICIANS: Technician[] = [
  tech('tech-hugo', 'Hugo Martin', '+33612345611', ['coffee-machines', 'plumbing'], 49.02, 2.58, {
    language: 'fr',
  }),
  tech('tech-lea', 'Léa Bernard', '+33612345612', ['coffee-machines', 'electrical'], 48.93, 2.52, {
    language: 'en',
  }),
  tech('tech-marc', 'Marc Petit', '+33612345613', ['plumbing'], 48.85, 2.35, {
    shift: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' },
  }),
];

export const PROFILE: DispatchProfile = {
  id: 'appliance-repair',
  skills: { E21: ['plumbing'], E30: ['electrical'], default: ['coffee-machines'] },
  offerTimeoutMs: 600_000,
  dispatchers: 'team:service-desk',
  sms: 'sms',
  email: 'email',
  speedKmh: 40,
  roadFactor: 1.3,
  travelMinutes: {},
  notifyCustomer: ['sms', 'email'],
};

export const CUSTOMER: CustomerRecord = {
  id: 'cus-1',
  name: 'Marie Dupont',
  phone: '+33611111111',
  email: 'marie@example.test',
  language: 'fr',
  address: '12 rue de la Paix, Roissy',
  location: { lat: 49.0033, lon: 2.5703 },
  area: 'roissy-north',
  source: 'directory',
};

export function dispatchSite(over: Partial<DispatchProfile> = {}): Site {
  const base = testSite();
  return {
    ...base,
    devices: [...base.devices, coffee],
    people: [
      ...base.people,
      { id: 'nora', name: 'Nora', phone: '+33600000009' },
      { id: 'sam', name: 'Sam', email: 'sam@example.test', language: 'fr' },
    ],
    teams: [...base.teams, { id: 'service-desk', name: 'Service desk', members: ['nora', 'sam'] }],
    technicians: TECHNICIANS,
    dispatch: { 'appliance-repair': { ...PROFILE, ...over } },
  };
}

export interface DeliveryRow {
  id: string;
  incident_id: string;
  channel: string;
  recipient: string;
  recipient_json: string;
  purpose: string;
  body: { message: string; subject?: string; language: string; tag: string };
}

export interface DispatchHarness {
  db: Database;
  clock: ManualClock;
  site: Site;
  incidents: IncidentService;
  jobs: JobService;
  events: { subject: string; event: CloudEvent; incidentId: string }[];
  /** Opens an appliance fault incident with this fault code. */
  open(code?: string): Incident;
  /** Service messages queued so far, oldest first. */
  deliveries(): DeliveryRow[];
  /** The link in the last message with this tag to this recipient (`technician:tech-hugo`). */
  link(tag: string, recipient: string): string;
  close(): void;
}

export function dispatchHarness(
  opts: { site?: Site; emit?: JobServiceOptions['emit']; committed?: () => void } = {},
): DispatchHarness {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-dispatch-'));
  const db = openDatabase(dir);
  const clock = new ManualClock(T0);
  const site = opts.site ?? dispatchSite();
  const logger = memoryLogger();
  const incidents = new IncidentService({ db, clock, site, logger });
  const events: DispatchHarness['events'] = [];
  const jobs = new JobService({
    db,
    clock,
    site,
    logger,
    incidents,
    messages: new ServiceMessages(db),
    emit: opts.emit ?? ((e) => events.push(e)),
    linkBase: 'https://gw.example.com/',
    linkTtlMs: 7 * 86_400_000,
    ...(opts.committed ? { committed: opts.committed } : {}),
  });
  let n = 0;
  const h: DispatchHarness = {
    db,
    clock,
    site,
    incidents,
    jobs,
    events,
    open(code) {
      // A rule id of its own each time: one active incident per rule and device.
      const ruleId = n++ === 0 ? 'appliance-fault' : `appliance-fault-${n}`;
      const values: Record<string, string> = { serial: 'WM-0042', status: 'fault' };
      if (code !== undefined) values.code = code;
      const [c] = incidents.applyTransitions(
        [
          {
            type: 'open',
            ruleId,
            deviceId: 'coffee-1',
            severity: 'minor',
            at: clock.now(),
            triggerTs: clock.now(),
            reason: 'fault',
            values,
          },
        ],
        NO_KEYS,
        () => ({
          id: ruleId,
          name: 'Appliance fault',
          severity: 'minor',
          route: { dispatch: 'appliance-repair' },
          engage: { message: '{device.name} fault', steps: [] },
        }),
        (id) => (id === coffee.id ? coffee : undefined),
      );
      return c.incident;
    },
    deliveries() {
      const rows = db
        .prepare(`SELECT * FROM deliveries WHERE purpose = 'service' ORDER BY created_at, rowid`)
        .all() as (Omit<DeliveryRow, 'body'> & { body_json: string })[];
      return rows.map(({ body_json, ...r }) => ({
        ...r,
        body: JSON.parse(body_json) as DeliveryRow['body'],
      }));
    },
    link(tag, recipient) {
      const d = h
        .deliveries()
        .filter((x) => x.body.tag === tag && x.recipient === recipient)
        .at(-1);
      const m = d && /https:\/\/gw\.example\.com\/[js]\/(\S+)$/.exec(d.body.message);
      if (!m) throw new Error(`no ${tag} link for ${recipient}`);
      return m[1];
    },
    close() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
