import { NotFoundError, VigieError } from '../core/errors.js';
import type { ApiPorts } from './ports.js';
import type { Router } from './router.js';
import { FIELD_NAME } from '../telemetry/model.js';

// What the live console reads besides incidents and devices: who is logged in, a device's recent
// values for its chart, the KPI tiles, and whether telemetry is flowing.

const HOUR = 3_600_000;
/** A chart or a KPI window spans at most this much. */
const MAX_SPAN = 400 * 24 * HOUR;

const bad = (message: string) => new VigieError('VIGIE_ERR_BAD_REQUEST', message);

export function registerConsoleRoutes(router: Router, ports: ApiPorts, now: () => number): void {
  router.add('GET', '/api/v1/me', 'viewer', ({ principal }) => ({
    body: { name: principal?.name, role: principal?.role, site: ports.site() },
  }));

  router.add('GET', '/api/v1/devices/:id/history', 'viewer', async ({ params, query }) => {
    only(query, ['field', 'since', 'until']);
    const device = ports.devices.get(params.id);
    if (!device) throw new NotFoundError(`device ${params.id}`);
    const field = query.get('field');
    if (field === null || !FIELD_NAME.test(field))
      throw bad('field must name one value of the device, like celsius');
    const { since, until } = timeWindow(query, 6 * HOUR, now());
    return { body: await ports.history.series(device.id, field, since, until) };
  });

  router.add('GET', '/api/v1/kpis', 'viewer', async ({ query }) => {
    only(query, ['since', 'until']);
    const { since, until } = timeWindow(query, 24 * HOUR, now());
    return { body: await ports.history.kpis(since, until) };
  });

  router.add('GET', '/api/v1/telemetry', 'viewer', () => ({ body: ports.telemetry.status() }));

  // Where a browser lands: the console (relative, so it also works behind a path prefix).
  router.add('GET', '/', null, ({ res }) => {
    res.writeHead(302, { Location: 'console/', 'Cache-Control': 'no-store', 'Content-Length': 0 });
    res.end();
    return undefined;
  });
}

function only(query: URLSearchParams, allowed: readonly string[]): void {
  for (const key of query.keys())
    if (!allowed.includes(key)) throw bad(`unknown query parameter "${key}" (use ${allowed.join(', ')})`);
}

function timeWindow(query: URLSearchParams, span: number, now: number): { since: number; until: number } {
  const until = epoch(query.get('until'), 'until') ?? now;
  const since = epoch(query.get('since'), 'since') ?? until - span;
  if (since >= until) throw bad('since must be before until');
  if (until - since > MAX_SPAN) throw bad('the window spans at most 400 days');
  return { since, until };
}

function epoch(raw: string | null, name: string): number | undefined {
  if (raw === null) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw bad(`${name} must be epoch milliseconds`);
  return Number(raw);
}
