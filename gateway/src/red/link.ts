import type { SensorEvent } from '../../../rules/src/model.js';

// The contract between Vigie's Node-RED nodes (rules/node-red, plain CommonJS) and a gateway.
// Two implementations: the embedded link (same process, gateway/src/red/embedded-link.ts) and the
// remote link (rules/node-red/lib/remote-link.js, over the HTTP API with a bearer token). The
// nodes only ever see this interface, so a flow behaves the same in both.

/**
 * A rule authored in a Node-RED flow: the rule document with exactly the keys of a YAML rule
 * (rule, name, severity, description?, listen {devices, when, for?, clear?}, route?, engage?),
 * as JSON, plus the nodes it came from so a problem can be shown on the node that caused it.
 */
export interface FlowRuleDoc {
  doc: Record<string, unknown>;
  nodes: {
    /** The `vigie condition` node: rule, name, severity, description, listen.when/for/clear. */
    condition: string;
    /** The `vigie listen` node: listen.devices. */
    listen?: string;
    /** The `vigie route` node: route.*, and engage.policy (the on-call policy). */
    route?: string;
    /** The `vigie engage` node: engage.* but the policy. */
    engage?: string;
  };
  /** The flow (tab) id and label, for messages and the rule list. */
  flow?: { id: string; label?: string };
}

export interface SourceProblem {
  /** The node to show it on (see FlowRuleDoc.nodes); absent for set-wide problems. */
  nodeId?: string;
  rule?: string;
  /** Readable without the generated document: `listen.when.threshold.above: "x" is not a number`. */
  message: string;
}

export interface SourceResult {
  /** True when the set is running now; false: rejected, the source's previous rules keep running. */
  ok: boolean;
  /** Ids of the rules the set defines. */
  rules: string[];
  problems: SourceProblem[];
}

/** What the editor needs to offer choices and to validate a node before deploy. */
export interface Catalog {
  site: { id: string; name: string; timezone: string };
  devices: { id: string; kind: string; name: string; zone: string; tags: string[] }[];
  kinds: string[];
  zones: string[];
  tags: string[];
  teams: { id: string; name: string }[];
  people: { id: string; name: string }[];
  oncall: string[];
  policies: string[];
  templates: string[];
  dispatch: string[];
  /** Channel names this gateway configures (a rule may also name `X?` for optional ones). */
  channels: string[];
  badgeLists: string[];
  schedules: string[];
  /** Every running rule and where it comes from (`rules/door.yaml` or `node-red:SOURCE`). */
  rules: { id: string; name: string; source: string }[];
}

/** incidentSummary(i) (route/summary.ts) as JSON. */
export type IncidentJson = Record<string, unknown> & {
  id: string;
  rule: string;
  device: string;
  state: string;
};

export interface IncidentEvent {
  transition: 'opened' | 'acknowledged' | 'escalated' | 'cleared' | 'resolved';
  incident: IncidentJson;
}

export type InjectResult = { ok: true; deviceId: string } | { ok: false; error: string };

export interface LinkStatus {
  connected: boolean;
  error?: string;
}

export interface GatewayLink {
  readonly mode: 'embedded' | 'remote';
  catalog(): Promise<Catalog>;
  /** Dry run: would this set of rules be accepted? Nothing changes. */
  validateRules(sourceId: string, rules: FlowRuleDoc[]): Promise<SourceResult>;
  /** Replaces every rule of `sourceId` with `rules` (all or nothing; durable in the gateway). */
  putRules(sourceId: string, label: string, rules: FlowRuleDoc[]): Promise<SourceResult>;
  /** Feeds a raw message into listen as if it came from MQTT (same validation and counters). */
  inject(topic: string, payload: string | Buffer): Promise<InjectResult>;
  /** Accepted sensor events; the gateway only taps its hot path while someone listens. */
  onSensorEvent(listener: (ev: SensorEvent) => void): () => void;
  /** Committed incident transitions, in order. */
  onIncident(listener: (e: IncidentEvent) => void): () => void;
  /** Incidents not yet resolved (open, acknowledged, cleared). */
  openIncidents(): Promise<IncidentJson[]>;
  /** `by` names who acts (recorded as `node-red:BY`); rejects with Error(message) like the API. */
  act(
    action: 'acknowledge' | 'resolve',
    incidentId: string,
    by: string,
    note?: string,
  ): Promise<IncidentJson>;
  status(): LinkStatus;
  onStatus(listener: (s: LinkStatus) => void): () => void;
  close(): Promise<void>;
}
