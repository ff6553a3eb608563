import type { SensorEvent } from '../../../rules/src/model.js';
import { checkNote, checkWho } from '../api/operator-input.js';
import type { ApiPorts, LiveEvent } from '../api/ports.js';
import { silentLogger, type Logger } from '../core/log.js';
import { incidentSummary } from '../route/summary.js';
import type { GatewayLink, IncidentEvent, IncidentJson, LinkStatus } from './link.js';

/**
 * The gateway as the API sees it: the embedded link goes through the same ports as the HTTP API
 * (and so as the remote link), so a flow behaves the same whether Node-RED runs inside the gateway
 * or beside it.
 */
export type EmbeddedLinkDeps = Pick<ApiPorts, 'catalog' | 'ruleSources' | 'ingest' | 'live' | 'incidents'>;

const NOT_RESOLVED = ['open', 'acknowledged', 'cleared'] as const;
/** The store's own ceiling for one listing. */
const MAX_LISTED = 10_000;
const CONNECTED: LinkStatus = Object.freeze({ connected: true });

/** GatewayLink for Node-RED hosted in the gateway's process: direct calls, never disconnected. */
export function createEmbeddedLink(deps: EmbeddedLinkDeps, logger: Logger = silentLogger): GatewayLink {
  const subscriptions = new Set<() => void>();
  let closed = false;

  function listen(filter: (e: LiveEvent) => void, opts?: { sensor: true }): () => void {
    if (closed) return () => {};
    // The hub drops a listener that throws; a node's bug must cost it one event, not the feed.
    const guarded = (e: LiveEvent) => {
      try {
        filter(e);
      } catch (err) {
        logger.warn('a Node-RED listener failed on a gateway event', {
          type: e.type,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    };
    const off = deps.live.subscribe(guarded, opts);
    const unsubscribe = () => {
      off();
      subscriptions.delete(unsubscribe);
    };
    subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  return {
    mode: 'embedded',
    catalog: async () => deps.catalog(),
    validateRules: async (sourceId, rules) => deps.ruleSources.validate(sourceId, rules),
    putRules: async (sourceId, label, rules) => deps.ruleSources.put(sourceId, label, rules),
    inject: async (topic, payload) =>
      deps.ingest.inject(topic, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload),
    onSensorEvent(listener: (ev: SensorEvent) => void) {
      return listen(
        (e) => {
          if (e.type === 'sensor') listener(e.data as SensorEvent);
        },
        { sensor: true },
      );
    },
    onIncident(listener: (e: IncidentEvent) => void) {
      return listen((e) => {
        if (e.type !== 'incident') return;
        // The live feed carries the summary with its transition (and trigger time) merged in.
        const { transition, ...incident } = e.data as IncidentJson & {
          transition: IncidentEvent['transition'];
        };
        listener({ transition, incident: incident as IncidentJson });
      });
    },
    openIncidents: async () =>
      deps.incidents.list({ state: NOT_RESOLVED, limit: MAX_LISTED }).map((i) => incidentSummary(i)),
    async act(action, incidentId, by, note) {
      // Nodes are plain JavaScript: what they pass is checked, not trusted to match the types.
      if (action !== 'acknowledge' && action !== 'resolve')
        throw new Error(`unknown action "${String(action)}"`);
      // The same checks as the API's `by` and `note`: the audit trail reads the same either way.
      const who = checkWho(by, 'by') ?? '';
      if (who === '') throw new Error('by must name who acts');
      const actor = { id: `node-red:${who}`, via: 'node-red' };
      const text = checkNote(note);
      const i =
        action === 'acknowledge'
          ? deps.incidents.acknowledge(incidentId, actor, text)
          : deps.incidents.resolve(incidentId, actor, text);
      return incidentSummary(i);
    },
    status: () => CONNECTED,
    onStatus: () => () => {},
    async close() {
      closed = true;
      for (const off of [...subscriptions]) off();
    },
  };
}
