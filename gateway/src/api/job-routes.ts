import type { JobService } from '../route/dispatch/jobs.js';
import type { JobState } from '../route/dispatch/model.js';
import { VigieError } from '../core/errors.js';
import { readJsonObject } from './http-io.js';
import type { Router } from './router.js';

const STATES: readonly JobState[] = ['offered', 'accepted', 'enroute', 'arrived', 'resolved', 'unassigned'];

/**
 * Technician jobs on the API: the dispatcher's list, who is where, and the switch a dispatcher (or
 * the technician's app) uses to take someone off or put them back on the rota.
 */
export function registerJobApi(
  router: Router,
  jobs: Pick<JobService, 'jobs' | 'technicians' | 'setAvailable' | 'setLocation'>,
): void {
  router.add('GET', '/api/v1/jobs', 'viewer', (ctx) => {
    const state = ctx.query.get('state') ?? undefined;
    if (state !== undefined && !(STATES as readonly string[]).includes(state))
      throw bad(`state must be one of ${STATES.join(', ')}`);
    const limitText = ctx.query.get('limit');
    const limit = limitText === null ? undefined : Number(limitText);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
      throw bad('limit must be a whole number from 1 to 1000');
    return {
      body: {
        jobs: jobs.jobs({
          ...(state ? { state: state as JobState } : {}),
          ...(limit ? { limit } : {}),
        }),
      },
    };
  });

  router.add('GET', '/api/v1/technicians', 'viewer', () => ({ body: { technicians: jobs.technicians() } }));

  router.add('POST', '/api/v1/technicians/:id/availability', 'operator', async (ctx) => {
    const body = (await readJsonObject(ctx.req)) ?? {};
    for (const key of Object.keys(body))
      if (!['available', 'lat', 'lon'].includes(key))
        throw bad(`unknown field "${key}" (use available, lat, lon)`);
    const { available, lat, lon } = body;
    if (available === undefined && lat === undefined) throw bad('give available, or lat and lon, or both');
    if (available !== undefined && typeof available !== 'boolean')
      throw bad('available must be true or false');
    if ((lat === undefined) !== (lon === undefined)) throw bad('give lat and lon together');
    if (lat !== undefined && (typeof lat !== 'number' || typeof lon !== 'number'))
      throw bad('lat and lon must be numbers');
    // Both setters check the id (404) and the ranges (400).
    if (available !== undefined) jobs.setAvailable(ctx.params.id, available);
    if (typeof lat === 'number' && typeof lon === 'number') jobs.setLocation(ctx.params.id, lat, lon);
    const view = jobs.technicians().find((t) => t.id === ctx.params.id);
    return { body: view };
  });
}

function bad(message: string): VigieError {
  return new VigieError('VIGIE_ERR_BAD_REQUEST', message);
}
