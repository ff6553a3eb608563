import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import {
  findAll,
  readTwiml,
  textOf,
  TwimlError,
  verbs,
  type XmlElement,
} from '../../src/engage/twilio/twiml-read.js';
import { checkCall, checkMessage } from './fake-twilio-rules.js';

/*
 * A local stand-in for the Twilio REST API and its webhooks, strict where Twilio is strict, so a
 * test that passes against it says something about the real service:
 *  - REST: /2010-04-01/Accounts/{AccountSid}/{Messages,Calls}.json, Basic auth, form bodies, the
 *    checks Twilio makes on create (E.164 To, From, Body 1..1600, Url or Twiml, callback URLs and
 *    events), its resource and error JSON shapes, list filters (To, From, DateSent>=, StartTime>=).
 *  - Calls: after a create it "answers" the phone and fetches the call's Url, signed with
 *    X-Twilio-Signature by the official library, parses the TwiML strictly and runs it: Say/Play
 *    are heard, Gather waits for press(), Redirect is followed, Dial is recorded, Hangup ends.
 *    What Twilio would report as errors (11200 fetch failure, 12100 malformed, 12200 invalid TwiML,
 *    12300 content type) is recorded on the call.
 *  - Faults per resource: '500' answers 500; 'hang' creates the resource but never answers (the
 *    request was accepted, the response lost); 'down' closes the listening socket (connection
 *    refused) for the whole API until no resource is 'down'.
 */

export type Fault = 'ok' | '500' | 'hang' | 'down';
export type FakeResource = 'Messages' | 'Calls';
type Method = 'GET' | 'POST';

export interface FakeMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  status: string;
  statusCallback?: string;
  dateCreated: number;
  dateSent?: number;
  /** The create request's parameters as received. */
  params: URLSearchParams;
}

export interface Heard {
  verb: 'Say' | 'Play';
  text: string;
  language?: string;
}

export interface FakeCall {
  sid: string;
  to: string;
  from: string;
  url?: string;
  method: Method;
  statusCallback?: string;
  statusCallbackEvents: string[];
  statusCallbackMethod: Method;
  /** Ring time, seconds. */
  timeout: number;
  machineDetection?: string;
  status: string;
  dateCreated: number;
  startTime?: number;
  params: URLSearchParams;
  /** Every TwiML document fetched for the call, in order. */
  documents: string[];
  /** What the person heard, in order. */
  heard: Heard[];
  /** Play URLs fetched, with what came back. */
  prompts: { url: string; status: number; contentType: string; bytes: number }[];
  /** While a <Gather> waits for keys: where they go. */
  gather?: { action: string; method: Method; numDigits?: number };
  /** SIP URIs or numbers a <Dial> connected to. */
  dialed: string[];
  /** Errors Twilio would show in its debugger for this call. */
  errors: { code: number; message: string; url?: string }[];
}

export interface ApiRequest {
  method: string;
  path: string;
  resource?: FakeResource;
  status: number;
  params: URLSearchParams;
}

/** Seen by onRequest hooks once a request passed the checks, before it is answered. */
export interface HeldRequest {
  method: Method;
  resource: FakeResource;
  params: URLSearchParams;
  /** The sid created, for a create. */
  sid?: string;
}

export interface FakeTwilioOptions {
  accountSid?: string;
  authToken?: string;
  /** Calls are answered (the Url fetched) right after they are placed; false: call answer(). */
  autoAnswer?: boolean;
  /** Fetch <Play> URLs like Twilio does (default true). */
  fetchPrompts?: boolean;
  /** Limit on one webhook request, ms (Twilio: 15 s). */
  webhookTimeout?: number;
  now?: () => number;
}

const MAX_REDIRECTS = 20;

export class FakeTwilio {
  readonly accountSid: string;
  readonly authToken: string;
  baseUrl = '';
  readonly messages: FakeMessage[] = [];
  readonly calls: FakeCall[] = [];
  readonly requests: ApiRequest[] = [];
  autoAnswer: boolean;
  private readonly faults: Record<FakeResource, Fault> = { Messages: 'ok', Calls: 'ok' };
  private readonly hooks = new Set<(r: HeldRequest) => void | Promise<void>>();
  private readonly held = new Set<ServerResponse>();
  private readonly running = new Set<Promise<void>>();
  private readonly server: Server;
  private port = 0;
  private listening = false;
  private readonly now: () => number;

