import { createApiServer, type ApiServer } from '../src/api/server.js';
import { registerTwilioHooks } from '../src/engage/twilio/webhooks.js';
import { registerJobApi } from '../src/api/job-routes.js';
import { registerWorkbenchApi } from '../src/api/workbench-routes.js';
import { Recorder } from '../src/workbench/recorder.js';
import { configSchema } from '../src/config/schema.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerJobPages } from '../src/route/dispatch/pages.js';
import { generateToken, sha256Hex, TokenAuth } from '../src/api/auth.js';
import type { ApiPorts, DeviceView, LiveEvent, Role, RuleSourceInfo } from '../src/api/ports.js';
import { IllegalTransitionError, NotFoundError } from '../src/core/errors.js';
import { memoryLogger } from '../src/core/log.js';
import { Registry } from '../src/core/metrics.js';
import type { Catalog, FlowRuleDoc, SourceResult } from '../src/red/link.js';
import type { Actor, Incident, IncidentFilter } from '../src/route/model.js';

// In-memory ApiPorts and a started server, shared by the api-*.test.ts files.

export function incident(id: string, over: Partial<Incident> = {}): Incident {
  return {
    id,
    site: 'cdg',
    ruleId: 'door-held-open',
    ruleName: 'Door held open',
    deviceId: 'door-12',
    deviceName: 'Gate 12 door',
    zone: 'terminal-2',
    severity: 'major',
    state: 'open',
    reason: 'open for 60s',
    message: 'Gate 12 door held open',
    triggerTs: 1000,
    openedAt: 1000,
    escalationStep: 0,
    values: { open: true },
    context: {},
    updatedAt: 1000,
    ...over,
  };
}

export class FakePorts implements ApiPorts {
  readonly store = new Map<string, Incident>();
  readonly actions: { op: string; id: string; actor: Actor; note?: string }[] = [];
  readonly listeners = new Set<(e: LiveEvent) => void>();
  /** Listeners that asked for sensor events (`?sensor=1`). */
  readonly sensorListeners = new Set<(e: LiveEvent) => void>();
  readonly sources = new Map<string, RuleSourceInfo>();
  readonly sourceCalls: { op: string; id: string; label?: string; rules: FlowRuleDoc[] }[] = [];
  readonly injected: { topic: string; payload: string }[] = [];
  lastFilter: IncidentFilter | undefined;
  readyState = { ready: true, checks: { store: true, broker: true, rules: true } };
  readonly metrics = new Registry();

  constructor() {
    for (const i of [
      incident('inc-1'),
      incident('inc-2', {
        state: 'acknowledged',
        severity: 'critical',
        zone: 'terminal-1',
        deviceId: 'smoke-3',
      }),
      incident('inc-3', { state: 'resolved', severity: 'minor', openedAt: 5000 }),
    ]) {
      this.store.set(i.id, i);
    }
    this.metrics.counter('vigie_events_total', 'Sensor events accepted.').inc({ kind: 'door' }, 3);
  }

  readonly incidents: ApiPorts['incidents'] = {
    list: (f) => {
      this.lastFilter = f;
      return [...this.store.values()].filter(
        (i) =>
          (!f.state || f.state.includes(i.state)) &&
          (!f.severity || f.severity.includes(i.severity)) &&
          (!f.zone || f.zone === i.zone) &&
          (!f.deviceId || f.deviceId === i.deviceId) &&
          (f.since === undefined || i.openedAt >= f.since),
      );
    },
    get: (id) => this.store.get(id),
    timeline: (id) => [
      { incidentId: id, at: 1000, kind: 'opened', actor: 'rule:door-held-open', detail: {} },
    ],
    deliveries: () => [],
    acknowledge: (id, actor, note) => this.move(id, 'acknowledged', ['open'], actor, note),
    resolve: (id, actor, note) => this.move(id, 'resolved', ['open', 'acknowledged', 'cleared'], actor, note),
  };

