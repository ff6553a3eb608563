import type { Crm, CrmQuery, CrmResult } from './crm.js';

/*
 * What the route workflow calls: a CRM lookup that answers by the deadline whatever the CRM does. A
 * slow CRM gets its signal aborted at the deadline; a CRM that throws or answers nonsense becomes
 * `{ error }`. An incident never waits on this to page people, but its customer context does.
 */

export interface LookupOptions {
  deadlineMs: number;
  /** The caller giving up (shutdown): the lookup ends at once with `{ error }`. */
  signal?: AbortSignal;
}

export async function lookupCustomer(crm: Crm, q: CrmQuery, opts: LookupOptions): Promise<CrmResult> {
  if (!q.serial && !q.deviceId && !q.phone && !q.site) return { found: false };
  if (opts.signal?.aborted) return { error: 'CRM lookup cancelled' };
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const deadline = new Promise<CrmResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ error: `the ${crm.kind} CRM did not answer within ${opts.deadlineMs} ms` }),
      opts.deadlineMs,
    );
    onAbort = () => resolve({ error: 'CRM lookup cancelled' });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
  const attempt = (async (): Promise<CrmResult> => {
    try {
      return checked(await crm.lookup(q, signal));
    } catch (err) {
      return {
        error: `the ${crm.kind} CRM lookup failed: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  })();
  try {
    return await Promise.race([attempt, deadline]);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    // A lookup still running past the deadline stops its request instead of finishing for nobody.
    stop.abort();
  }
}

/** A result of the promised shape, or an error saying it was not one (a plugin CRM, a bug). */
function checked(r: unknown): CrmResult {
  if (r && typeof r === 'object') {
    const o = r as Record<string, unknown>;
    if (typeof o.error === 'string') return { error: o.error };
    if (o.found === false) return { found: false };
    const c = o.customer as Record<string, unknown> | undefined;
    if (o.found === true && c && typeof c.id === 'string' && typeof c.name === 'string') {
      return r as CrmResult;
    }
  }
  return { error: 'the CRM gave an answer that is neither a customer, not found, nor an error' };
}
