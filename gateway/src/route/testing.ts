import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Transition } from '../../../rules/src/model.js';
import { ManualClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import type { Device, Site } from '../site/model.js';
import { openDatabase, type Database } from '../store/db.js';
import { IncidentService } from './incidents.js';
import type { RuleInfo } from './rule-info.js';

// Shared fixtures for the route and engage tests (not used by the gateway itself).

export const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);

export const door: Device = {
  id: 'door-g12',
  kind: 'door',
  name: 'Door G12',
  site: 'cdg-t2',
  zone: 'T2-gates',
  location: { lat: 49.0, lon: 2.55, label: 'Gate 12, level 1' },
  camera: { stream: 'rtsp://cam-g12/stream', snapshot: 'http://cam-g12/snap.jpg' },
  speaker: { sip: 'sip:spk-g12@pbx' },
  tags: [],
};

export const fridge: Device = {
  id: 'fridge-1',
  kind: 'temperature',
  name: 'Fridge 1',
  site: 'cdg-t2',
  zone: 'kitchen',
  tags: [],
};

export function testSite(): Site {
  return {
    id: 'cdg-t2',
    name: 'CDG T2',
    timezone: 'Europe/Paris',
    language: 'en',
    oncall: {},
    policies: {},
    templates: {},
    technicians: [],
    dispatch: {},
    lines: {},
    kinds: {},
    devices: [door, fridge],
    people: [
      { id: 'alice', name: 'Alice', phone: '+33600000001' },
      { id: 'bob', name: 'Bob', email: 'bob@example.test' },
      { id: 'carol', name: 'Carol' },
    ],
    teams: [
      { id: 'security', name: 'Security', members: ['alice', 'bob'] },
      { id: 'supervisors', name: 'Supervisors', members: ['carol'] },
    ],
    clients: [],
    adapters: {},
    badgeLists: {},
    schedules: {},
  };
}

export function doorRule(overrides: Partial<RuleInfo['engage']> = {}): RuleInfo {
  return {
    id: 'door-held-open',
    name: 'Door held open',
    severity: 'major',
    route: { team: 'security', context: ['location', 'camera', 'speaker'] },
    engage: {
      message: '{device.name} ({device.zone}) held open: {reason}',
      steps: [
        { afterMs: 0, notify: ['team:security'], via: ['console', 'ops-webhook'] },
        { afterMs: 20_000, notify: ['person:carol'], via: ['console'] },
      ],
      ...overrides,
    },
  };
}

export function openT(at: number, deviceId = 'door-g12', ruleId = 'door-held-open'): Transition {
  return {
    type: 'open',
    ruleId,
    deviceId,
    severity: 'major',
    at,
    triggerTs: at - 5,
    reason: 'open for 30s',
    values: { open: true },
  };
}

export function clearT(at: number, deviceId = 'door-g12', ruleId = 'door-held-open'): Transition {
  return {
    type: 'clear',
    ruleId,
    deviceId,
    severity: 'major',
    at,
    triggerTs: at,
    reason: 'closed',
    values: { open: false },
  };
}

export const NO_KEYS = { upserts: [], deletes: [] };

export interface Harness {
  dir: string;
  db: Database;
  clock: ManualClock;
  site: Site;
  service: IncidentService;
  rules: Map<string, RuleInfo>;
  /** applyTransitions with the harness' rules and site devices. */
  apply(
    ts: readonly Transition[],
    keys?: Parameters<IncidentService['applyTransitions']>[1],
  ): ReturnType<IncidentService['applyTransitions']>;
  reopen(): void;
  close(): void;
}

export function harness(
  rules: RuleInfo[] = [doorRule()],
  dir = mkdtempSync(join(tmpdir(), 'vigie-route-')),
): Harness {
  const clock = new ManualClock(T0);
  const site = testSite();
  const devices = new Map(site.devices.map((d) => [d.id, d]));
  const h: Harness = {
    dir,
    db: openDatabase(dir),
    clock,
    site,
    service: undefined as unknown as IncidentService,
    rules: new Map(rules.map((r) => [r.id, r])),
    apply: (ts, keys = NO_KEYS) =>
      h.service.applyTransitions(
        ts,
        keys,
        (id) => h.rules.get(id),
        (id) => devices.get(id),
      ),
    reopen() {
      h.db.close();
      h.db = openDatabase(dir);
      h.service = new IncidentService({ db: h.db, clock, site, logger: memoryLogger() });
    },
    close() {
      if (h.db.open) h.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  h.service = new IncidentService({ db: h.db, clock, site, logger: memoryLogger() });
  return h;
}