  readonly devices: ApiPorts['devices'] = {
    list: () => [device],
    get: (id) => (id === device.id ? device : undefined),
  };

  readonly rules: ApiPorts['rules'] = {
    list: () => [
      { id: 'door-held-open', name: 'Door held open', severity: 'major', file: 'doors.yaml', line: 1 },
    ],
    validate: (file, text) =>
      text.includes('bad')
        ? { ok: false, rules: [], problems: [{ file, line: 2, message: 'unknown device "bad"' }] }
        : { ok: true, rules: ['door-held-open'], problems: [] },
  };

  readonly health: ApiPorts['health'] = {
    live: () => true,
    ready: () => this.readyState,
  };

  readonly live: ApiPorts['live'] = {
    subscribe: (l, opts) => {
      this.listeners.add(l);
      if (opts?.sensor) this.sensorListeners.add(l);
      return () => {
        this.listeners.delete(l);
        this.sensorListeners.delete(l);
      };
    },
  };

  emit(e: LiveEvent): void {
    for (const l of e.type === 'sensor' ? this.sensorListeners : this.listeners) l(e);
  }

  /** A rule whose threshold is not a number is refused, like the real compiler would. */
  private verdict(rules: FlowRuleDoc[]): SourceResult {
    const problems = rules.flatMap((r) =>
      JSON.stringify(r.doc).includes('"above":"hot"')
        ? [
            {
              nodeId: r.nodes.condition,
              rule: String(r.doc.rule),
              message: 'listen.when.threshold.above: "hot"',
            },
          ]
        : [],
    );
    return { ok: problems.length === 0, rules: rules.map((r) => String(r.doc.rule)), problems };
  }

  readonly ruleSources: ApiPorts['ruleSources'] = {
    list: () => [...this.sources.values()],
    validate: (id, rules) => {
      this.sourceCalls.push({ op: 'validate', id, rules });
      return this.verdict(rules);
    },
    put: (id, label, rules) => {
      this.sourceCalls.push({ op: 'put', id, label, rules });
      const result = this.verdict(rules);
      if (result.ok) this.sources.set(id, { id, label, rules: result.rules, updatedAt: 1000 });
      return result;
    },
    remove: (id) => this.sources.delete(id),
  };

  catalog(): Catalog {
    return {
      site: { id: 'cdg', name: 'CDG', timezone: 'Europe/Paris' },
      devices: [{ id: device.id, kind: device.kind, name: device.name, zone: device.zone, tags: [] }],
      kinds: ['door'],
      zones: ['terminal-2'],
      tags: [],
      teams: [{ id: 'security', name: 'Security' }],
      people: [],
      oncall: [],
      policies: [],
      templates: [],
      dispatch: [],
      channels: ['console'],
      badgeLists: [],
      schedules: [],
      rules: [{ id: 'door-held-open', name: 'Door held open', source: 'doors.yaml' }],
    };
  }

  readonly ingest: ApiPorts['ingest'] = {
    inject: (topic, payload) => {
      const text = payload.toString('utf8');
      if (!topic.startsWith('vigie/cdg/door/'))
        return { ok: false, error: `topic ${topic} is not a device topic` };
      this.injected.push({ topic, payload: text });
      return { ok: true, deviceId: topic.split('/')[3] };
    },
  };

  site() {
    return { id: 'cdg', name: 'CDG', language: 'fr', timezone: 'Europe/Paris' };
  }

  /** What the history port was asked, in order. */
  readonly historyCalls: { op: string; args: unknown[] }[] = [];
  readonly history: ApiPorts['history'] = {
    series: (device, field, since, until) => {
      this.historyCalls.push({ op: 'series', args: [device, field, since, until] });
      return Promise.resolve({ device, field, source: 'store', points: [[since, 21.5]] });
    },
    kpis: (since, until) => {
      this.historyCalls.push({ op: 'kpis', args: [since, until] });
      return Promise.resolve({ source: 'store', since, until, open: 2, opened: 3, zones: [] });
    },
  };

