import { cloudEvent, type CloudEvent } from '../../gateway/src/route/uplink/events.js';
import { parseRouterConfig, type RouterConfig } from './config.js';
import type { WorkItem } from './model.js';

// Fixtures shared by the router's unit tests.

export const T0 = Date.UTC(2025, 2, 14, 9, 0, 0);

export function testConfig(patch: Record<string, unknown> = {}): Readonly<RouterConfig> {
  return parseRouterConfig({
    instance: 'test-router',
    nats: { servers: ['nats://127.0.0.1:4222'] },
    queues: [
      {
        id: 'appliance-support',
        name: 'Appliance support',
        skills: ['appliance'],
        agents: 2,
        avgHandleSec: 300,
      },
      { id: 'appliance-overflow', name: 'Overflow', skills: ['appliance'], agents: 1, avgHandleSec: 600 },
      {
        id: 'premium-care',
        name: 'Premium',
        skills: ['appliance'],
        agents: 1,
        avgHandleSec: 240,
        tiers: ['premium'],
      },
      {
        id: 'security-desk',
        name: 'Security',
        skills: ['security', 'emergency'],
        agents: 3,
        avgHandleSec: 180,
      },
    ],
    technicianPools: [
      { id: 'appliance-techs', skills: ['appliance', 'espresso', 'water'] },
      { id: 'electricians', skills: ['electrical'] },
    ],
    segments: { premium: ['premium', 'gold'], standard: ['standard'], premiumValueAbove: 10_000 },
    intents: {
      E21: { intent: 'appliance-water-fault', skill: 'appliance' },
      'appliance-fault': { intent: 'appliance-repair', skill: 'appliance' },
      'door-forced': { intent: 'intrusion', skill: 'security' },
      aed: { intent: 'medical-emergency', skill: 'emergency' },
    },
    fallbackQueue: 'security-desk',
    callbackAboveSec: 600,
    reopenWindow: '7d',
    ...patch,
  });
}

export function workItem(over: Partial<WorkItem> & { incidentId?: string } = {}): WorkItem {
  const incidentId = over.incidentId ?? 'inc_1';
  const { incidentId: _drop, ...rest } = over;
  return {
    workItemId: `wi_${incidentId}`,
    site: 'airport',
    incident: {
      id: incidentId,
      site: 'airport',
      rule: 'appliance-fault',
      device: 'coffee-1',
      severity: 'minor',
      openedAt: T0,
    },
    device: { id: 'coffee-1', name: 'Lounge coffee machine', kind: 'appliance', zone: 'hall-b' },
    history: [],
    intent: { rule: 'appliance-fault', faultCode: 'E99', category: 'appliance' },
    priority: 'minor',
    ...rest,
  };
}

export function event<T>(
  type: string,
  data: T,
  at: number,
  subject = 'inc_1',
  site = 'airport',
): CloudEvent<T> {
  return cloudEvent({ source: `vigie://${site}/gateway`, type, subject, site, time: at, data });
}