  private constructor(private readonly opts: FakeTwilioOptions) {
    this.accountSid = opts.accountSid ?? 'AC' + randomBytes(16).toString('hex');
    this.authToken = opts.authToken ?? randomBytes(16).toString('hex');
    this.autoAnswer = opts.autoAnswer ?? true;
    this.now = opts.now ?? Date.now;
    this.server = createServer((req, res) => {
      // A throwing onRequest hook must fail the request, not the test process.
      this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message);
      });
    });
  }

  static async start(opts: FakeTwilioOptions = {}): Promise<FakeTwilio> {
    const f = new FakeTwilio(opts);
    await f.listen(0);
    f.baseUrl = `http://127.0.0.1:${f.port}`;
    return f;
  }

  /** Sets how `resource` answers from now on. */
  async fault(resource: FakeResource, mode: Fault): Promise<void> {
    this.faults[resource] = mode;
    const down = Object.values(this.faults).includes('down');
    if (down && this.listening) await this.stopListening();
    if (!down && !this.listening) await this.listen(this.port);
  }

  /** Runs `hook` on every API request that passed the checks, before it is answered; await in it to hold the answer. */
  onRequest(hook: (r: HeldRequest) => void | Promise<void>): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  message(sid: string): FakeMessage | undefined {
    return this.messages.find((m) => m.sid === sid);
  }

  call(sid: string): FakeCall | undefined {
    return this.calls.find((c) => c.sid === sid);
  }

  /** The last TwiML document fetched for the call. */
  twimlOf(callSid: string): string | undefined {
    return this.call(callSid)?.documents.at(-1);
  }

  /** Polls until `check` gives a value; fails after `ms`. */
  async waitFor<T>(check: () => T | undefined | null | false, what: string, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== null && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`fake twilio: timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Picks up a call placed with autoAnswer off: fetches its Url and runs the TwiML. */
  async answer(callSid: string): Promise<void> {
    const call = this.mustCall(callSid);
    await this.track(this.pickUp(call));
  }

  /**
   * Keys pressed while a <Gather> waits: posts Digits to its action, runs the answer (following
   * Redirects to the next Gather or the end) and returns the action's TwiML.
   */
  async press(callSid: string, digits: string): Promise<string> {
    const call = this.mustCall(callSid);
    const g = call.gather;
    if (!g) throw new Error(`fake twilio: call ${callSid} is not waiting for keys`);
    call.gather = undefined;
    let first = '';
    await this.track(
      (async () => {
        const doc = await this.fetchTwiml(call, g.action, g.method, { Digits: digits, FinishedOnKey: '' });
        first = call.documents.at(-1) ?? '';
        if (doc) await this.run(call, doc, g.action, 0);
        else this.end(call);
      })(),
    );
    return first;
  }

  /** Nobody pressed anything: Twilio goes on with the verbs after the <Gather>. */
  async noInput(callSid: string): Promise<void> {
    const call = this.mustCall(callSid);
    const rest = this.afterGather.get(call.sid);
    if (!call.gather || !rest) throw new Error(`fake twilio: call ${callSid} is not waiting for keys`);
    call.gather = undefined;
    await this.track(this.run(call, rest.doc, rest.url, rest.next));
  }

  /** GETs a <Play> URL as Twilio's media fetcher does. */
  async fetchPrompt(url: string): Promise<{ status: number; contentType: string; body: Buffer }> {
    const res = await fetch(url, { headers: { 'user-agent': 'TwilioProxy/1.1' } });
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      body: Buffer.from(await res.arrayBuffer()),
    };
  }

  /** Posts a status callback for a message or call to its StatusCallback, signed; returns the HTTP status. */
  async status(sid: string, status: string, extra: Record<string, string> = {}): Promise<number> {
    const m = this.message(sid);
    if (m) {
      if (!m.statusCallback) throw new Error(`fake twilio: message ${sid} has no StatusCallback`);
      m.status = status;
      return (
        await this.signed(m.statusCallback, 'POST', {
          AccountSid: this.accountSid,
          ApiVersion: '2010-04-01',
          MessageSid: sid,
          SmsSid: sid,
          MessageStatus: status,
          SmsStatus: status,
          From: m.from,
          To: m.to,
          ...extra,
        })
      ).status;
    }
    const call = this.mustCall(sid);
    if (!call.statusCallback) throw new Error(`fake twilio: call ${sid} has no StatusCallback`);
    call.status = status;
    if (['completed', 'busy', 'no-answer', 'canceled', 'failed'].includes(status)) call.gather = undefined;
    return (
      await this.signed(call.statusCallback, call.statusCallbackMethod, {
        ...this.callParams(call),
        CallStatus: status,
        CallbackSource: 'call-progress-events',
        Timestamp: twilioDate(this.now()),
        ...extra,
      })
    ).status;
  }

  /** An SMS from a person to the account's number, posted signed to `url`; returns the TwiML reply. */
  async inboundSms(
    url: string,
    from: string,
    body: string,
    to = '+15005550006',
  ): Promise<{ status: number; twiml: string; reply?: string; error?: string }> {
    const sid = 'SM' + randomBytes(16).toString('hex');
    const res = await this.signed(url, 'POST', {
      ToCountry: 'US',
      SmsMessageSid: sid,
      NumMedia: '0',
      SmsSid: sid,
      SmsStatus: 'received',
      Body: body,
      To: to,
      NumSegments: '1',
      MessageSid: sid,
      AccountSid: this.accountSid,
      From: from,
      ApiVersion: '2010-04-01',
    });
    if (res.status !== 200) return { status: res.status, twiml: res.text };
    try {
      const doc = readTwiml(res.text, 'messaging');
      const msg = findAll(doc, 'Message')[0];
      return { status: res.status, twiml: res.text, ...(msg ? { reply: textOf(msg) } : {}) };
    } catch (err) {
      return { status: res.status, twiml: res.text, error: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    // Calls still talking to a gateway get a moment to finish; a hung one is not waited for.
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
    for (const res of this.held) res.destroy();
    if (this.listening) await this.stopListening();
  }

  // ---- REST API ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const log: ApiRequest = {
      method: req.method ?? '',
      path: url.pathname,
      status: 0,
      params: new URLSearchParams(),
    };
    this.requests.push(log);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      log.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const error = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
      reply(
        status,
        { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
        headers,
      );

    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(url.pathname);
    if (!m) return error(404, 20404, 'The requested resource was not found');
    const resource = m[2] as FakeResource;
    log.resource = resource;
    const [user, pass] = basicAuth(req.headers.authorization);
    if (user !== this.accountSid || pass !== this.authToken) {
      return error(401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' });
    }
    if (decodeURIComponent(m[1]) !== this.accountSid) {
      return error(404, 20404, `The requested resource ${url.pathname} was not found`);
    }
    if (req.method !== 'GET' && req.method !== 'POST') return error(405, 20004, 'Method not allowed');
    const fault = this.faults[resource];
    if (fault === '500') return error(500, 20500, 'Internal Server Error');

    if (req.method === 'GET') {
      log.params = url.searchParams;
      await this.runHooks({ method: 'GET', resource, params: url.searchParams });
      if (fault === 'hang') return this.hold(res);
      const listed = this.list(resource, url.searchParams, url.pathname);
      return 'page' in listed ? reply(200, listed.page) : error(400, listed.code, listed.error);
    }

    const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
    if (type !== 'application/x-www-form-urlencoded') {
      return error(400, 20001, 'Content-Type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    log.params = form;
    const problem = resource === 'Messages' ? checkMessage(form) : checkCall(form);
    if (problem) return error(400, problem.code, problem.message);
    const created = resource === 'Messages' ? this.createMessage(form) : this.createCall(form);
    await this.runHooks({ method: 'POST', resource, params: form, sid: created.sid });
    if (fault === 'hang') {
      this.hold(res);
    } else {
      reply(201, created.json());
    }
    this.track(created.afterAnswer());
  }

  private createMessage(form: URLSearchParams) {
    const msg: FakeMessage = {
      sid: 'SM' + randomBytes(16).toString('hex'),
      to: form.get('To') ?? '',
      from: form.get('From') ?? '',
      body: form.get('Body') ?? '',
      status: 'queued',
      dateCreated: this.now(),
      params: form,
      ...(form.get('StatusCallback') ? { statusCallback: form.get('StatusCallback') as string } : {}),
    };
    this.messages.push(msg);
    return {
      sid: msg.sid,
      json: () => this.messageJson(msg),
      // Twilio hands the message to the carrier a moment after accepting it.
      afterAnswer: async () => {
        msg.status = 'sent';
        msg.dateSent = this.now();
      },
    };
  }

  private createCall(form: URLSearchParams) {
    const call: FakeCall = {
      sid: 'CA' + randomBytes(16).toString('hex'),
      to: form.get('To') ?? '',
      from: form.get('From') ?? '',
      method: (form.get('Method') as Method | null) ?? 'POST',
      statusCallbackEvents: form.getAll('StatusCallbackEvent').flatMap((e) => e.split(/\s+/)),
      statusCallbackMethod: (form.get('StatusCallbackMethod') as Method | null) ?? 'POST',
      timeout: Number(form.get('Timeout') ?? 60),
      status: 'queued',
      dateCreated: this.now(),
      params: form,
      documents: [],
      heard: [],
      prompts: [],
      dialed: [],
      errors: [],
    };
    if (form.get('Url')) call.url = form.get('Url') as string;
    if (form.get('StatusCallback')) call.statusCallback = form.get('StatusCallback') as string;
    if (form.get('MachineDetection')) call.machineDetection = form.get('MachineDetection') as string;
    this.calls.push(call);
    return {
      sid: call.sid,
      json: () => this.callJson(call),
      afterAnswer: async () => {
        call.startTime = this.now();
        call.status = 'ringing';
        if (this.autoAnswer) await this.pickUp(call);
      },
    };
  }

  private list(resource: FakeResource, q: URLSearchParams, path: string) {
    const dateField = resource === 'Messages' ? 'DateSent' : 'StartTime';
    for (const k of [dateField, `${dateField}>`, `${dateField}<`]) {
      const v = q.get(k);
      if (v !== null && !/^\d{4}-\d{2}-\d{2}$/.test(v)) {
        return { error: `${k} must be a date as YYYY-MM-DD`, code: 20001 } as const;
      }
    }
    const day = (ms: number | undefined) =>
      ms === undefined ? undefined : new Date(ms).toISOString().slice(0, 10);
    const items = (resource === 'Messages' ? this.messages : this.calls)
      .filter((r) => {
        const d = day('dateSent' in r ? r.dateSent : (r as FakeCall).startTime);
        const eq = q.get(dateField);
        const ge = q.get(`${dateField}>`);
        const le = q.get(`${dateField}<`);
        // A record not yet sent or started has no date: a date filter leaves it out, as Twilio's does.
        if ((eq || ge || le) && d === undefined) return false;
        return (
          (!q.get('To') || r.to === q.get('To')) &&
          (!q.get('From') || r.from === q.get('From')) &&
          (!q.get('Status') || r.status === q.get('Status')) &&
          (!eq || d === eq) &&
          (!ge || (d as string) >= ge) &&
          (!le || (d as string) <= le)
        );
      })
      .reverse();
    const size = Math.min(1000, Math.max(1, Number(q.get('PageSize') ?? 50) || 50));
    const page = Math.max(0, Number(q.get('Page') ?? 0) || 0);
    const slice = items.slice(page * size, (page + 1) * size);
    const uri = (p: number) => {
      const u = new URLSearchParams(q);
      u.set('PageSize', String(size));
      u.set('Page', String(p));
      return `${path}?${u.toString()}`;
    };
    const key = resource === 'Messages' ? 'messages' : 'calls';
    return {
      page: {
        [key]: slice.map((r) =>
          resource === 'Messages' ? this.messageJson(r as FakeMessage) : this.callJson(r as FakeCall),
        ),
        uri: uri(page),
        first_page_uri: uri(0),
        next_page_uri: (page + 1) * size < items.length ? uri(page + 1) : null,
        previous_page_uri: page > 0 ? uri(page - 1) : null,
        page,
        page_size: size,
        start: page * size,
        end: page * size + Math.max(0, slice.length - 1),
      },
    };
  }

  private messageJson(m: FakeMessage) {
    return {
      sid: m.sid,
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      body: m.body,
      date_created: twilioDate(m.dateCreated),
      date_updated: twilioDate(m.dateSent ?? m.dateCreated),
      date_sent: m.dateSent === undefined ? null : twilioDate(m.dateSent),
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: m.from,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: String(Math.max(1, Math.ceil(m.body.length / 153))),
      price: null,
      price_unit: 'USD',
      status: m.status,
      to: m.to,
      uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${m.sid}.json`,
    };
  }

  private callJson(c: FakeCall) {
    return {
      sid: c.sid,
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      answered_by: null,
      caller_name: null,
      date_created: twilioDate(c.dateCreated),
      date_updated: twilioDate(c.startTime ?? c.dateCreated),
      direction: 'outbound-api',
      duration: null,
      end_time: null,
      from: c.from,
      from_formatted: c.from,
      parent_call_sid: null,
      price: null,
      price_unit: 'USD',
      start_time: c.startTime === undefined ? null : twilioDate(c.startTime),
      status: c.status,
      to: c.to,
      to_formatted: c.to,
      uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${c.sid}.json`,
    };
  }

  // ---- calls in progress ----

  private readonly afterGather = new Map<string, { doc: XmlElement; url: string; next: number }>();

  private async pickUp(call: FakeCall): Promise<void> {
    call.status = 'in-progress';
    const inline = call.params.get('Twiml');
    if (inline) {
      call.documents.push(inline);
      const doc = this.check(call, inline, call.url ?? '');
      return doc ? this.run(call, doc, call.url ?? '', 0) : this.end(call);
    }
    const extra: Record<string, string> = call.machineDetection ? { AnsweredBy: 'human' } : {};
    const doc = await this.fetchTwiml(call, call.url ?? '', call.method, extra);
    return doc ? this.run(call, doc, call.url ?? '', 0) : this.end(call);
  }

  private async run(call: FakeCall, doc: XmlElement, docUrl: string, from: number, hops = 0): Promise<void> {
    const list = verbs(doc);
    for (let k = from; k < list.length; k++) {
      const v = list[k];
      switch (v.name) {
        case 'Say':
        case 'Play':
          await this.hear(call, v);
          break;
        case 'Gather':
          for (const p of verbs(v)) if (p.name !== 'Pause') await this.hear(call, p);
          call.gather = {
            action: new URL(v.attrs.action ?? docUrl, docUrl).href,
            method: (v.attrs.method as Method | undefined) ?? 'POST',
            ...(v.attrs.numDigits ? { numDigits: Number(v.attrs.numDigits) } : {}),
          };
          this.afterGather.set(call.sid, { doc, url: docUrl, next: k + 1 });
          return;
        case 'Redirect': {
          if (hops >= MAX_REDIRECTS) {
            call.errors.push({ code: 11200, message: 'too many redirects', url: docUrl });
            return this.end(call);
          }
          const target = new URL(textOf(v).trim(), docUrl).href;
          const next = await this.fetchTwiml(
            call,
            target,
            (v.attrs.method as Method | undefined) ?? 'POST',
            {},
          );
          return next ? this.run(call, next, target, 0, hops + 1) : this.end(call);
        }
        case 'Dial': {
          const targets = verbs(v).map((t) => textOf(t).trim());
          call.dialed.push(...(targets.length > 0 ? targets : [textOf(v).trim()]));
          break;
        }
        case 'Hangup':
        case 'Reject':
          return this.end(call);
      }
    }
    this.end(call);
  }

  private async hear(call: FakeCall, v: XmlElement): Promise<void> {
    const text = textOf(v).trim();
    call.heard.push({
      verb: v.name as 'Say' | 'Play',
      text,
      ...(v.attrs.language ? { language: v.attrs.language } : {}),
    });
    if (v.name !== 'Play' || this.opts.fetchPrompts === false || !text) return;
    try {
      const p = await this.fetchPrompt(text);
      call.prompts.push({ url: text, status: p.status, contentType: p.contentType, bytes: p.body.length });
      if (p.status !== 200)
        call.errors.push({ code: 11200, message: `HTTP ${p.status} fetching media`, url: text });
    } catch (err) {
      call.errors.push({ code: 11200, message: (err as Error).message, url: text });
    }
  }

  private end(call: FakeCall): void {
    call.gather = undefined;
    this.afterGather.delete(call.sid);
    if (call.status === 'in-progress') call.status = 'completed';
  }

  private async fetchTwiml(
    call: FakeCall,
    url: string,
    method: Method,
    extra: Record<string, string>,
  ): Promise<XmlElement | undefined> {
    let res: { status: number; type: string; text: string };
    try {
      res = await this.signed(url, method, { ...this.callParams(call), ...extra });
    } catch (err) {
      call.errors.push({ code: 11200, message: (err as Error).message, url });
      return undefined;
    }
    if (res.status < 200 || res.status >= 300) {
      call.errors.push({ code: 11200, message: `HTTP ${res.status}`, url });
      return undefined;
    }
    call.documents.push(res.text);
    if (!/^(text|application)\/xml\b/.test(res.type)) {
      call.errors.push({ code: 12300, message: `Content-Type ${res.type}`, url });
      return undefined;
    }
    return this.check(call, res.text, url);
  }

  private check(call: FakeCall, text: string, url: string): XmlElement | undefined {
    try {
      return readTwiml(text, 'voice');
    } catch (err) {
      const code = err instanceof TwimlError ? err.code : 12100;
      call.errors.push({ code, message: (err as Error).message, url });
      return undefined;
    }
  }

  private callParams(call: FakeCall): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: call.sid,
      CallStatus: call.status,
      Called: call.to,
      Caller: call.from,
      Direction: 'outbound-api',
      From: call.from,
      To: call.to,
    };
  }

  /** A webhook request as Twilio makes it: form POST (or GET with the query), X-Twilio-Signature. */
  private async signed(
    url: string,
    method: Method,
    params: Record<string, string>,
  ): Promise<{ status: number; type: string; text: string }> {
    const form = new URLSearchParams(params);
    let target = url;
    let signedParams: Record<string, string> = params;
    if (method === 'GET') {
      target = url + (url.includes('?') ? '&' : '?') + form.toString();
      signedParams = {};
    }
    const headers: Record<string, string> = {
      'user-agent': 'TwilioProxy/1.1',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(this.authToken, target, signedParams),
    };
    if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(target, {
      method,
      headers,
      body: method === 'POST' ? form.toString() : undefined,
      signal: AbortSignal.timeout(this.opts.webhookTimeout ?? 15_000),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  }

  // ---- plumbing ----

  private mustCall(sid: string): FakeCall {
    const c = this.call(sid);
    if (!c) throw new Error(`fake twilio: no call ${sid}`);
    return c;
  }

  private async runHooks(r: HeldRequest): Promise<void> {
    for (const h of [...this.hooks]) await h(r);
  }

  private hold(res: ServerResponse): void {
    this.held.add(res);
    res.on('close', () => this.held.delete(res));
  }

  private track(p: Promise<void>): Promise<void> {
    const tracked = p.catch(() => {});
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
    return p;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        this.listening = true;
        resolve();
      });
    });
  }

  private stopListening(): Promise<void> {
    this.listening = false;
    for (const res of this.held) res.destroy();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function basicAuth(header: string | undefined): [string, string] {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return ['', ''];
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}

/** Twilio writes dates in RFC 2822: "Wed, 18 Aug 2010 20:01:40 +0000". */
export function twilioDate(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}