  readonly telemetry: ApiPorts['telemetry'] = {
    status: () => ({ enabled: false, connected: false, buffered: 0, dropped: 0, written: 0 }),
  };

  private move(
    id: string,
    to: Incident['state'],
    from: Incident['state'][],
    actor: Actor,
    note?: string,
  ): Incident {
    if (id === 'boom') throw new Error('disk on fire at /var/lib/vigie/secret.db');
    const i = this.store.get(id);
    if (!i) throw new NotFoundError(`incident ${id}`);
    if (!from.includes(i.state)) throw new IllegalTransitionError(i.state, to);
    const next = { ...i, state: to };
    this.store.set(id, next);
    this.actions.push({ op: to, id, actor, note });
    return next;
  }
}

const device: DeviceView = {
  id: 'door-12',
  kind: 'door',
  name: 'Gate 12 door',
  zone: 'terminal-2',
  site: 'cdg',
  online: true,
  values: { open: false },
};

export interface Harness {
  api: ApiServer;
  ports: FakePorts;
  base: string;
  tokens: Record<Role, string>;
  logLines: string[];
  close(): Promise<void>;
}

export async function startApi(opts: { pingIntervalMs?: number } = {}): Promise<Harness> {
  const tokens: Record<Role, string> = {
    viewer: generateToken(),
    operator: generateToken(),
    integrator: generateToken(),
    admin: 'admin-token-' + generateToken(),
  };
  const auth = new TokenAuth({
    adminToken: tokens.admin,
    tokens: (['viewer', 'operator', 'integrator'] as const).map((role) => ({
      name: `${role}-console`,
      role,
      sha256: sha256Hex(tokens[role]),
    })),
  });
  const ports = new FakePorts();
  const logger = memoryLogger();
  const api = createApiServer({ ports, auth, logger, pingIntervalMs: opts.pingIntervalMs });
  // The gateway adds the provider webhooks to the same router (gateway.ts); so does the harness,
  // so the OpenAPI test sees the whole table.
  registerTwilioHooks(api.router, {
    actions: {
      inboundText: () => ({ outcome: 'unknown-sender', reply: '' }),
      keypad: () => ({ outcome: 'gone', say: '' }),
      callScript: () => undefined,
      providerStatus: () => {},
    },
    publicUrl: 'http://127.0.0.1',
    accounts: [],
  });
  const noJobs = {
    jobs: () => [],
    technicians: () => [],
    setAvailable: () => undefined,
    setLocation: () => undefined,
    view: () => undefined,
    act: () => ({ ok: false as const, reason: 'not-found' as const, message: '', language: 'en' as const }),
    surveyView: () => undefined,
    survey: () => ({
      ok: false as const,
      reason: 'not-found' as const,
      message: '',
      language: 'en' as const,
    }),
  };
  registerJobApi(api.router, noJobs);
  registerJobPages(api.router, { jobs: noJobs, language: 'en' });
  // The workbench's routes are in the table too (their behaviour: workbench-routes.test.ts).
  const recordings = mkdtempSync(join(tmpdir(), 'vigie-api-rec-'));
  const recorder = new Recorder({
    dir: recordings,
    site: { id: 'cdg', devices: [] } as never,
    clock: { now: () => Date.now() },
    logger,
    metrics: ports.metrics,
    config: configSchema.parse({}).workbench,
  });
  registerWorkbenchApi(api.router, {
    recorder,
    maxReplayBytes: 1024 * 1024,
    replay: () => Promise.reject(new Error('no replays in the API harness')),
  });
  const port = await api.listen(0, '127.0.0.1');
  return {
    api,
    ports,
    base: `http://127.0.0.1:${port}`,
    tokens,
    logLines: logger.lines,
    close: async () => {
      await api.close();
      await recorder.close();
      rmSync(recordings, { recursive: true, force: true });
    },
  };
}

/** Resolves when `check` holds, polling an in-memory condition; fails with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
