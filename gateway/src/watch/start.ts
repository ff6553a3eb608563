import type { Database } from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Registry } from '../core/metrics.js';
import type { Channel } from '../engage/channel.js';
import type { LocalSource } from '../listen/local/model.js';
import type { MqttTransport } from '../listen/transport.js';
import type { Pipeline } from '../pipeline.js';
import type { IncidentService } from '../route/incidents.js';
import type { Uplink } from '../route/uplink/index.js';
import type { Site } from '../site/model.js';
import { FallbackAlarm, fallbackOrder } from './fallback-alarm.js';
import { GATEWAY_DEVICE_ID, type ProblemId } from './model.js';
import { createProbes } from './probes.js';
import { SelfWatch } from './self-watch.js';
import { checkWatch, notifyRecipients, problemOfRule } from './system-rules.js';

const LAST_RUN_KEY = 'watch.last_wall';

/**
 * Builds and starts the self-watch on the gateway's parts. The store probe and the "last time this
 * gateway ran" are one row of `meta`: each check proves the database still takes a write, and a
 * Pi booting without its clock set finds its last known time there.
 */
export function startSelfWatch(d: {
  config: Readonly<Config>;
  site: Site;
  db: Database;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
  channels: ReadonlyMap<string, Channel>;
  incidents: IncidentService;
  pipeline: Pipeline;
  transport: MqttTransport;
  uplink: Uplink | undefined;
  localSources: readonly LocalSource[];
}): SelfWatch {
  const { config, site, db, clock, logger } = d;
  const log = logger.child('watch');
  for (const w of checkWatch(config.watch, site, new Set(d.channels.keys()))) log.warn(w);
  const read = db.prepare('SELECT value FROM meta WHERE key = ?');
  const write = db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const lastRun = {
    get: () => {
      const row = read.get(LAST_RUN_KEY) as { value: string } | undefined;
      const ms = row ? Number(row.value) : NaN;
      return Number.isFinite(ms) ? ms : undefined;
    },
    set: (ms: number) => void write.run(LAST_RUN_KEY, String(ms)),
  };
  const probeKey = 'watch.probe';
  // Problems whose incidents a previous run left open: they end at the first check that shows them gone.
  const inherited = d.incidents
    .list({ state: ['open', 'acknowledged'], deviceId: GATEWAY_DEVICE_ID })
    .map((i) => problemOfRule(i.ruleId))
    .filter((p): p is ProblemId => p !== undefined);
  const uplink = d.uplink;
  const watch = new SelfWatch({
    config: config.watch,
    site,
    clock,
    logger: log,
    metrics: d.metrics,
    probes: createProbes({
      dataDir: config.dataDir,
      clock,
      store: () => void write.run(probeKey, String(clock.now())),
      broker: () => d.transport.connected,
      ...(uplink ? { uplink: () => uplink.status().connected } : {}),
      hardware: () => d.localSources.map((s) => ({ name: s.name, ...s.health() })),
    }),
    raise: (transitions) => d.pipeline.raise(transitions),
    storeHealthy: () => d.pipeline.storeHealthy,
    fallback: new FallbackAlarm({
      channels: d.channels,
      order: fallbackOrder(d.channels, config.watch.fallback),
      recipients: (at) => notifyRecipients(site, config.watch.notify, at),
      site,
      clock,
      logger: logger.child('fallback'),
    }),
    lastRun,
    inherited,
  });
  watch.start();
  return watch;
}
