import type { FileProblem, Scalar, Severity } from '../../../rules/src/model.js';
import type { Registry } from '../core/metrics.js';
import type { Actor, Delivery, Incident, IncidentFilter, TimelineEntry } from '../route/model.js';

// What the HTTP API needs from the rest of the gateway. The composition root (gateway.ts) adapts
// the real store, engine and rule loader to this; API tests pass in-memory fakes.

export type Role = 'viewer' | 'operator' | 'integrator' | 'admin';

export interface DeviceView {
  id: string;
  kind: string;
  name: string;
  zone: string;
  site: string;
  online: boolean;
  /** Why it is offline: `lwt` (last will / status offline), `silent` (beyond heartbeat). */
  offlineReason?: 'status' | 'silent';
  lastSeen?: number;
  battery?: number;
  values: Readonly<Record<string, Scalar>>;
  location?: unknown;
  camera?: unknown;
  speaker?: unknown;
}

export interface RuleSummary {
  id: string;
  name: string;
  severity: Severity;
  file: string;
  line: number;
}

/** Pushed to WebSocket subscribers (the live console). */
export interface LiveEvent {
  /** `assignment`: the contact center routed an incident. */
  type: 'incident' | 'notification' | 'assignment';
  at: number;
  data: unknown;
}

export interface ApiPorts {
  incidents: {
    list(filter: IncidentFilter): Incident[];
    get(id: string): Incident | undefined;
    timeline(id: string): TimelineEntry[];
    deliveries(id: string): Delivery[];
    /** Throws IllegalTransitionError / NotFoundError. */
    acknowledge(id: string, actor: Actor, note?: string): Incident;
    resolve(id: string, actor: Actor, note?: string): Incident;
  };
  devices: {
    list(): DeviceView[];
    get(id: string): DeviceView | undefined;
  };
  rules: {
    list(): RuleSummary[];
    /** Validate a rule file's text against the current site and channels, without loading it. */
    validate(file: string, text: string): { ok: boolean; rules: string[]; problems: FileProblem[] };
  };
  health: {
    /** Process is alive and its loop turns. */
    live(): boolean;
    /** Ready to take traffic: store open, broker up, rules loaded. */
    ready(): { ready: boolean; checks: Record<string, boolean> };
  };
  metrics: Registry;
  live: {
    subscribe(listener: (e: LiveEvent) => void): () => void;
  };
}
