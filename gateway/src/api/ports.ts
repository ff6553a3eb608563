import type { FileProblem, Scalar, Severity } from '../../../rules/src/model.js';
import type { Registry } from '../core/metrics.js';
import type { Catalog, FlowRuleDoc, InjectResult, SourceResult } from '../red/link.js';
import type { Actor, Delivery, Incident, IncidentFilter, TimelineEntry } from '../route/model.js';
import type { HistoryReader, TelemetryStatus } from '../telemetry/model.js';

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
  /**
   * `assignment`: the contact center routed an incident. `sensor`: an accepted SensorEvent, sent
   * only to subscribers that asked for them (Node-RED's `vigie listen`), never to the console.
   * `timeline`: an incident's audit trail grew (a notification attempt or outcome, a job step...);
   * data is `{ incidentId, seq, kind }` and the console refetches the incident it shows.
   */
  type: 'incident' | 'notification' | 'assignment' | 'sensor' | 'timeline';
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
    ready(): { ready: boolean; checks: Record<string, boolean>; problems?: string[] };
  };
  metrics: Registry;
  live: {
    subscribe(listener: (e: LiveEvent) => void, opts?: { sensor?: boolean }): () => void;
  };
  /** Rules authored elsewhere than the rule directory (Node-RED flows), one set per source id. */
  ruleSources: {
    list(): RuleSourceInfo[];
    validate(id: string, rules: FlowRuleDoc[]): SourceResult;
    /** All or nothing; the set is stored durably and runs at once. */
    put(id: string, label: string, rules: FlowRuleDoc[]): SourceResult;
    /** Stops the source's rules; false when there was no such source. */
    remove(id: string): boolean;
  };
  catalog(): Catalog;
  /** Who the console is for: the site's name, language and time zone. */
  site(): { id: string; name: string; language: string; timezone: string };
  /** Charts and KPI tiles: InfluxDB when configured and reachable, else the gateway's own store. */
  history: HistoryReader;
  telemetry: { status(): TelemetryStatus };
  ingest: {
    /** A raw message fed into listen as if from MQTT (same validation, counters and rules). */
    inject(topic: string, payload: Buffer): InjectResult;
  };
}

export interface RuleSourceInfo {
  id: string;
  label: string;
  rules: string[];
  updatedAt: number;
}
