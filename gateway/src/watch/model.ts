import type { Severity } from '../../../rules/src/model.js';

// The gateway watching itself. Two directions:
// - out: a heartbeat every `watch.heartbeat` on NATS `vigie.{site}.gateway.heartbeat` and MQTT
//   `vigie/{site}/gateway/heartbeat` (the router, or any subscriber, notices when it stops);
// - in: its own trouble (disk, database, clock, broker, uplink) raised as incidents of the
//   built-in `gateway-*` rules on the pseudo-device `gateway`, like any sensor's incident; and,
//   when the incident store itself is what fails, sent straight over the channels still working.

/** The heartbeat's JSON body (NATS and MQTT alike). Stable contract: README "Contracts". */
export interface Heartbeat {
  site: string;
  /** The host name: several gateways may serve one site (a spare). */
  gateway: string;
  version: string;
  /** Increases by one per heartbeat since the process started. */
  seq: number;
  /** Epoch ms when sent. */
  at: number;
  startedAt: number;
  uptimeMs: number;
  /** /readyz would answer 200. */
  ready: boolean;
  /** Problems raised right now (ProblemId), empty when all is well. */
  problems: readonly string[];
  rssBytes: number;
  /** Sensor events accepted since start. */
  eventsIn: number;
  /** Incidents open or acknowledged. */
  incidentsActive: number;
  /** Every this many ms, a heartbeat is due: silence for 3 periods means the gateway is gone. */
  intervalMs: number;
}

export const PROBLEM_IDS = [
  'disk-low',
  'store-failing',
  'clock-jump',
  'clock-behind',
  'broker-down',
  'uplink-down',
  'hardware-unavailable',
] as const;
export type ProblemId = (typeof PROBLEM_IDS)[number];

/** The pseudo-device the gateway's own incidents are about. `gateway` is a reserved kind and id. */
export const GATEWAY_DEVICE_ID = 'gateway';

/** Built-in rule ids: `gateway-disk-low`, ... */
export const problemRuleId = (p: ProblemId): string => `gateway-${p}`;

export interface ProblemSpec {
  name: string;
  severity: Severity;
  /** Cleared by itself when the condition goes away, or only by an operator (a clock jump is an event). */
  clear: 'auto' | 'manual';
}

export const PROBLEMS: Readonly<Record<ProblemId, ProblemSpec>> = {
  'disk-low': { name: 'Gateway disk almost full', severity: 'major', clear: 'auto' },
  'store-failing': { name: 'Gateway database failing', severity: 'critical', clear: 'auto' },
  'clock-jump': { name: 'Gateway clock jumped', severity: 'warning', clear: 'manual' },
  'clock-behind': { name: 'Gateway clock earlier than its last run', severity: 'major', clear: 'auto' },
  'broker-down': { name: 'Gateway cannot reach its MQTT broker', severity: 'critical', clear: 'auto' },
  'uplink-down': { name: 'Gateway cannot reach the contact center (NATS)', severity: 'major', clear: 'auto' },
  'hardware-unavailable': {
    name: 'Gateway cannot open a GPIO or serial line',
    severity: 'major',
    clear: 'auto',
  },
};
