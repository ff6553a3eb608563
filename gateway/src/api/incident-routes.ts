import { INSTANT_HINT, parseInstant } from '../core/instant.js';
import { SEVERITIES, type Severity } from '../../../rules/src/model.js';
import { NotFoundError, VigieError } from '../core/errors.js';
import type { Actor, IncidentFilter, IncidentState } from '../route/model.js';
import type { Principal } from './auth.js';
import { readJsonObject } from './http-io.js';
import { checkNote, checkWho } from './operator-input.js';
import type { ApiPorts } from './ports.js';
import type { RequestContext, Router } from './router.js';

const STATES: readonly IncidentState[] = ['open', 'acknowledged', 'cleared', 'resolved'];
const FILTER_KEYS = new Set(['state', 'severity', 'zone', 'device', 'rule', 'limit', 'since']);
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const bad = (message: string) => new VigieError('VIGIE_ERR_BAD_REQUEST', message);

export function registerIncidentRoutes(router: Router, ports: ApiPorts): void {
  const base = '/api/v1/incidents';
  router.add('GET', base, 'viewer', ({ query }) => ({
    body: { incidents: ports.incidents.list(parseFilter(query)) },
  }));
  router.add('GET', `${base}/:id`, 'viewer', ({ params }) => {
    const incident = ports.incidents.get(params.id);
    if (!incident) throw new NotFoundError(`incident ${params.id}`);
    return {
      body: {
        incident,
        timeline: ports.incidents.timeline(params.id),
        deliveries: ports.incidents.deliveries(params.id),
      },
    };
  });
  router.add('POST', `${base}/:id/acknowledge`, 'operator', async (ctx) => {
    const { actor, note } = await readTransition(ctx);
    return { body: { incident: ports.incidents.acknowledge(ctx.params.id, actor, note) } };
  });
  router.add('POST', `${base}/:id/resolve`, 'operator', async (ctx) => {
    const { actor, note } = await readTransition(ctx);
    return { body: { incident: ports.incidents.resolve(ctx.params.id, actor, note) } };
  });
}

/**
 * Unknown query parameters are refused rather than ignored: a misspelt filter (`?sate=open`) would
 * otherwise silently return every incident.
 */
export function parseFilter(query: URLSearchParams): IncidentFilter {
  for (const key of query.keys()) {
    if (!FILTER_KEYS.has(key))
      throw bad(`unknown query parameter "${key}" (use ${[...FILTER_KEYS].join(', ')})`);
  }
  const filter: IncidentFilter = { limit: DEFAULT_LIMIT };
  const state = query.get('state');
  if (state !== null) filter.state = list(state, STATES, 'state');
  const severity = query.get('severity');
  if (severity !== null) filter.severity = list<Severity>(severity, SEVERITIES, 'severity');
  const zone = query.get('zone');
  if (zone) filter.zone = zone;
  const device = query.get('device');
  if (device) filter.deviceId = device;
  const rule = query.get('rule');
  if (rule) filter.ruleId = rule;
  const limit = query.get('limit');
  if (limit !== null) {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > MAX_LIMIT)
      throw bad(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    filter.limit = n;
  }
  const since = query.get('since');
  if (since !== null) filter.since = parseSince(since);
  return filter;
}

function list<T extends string>(raw: string, allowed: readonly T[], what: string): T[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw bad(`unknown ${what} "${item}" (use ${allowed.join(', ')})`);
    }
  }
  return items as T[];
}

function parseSince(raw: string): number {
  const t = parseInstant(raw);
  if (t === undefined) throw bad(`since must be ${INSTANT_HINT}`);
  return t;
}

/**
 * The actor is always the token (`token:<name>`), since the token is what was authenticated. A shared
 * console token may add who is at the keyboard with `{ "by": "alice" }`: it is recorded after the
 * token name (`token:ops-console/alice`), so the audit trail never loses which credential acted.
 */
export function actorFor(principal: Principal, by: string | undefined): Actor {
  return { id: by ? `token:${principal.name}/${by}` : `token:${principal.name}`, via: 'api' };
}

async function readTransition(ctx: RequestContext): Promise<{ actor: Actor; note?: string }> {
  const body = (await readJsonObject(ctx.req)) ?? {};
  for (const key of Object.keys(body)) {
    if (key !== 'by' && key !== 'note') throw bad(`unknown field "${key}" (use by, note)`);
  }
  const by = checkWho(body.by, 'by');
  const note = checkNote(body.note);
  if (!ctx.principal) throw new VigieError('VIGIE_ERR_UNAUTHORIZED', 'a token is required');
  return { actor: actorFor(ctx.principal, by), note };
}
