import type { CrmConfig } from '../../config/schema.js';
import { VigieError } from '../../core/errors.js';
import type { Crm, CrmQuery, CrmResult } from './crm.js';
import { fieldMapProblems, getPath, mapCustomer } from './rest-mapping.js';

/*
 * The site's own CRM over HTTP: GET the configured URL template with the query filled in, read JSON.
 * - One template; {serial} {deviceId} {site} {phone} are URL-encoded, and a value the query lacks
 *   becomes empty (`/customers?serial={serial}&phone={phone}` works for either). A template none of
 *   whose placeholders the query fills is not called: the answer would not be about this customer.
 * - 200 with a record, or a list whose first element is one: found. 200 with an empty list, 204 or
 *   404: not found. Anything else (401/403, 5xx, timeout, network error, not JSON, over 1 MiB, a
 *   record without id or name) is `{ error }` with the reason; lookup never throws.
 * Header values (tokens) and the URL (it may carry an API key) never appear in errors.
 */

export type RestCrmConfig = Extract<CrmConfig, { type: 'rest' }>;

const PLACEHOLDERS = ['serial', 'deviceId', 'site', 'phone'] as const;
/** A customer record is a few kilobytes; more is a misconfigured URL returning the whole base. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

export class RestCrm implements Crm {
  readonly kind = 'rest';
  private readonly used: readonly (typeof PLACEHOLDERS)[number][];

  constructor(private readonly cfg: RestCrmConfig) {
    const problems = fieldMapProblems(cfg.fields);
    const unknown = [...cfg.url.matchAll(/\{([^}]*)\}/g)]
      .map((m) => m[1])
      .filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
    if (unknown.length > 0) {
      problems.push(`crm.url: unknown placeholder {${unknown[0]}} (known: {${PLACEHOLDERS.join('}, {')}})`);
    }
    this.used = PLACEHOLDERS.filter((p) => cfg.url.includes(`{${p}}`));
    try {
      const probe = new URL(this.fill({}));
      if (probe.protocol !== 'http:' && probe.protocol !== 'https:') problems.push('crm.url: not http(s)');
    } catch {
      problems.push('crm.url: not a URL once its placeholders are filled in');
    }
    if (problems.length > 0) throw new VigieError('VIGIE_ERR_CONFIG_INVALID', problems.join('\n'));
  }

  /** The URL for `q`; undefined when the template asks for values the query has none of. */
  urlFor(q: CrmQuery): string | undefined {
    if (this.used.length > 0 && !this.used.some((p) => q[p])) return undefined;
    return this.fill(q);
  }

  async lookup(q: CrmQuery, signal: AbortSignal): Promise<CrmResult> {
    const url = this.urlFor(q);
    if (url === undefined) return { found: false };
    try {
      return await this.get(url, signal);
    } catch (err) {
      return { error: this.describe(err, signal) };
    }
  }

  private async get(url: string, signal: AbortSignal): Promise<CrmResult> {
    const res = await fetch(url, {
      headers: { accept: 'application/json', ...this.cfg.headers },
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.cfg.timeout)]),
    });
    if (res.status === 404 || res.status === 204) {
      await res.body?.cancel();
      return { found: false };
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return {
        error: `the CRM refused the request (HTTP ${res.status}): check the credentials in crm.headers`,
      };
    }
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel();
      return { error: `the CRM answered HTTP ${res.status}` };
    }
    const body = await readLimited(res, MAX_ANSWER_BYTES);
    if (body === undefined) return { error: `the CRM's answer is larger than ${MAX_ANSWER_BYTES} bytes` };
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return { error: "the CRM's answer is not JSON" };
    }
    const results = this.cfg.results;
    const list = results ? getPath(json, results) : Array.isArray(json) ? json : [json];
    if (!Array.isArray(list)) {
      return {
        error: results ? `the CRM's answer has no list at "${results}"` : "the CRM's answer is not a record",
      };
    }
    if (list.length === 0) return { found: false };
    if (list[0] === null || typeof list[0] !== 'object') return { error: "the CRM's answer is not a record" };
    const customer = mapCustomer(list[0], this.cfg.fields);
    return 'error' in customer ? customer : { found: true, customer };
  }

  private fill(q: CrmQuery): string {
    return this.cfg.url.replace(/\{(serial|deviceId|site|phone)\}/g, (_m, key: keyof CrmQuery) =>
      encodeURIComponent(q[key] ?? ''),
    );
  }

  private describe(err: unknown, signal: AbortSignal): string {
    if (signal.aborted) return 'CRM lookup cancelled';
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return `the CRM did not answer within ${this.cfg.timeout} ms`;
    // fetch() says "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND...) in `cause`.
    const why = e.cause?.code ?? e.cause?.message ?? e.message;
    return `the CRM is unreachable (${why})`;
  }
}

/** The body as text, or undefined once it passes `limit` bytes (the rest is not downloaded). */
async function readLimited(res: Response, limit: number): Promise<string | undefined> {
  if (Number(res.headers.get('content-length') ?? 0) > limit) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
