import type {
  Catalog,
  FlowRuleDoc,
  GatewayLink,
  IncidentEvent,
  IncidentJson,
  InjectResult,
  LinkStatus,
  SourceResult,
} from '../../../gateway/src/red/link.js';
import type { SensorEvent } from '../../src/model.js';

/** A GatewayLink that records what the nodes ask and lets a test push events and pick answers. */
export class FakeLink implements GatewayLink {
  readonly mode = 'embedded' as const;
  puts: { sourceId: string; label: string; rules: FlowRuleDoc[] }[] = [];
  validations: { sourceId: string; rules: FlowRuleDoc[] }[] = [];
  injects: { topic: string; payload: string | Buffer }[] = [];
  acts: { action: string; incidentId: string; by: string; note?: string }[] = [];
  /** Answers to putRules, used in order; the last one repeats. An Error is thrown. */
  putAnswers: (SourceResult | Error)[] = [];
  injectAnswer: InjectResult = { ok: true, deviceId: 'door-g12' };
  open: IncidentJson[] = [];
  sensorListeners = new Set<(ev: SensorEvent) => void>();
  incidentListeners = new Set<(e: IncidentEvent) => void>();
  statusListeners = new Set<(s: LinkStatus) => void>();

  catalog(): Promise<Catalog> {
    return Promise.resolve({
      site: { id: 'airport', name: 'Airport', timezone: 'Europe/Paris' },
      devices: [
        { id: 'door-g12', kind: 'door', name: 'Door G12', zone: 'gates-g', tags: ['airside'] },
        { id: 'temp-hall-b', kind: 'temperature', name: 'Hall B', zone: 'hall-b', tags: [] },
      ],
      kinds: ['door', 'temperature'],
      zones: ['gates-g', 'hall-b'],
      tags: ['airside'],
      teams: [{ id: 'security', name: 'Security' }],
      people: [],
      oncall: [],
      policies: ['door-security'],
      templates: [],
      dispatch: [],
      channels: ['console'],
      badgeLists: ['staff'],
      schedules: ['service-hours'],
      rules: [],
    });
  }

  validateRules(sourceId: string, rules: FlowRuleDoc[]): Promise<SourceResult> {
    this.validations.push({ sourceId, rules });
    return Promise.resolve({ ok: true, rules: rules.map((r) => String(r.doc.rule)), problems: [] });
  }

  putRules(sourceId: string, label: string, rules: FlowRuleDoc[]): Promise<SourceResult> {
    this.puts.push({ sourceId, label, rules });
    const answer = this.putAnswers.length > 1 ? this.putAnswers.shift()! : this.putAnswers[0];
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve(answer ?? { ok: true, rules: rules.map((r) => String(r.doc.rule)), problems: [] });
  }

  inject(topic: string, payload: string | Buffer): Promise<InjectResult> {
    this.injects.push({ topic, payload });
    return Promise.resolve(this.injectAnswer);
  }

  onSensorEvent(listener: (ev: SensorEvent) => void): () => void {
    this.sensorListeners.add(listener);
    return () => this.sensorListeners.delete(listener);
  }

  onIncident(listener: (e: IncidentEvent) => void): () => void {
    this.incidentListeners.add(listener);
    return () => this.incidentListeners.delete(listener);
  }

  openIncidents(): Promise<IncidentJson[]> {
    return Promise.resolve(this.open.slice());
  }

  act(
    action: 'acknowledge' | 'resolve',
    incidentId: string,
    by: string,
    note?: string,
  ): Promise<IncidentJson> {
    this.acts.push({ action, incidentId, by, ...(note !== undefined ? { note } : {}) });
    const i = this.open.find((x) => x.id === incidentId);
    if (!i) return Promise.reject(new Error(`incident ${incidentId} not found`));
    return Promise.resolve({ ...i, state: action === 'acknowledge' ? 'acknowledged' : 'resolved' });
  }

  status(): LinkStatus {
    return { connected: true };
  }

  onStatus(listener: (s: LinkStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  emitSensor(ev: SensorEvent): void {
    for (const l of this.sensorListeners) l(ev);
  }

  emitIncident(e: IncidentEvent): void {
    for (const l of this.incidentListeners) l(e);
  }
}

export function incident(id: string, rule: string, device = 'door-g12', state = 'open'): IncidentJson {
  return { id, site: 'airport', rule, device, state, severity: 'major' };
}
