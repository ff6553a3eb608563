/*
 * The slice of the Twilio REST API (2010-04-01) the channels use, against any base URL: the real
 * https://api.twilio.com, or a compatible provider, or the fake in tests.
 *   POST {base}/2010-04-01/Accounts/{AccountSid}/{Messages|Calls}.json   form-encoded, 201 + resource
 *   GET  {base}/2010-04-01/Accounts/{AccountSid}/{Messages|Calls}.json?To=&From=&DateSent>=...
 *        -> { "messages": [...] | "calls": [...], "next_page_uri": ..., "page_size": ... }
 *   Authorization: Basic base64(AccountSid:AuthToken)
 *   Errors: { "code": 21211, "message": "...", "status": 400, "more_info": "..." }
 * https://www.twilio.com/docs/usage/api  https://www.twilio.com/docs/usage/twilios-response
 */

export interface TwilioAccount {
  /** API root (https://api.twilio.com). */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** Limit on one request, ms. */
  timeout: number;
}

export type TwilioResource = 'Messages' | 'Calls';

/** Fields common to the message and call resources, as Twilio spells them (snake_case). */
export interface TwilioRecord {
  sid: string;
  status?: string;
  to?: string;
  from?: string;
  body?: string;
  /** RFC 2822, second precision: "Mon, 16 Aug 2010 03:45:01 +0000". */
  date_created?: string | null;
  date_sent?: string | null;
  start_time?: string | null;
  [field: string]: unknown;
}

/**
 * `unreachable`: the API could not be had at all (network error, timeout, 5xx) — the case where a
 * fallback path (the GSM modem) is worth trying. `retryable` follows the usual rule: 4xx is final
 * except 408 and 429.
 */
export type TwilioFailure = {
  ok: false;
  error: string;
  retryable: boolean;
  unreachable: boolean;
  status?: number;
  code?: number;
};
export type TwilioAnswer<T> = { ok: true; value: T } | TwilioFailure;

/** Pages followed when listing: the filters keep the result to a few records. */
const MAX_PAGES = 5;

export class TwilioRest {
  constructor(private readonly account: TwilioAccount) {}

  create(
    resource: TwilioResource,
    form: URLSearchParams,
    signal: AbortSignal,
  ): Promise<TwilioAnswer<TwilioRecord>> {
    return this.request('POST', this.resourceUrl(resource), signal, form, (json) => {
      const sid = (json as { sid?: unknown }).sid;
      return typeof sid === 'string' ? (json as TwilioRecord) : undefined;
    });
  }

  /**
   * Records of `resource` matching `filters` (`To`, `From`, `DateSent>`, `StartTime>`...: Twilio
   * writes `DateSent>=2024-05-01` as the parameter `DateSent>` with value `2024-05-01`), newest first.
   */
  async list(
    resource: TwilioResource,
    filters: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<TwilioAnswer<TwilioRecord[]>> {
    const key = resource === 'Messages' ? 'messages' : 'calls';
    const query = new URLSearchParams({ ...filters, PageSize: '100' });
    let url: string | undefined = `${this.resourceUrl(resource)}?${query.toString()}`;
    const out: TwilioRecord[] = [];
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const r: TwilioAnswer<Page> = await this.request('GET', url, signal, undefined, (j) =>
        readPage(j, key),
      );
      if (!r.ok) return r;
      out.push(...r.value.list);
      url = r.value.next ? this.root() + r.value.next : undefined;
    }
    return { ok: true, value: out };
  }

  private root(): string {
    return this.account.baseUrl.replace(/\/+$/, '');
  }

  private resourceUrl(resource: TwilioResource): string {
    return `${this.root()}/2010-04-01/Accounts/${encodeURIComponent(this.account.accountSid)}/${resource}.json`;
  }

  private async request<T>(
    method: 'GET' | 'POST',
    url: string,
    signal: AbortSignal,
    form: URLSearchParams | undefined,
    accept: (json: unknown) => T | undefined,
  ): Promise<TwilioAnswer<T>> {
    const { accountSid, authToken, timeout } = this.account;
    const headers: Record<string, string> = {
      authorization: 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64'),
      accept: 'application/json',
    };
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const timer = AbortSignal.timeout(timeout);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: form?.toString(),
        signal: AbortSignal.any([signal, timer]),
      });
      text = await res.text();
    } catch (err) {
      const why = timer.aborted ? `no answer within ${timeout} ms` : describeNetworkError(err);
      return { ok: false, retryable: true, unreachable: !signal.aborted || timer.aborted, error: why };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // A proxy's HTML error page: the status code says enough.
    }
    if (res.status >= 200 && res.status < 300) {
      const value = json === undefined ? undefined : accept(json);
      if (value !== undefined) return { ok: true, value };
      return {
        ok: false,
        retryable: true,
        // Something answered and may have acted on the request: no fallback path on top of it.
        unreachable: false,
        status: res.status,
        error: `HTTP ${res.status} with a body that is not the expected resource`,
      };
    }
    const e = (json ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'number' ? e.code : undefined;
    const message = typeof e.message === 'string' ? e.message : undefined;
    const failure: TwilioFailure = {
      ok: false,
      status: res.status,
      retryable: res.status >= 500 || res.status === 408 || res.status === 429,
      unreachable: res.status >= 500,
      error: `HTTP ${res.status}${code !== undefined ? ` (code ${code})` : ''}${message ? `: ${message}` : ''}`,
    };
    if (code !== undefined) failure.code = code;
    return failure;
  }
}

interface Page {
  list: TwilioRecord[];
  next?: string;
}

function readPage(json: unknown, key: string): Page | undefined {
  const page = json as Record<string, unknown>;
  const list = page[key];
  if (!Array.isArray(list)) return undefined;
  const next = page.next_page_uri;
  return { list: list as TwilioRecord[], next: typeof next === 'string' && next ? next : undefined };
}

function describeNetworkError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  // undici hides the socket error (ECONNREFUSED, ENOTFOUND) in `cause`.
  return e.cause?.code ? `${e.message} (${e.cause.code})` : e.message;
}

/** Twilio's date filters take a UTC day: `DateSent>=2024-05-01`. */
export function twilioDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** Epoch ms of a Twilio RFC 2822 date, or undefined. */
export function parseTwilioDate(s: unknown): number | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}
