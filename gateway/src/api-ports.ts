import type { Engine } from '../../rules/src/engine.js';
import type { ApiPorts, DeviceView } from './api/ports.js';
import type { Registry } from './core/metrics.js';
import type { LiveHub } from './engage/live-hub.js';
import type { MqttTransport } from './listen/transport.js';
import type { Pipeline } from './pipeline.js';
import { buildCatalog } from './red/catalog.js';
import type { IncidentService } from './route/incidents.js';
import type { RuleSetManager } from './ruleset/manager.js';
import type { Device, Site } from './site/model.js';
import type { Telemetry } from './telemetry/index.js';

/** Adapts the running gateway to what the HTTP API needs (api/ports.ts). */
export function buildApiPorts(d: {
  site: Site;
  engine: Engine;
  incidents: IncidentService;
  ruleset: RuleSetManager;
  metrics: Registry;
  live: LiveHub;
  transport: MqttTransport;
  pipeline: Pipeline;
  /** Channel names of this configuration (the catalog offers them to the editor). */
  channels: ReadonlySet<string>;
  /** Whether the embedded Node-RED is up; absent when it is not enabled. */
  nodeRedUp?: () => boolean;
  telemetry: Pick<Telemetry, 'reader' | 'status'>;
  /** GPIO and serial lines: is each open and answering? */
  hardware?: () => readonly { name: string; ok: boolean; detail?: string }[];
  /** The self-watch's problems right now (disk-low, broker-down...). */
  problems?: () => readonly string[];
}): ApiPorts {
  const view = (dev: Device): DeviceView => {
    const s = d.engine.deviceState(dev.id);
    return {
      id: dev.id,
      kind: dev.kind,
      name: dev.name,
      zone: dev.zone,
      site: dev.site,
      online: s?.online ?? false,
      offlineReason: s?.offlineReason,
      lastSeen: s?.lastSeen,
      battery: s?.battery,
      values: s?.values ?? {},
      location: dev.location,
      camera: dev.camera,
      speaker: dev.speaker,
    };
  };
  const byId = new Map(d.site.devices.map((x) => [x.id, x]));
  let lastTurn = Date.now();
  const loopProbe = setInterval(() => (lastTurn = Date.now()), 1000);
  loopProbe.unref();
  return {
    incidents: {
      list: (f) => d.incidents.list(f),
      get: (id) => d.incidents.get(id),
      timeline: (id) => d.incidents.timeline(id),
      deliveries: (id) => d.incidents.deliveries(id),
      // Committed operator changes reach MQTT and the console through IncidentService.onChanges.
      acknowledge: (id, actor, note) => d.incidents.acknowledge(id, actor, note),
      resolve: (id, actor, note) => d.incidents.resolve(id, actor, note),
    },
    devices: {
      list: () => d.site.devices.map(view),
      get: (id) => {
        const dev = byId.get(id);
        return dev ? view(dev) : undefined;
      },
    },
    rules: {
      list: () =>
        d.ruleset.current.map((r) => ({
          id: r.id,
          name: r.name,
          severity: r.severity,
          file: r.file,
          line: r.line,
        })),
      validate: (file, text) => d.ruleset.validate(file, text),
    },
    health: {
      // The loop probe stalls if the event loop is blocked: then we are not live.
      live: () => Date.now() - lastTurn < 10_000,
      ready: () => {
        const core = {
          store: d.pipeline.storeHealthy,
          mqtt: d.transport.connected,
          rules: d.ruleset.loadedOnce,
        };
        const ready = Object.values(core).every(Boolean);
        // Shown, but not part of `ready`: without the editor, events, rules (flow rules included,
        // they run from the store) and alerts all still work, so traffic must keep coming.
        const nodeRed = d.nodeRedUp;
        const checks: Record<string, boolean> = nodeRed ? { ...core, nodeRed: nodeRed() } : { ...core };
        // A serial line unplugged is its devices' problem (they go offline and say so), not a
        // reason to stop traffic to the rest: shown, not part of `ready`.
        for (const h of d.hardware?.() ?? []) checks[h.name] = h.ok;
        return { ready, checks, problems: [...(d.problems?.() ?? [])] };
      },
    },
    metrics: d.metrics,
    live: { subscribe: (l, opts) => d.live.subscribe(l, opts) },
    ruleSources: {
      list: () => d.ruleset.sources(),
      validate: (id, rules) => d.ruleset.validateSource(id, rules),
      put: (id, label, rules) => d.ruleset.putSource(id, label, rules),
      remove: (id) => d.ruleset.removeSource(id),
    },
    catalog: () =>
      buildCatalog(
        d.site,
        d.channels,
        d.ruleset.current.map((r) => ({ id: r.id, name: r.name, source: r.file })),
      ),
    ingest: { inject: (topic, payload) => d.pipeline.inject(topic, payload) },
    site: () => ({
      id: d.site.id,
      name: d.site.name,
      language: d.site.language,
      timezone: d.site.timezone,
    }),
    history: d.telemetry.reader,
    telemetry: { status: () => d.telemetry.status() },
  };
}
