import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../../gateway/src/core/log.js';
import type { RouterConfig } from './config.js';
import type { GatewayView } from './gateway-watch.js';
import { queueView, type KpiTracker } from './kpis.js';
import type { RouterMetrics } from './metrics.js';
import type { OutcomeRequest, OutcomeResult } from './service.js';

/*
 * The router's own HTTP API (README "Contact-center router"):
 *   GET  /healthz, /readyz, /metrics
 *   GET  /api/v1/kpis, /api/v1/kpis/{site}, /api/v1/queues, /api/v1/assignments/{id}, /api/v1/gateways
 *   POST /api/v1/assignments/{id}/outcome   { outcome: resolved|transferred|abandoned, toQueue? }
 * Errors leave as `{ "error": { "code", "message" } }`, as the gateway's API does.
 */

const MAX_BODY_BYTES = 16 * 1024;

const outcomeBody = z.strictObject({
  outcome: z.enum(['resolved', 'transferred', 'abandoned']),
  toQueue: z.string().min(1).optional(),
});

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the API needs from the service (RouterService; a stub in tests). */
export interface RouterApi {
  readonly cfg: Readonly<RouterConfig>;
  readonly kpis: KpiTracker;
  readonly metrics: RouterMetrics;
  readonly ready: boolean;
  status(): Record<string, unknown>;
  refreshConsumer(): Promise<void>;
  recordOutcome(assignmentId: string, req: OutcomeRequest): Promise<OutcomeResult>;
  /** Gateways known from their heartbeats; undefined (or absent) when the watch is off. */
  gateways?(): readonly GatewayView[] | undefined;
}

export interface RouterHttp {
  listen(): Promise<number>;
  close(): Promise<void>;
}

export function createRouterHttp(service: RouterApi, log: Logger): RouterHttp {
  const { host, port, token } = service.cfg.http;
  const server: Server = createServer((req, res) => {
    handle(service, token, req, res).catch((err: unknown) => {
      const f =
        err instanceof HttpFailure ? err : new HttpFailure(500, 'VIGIE_ERR_INTERNAL', 'internal error');
      if (!(err instanceof HttpFailure))
        log.error('http handler failed', { url: req.url, error: String(err) });
      send(res, f.status, { error: { code: f.code, message: f.message } });
    });
  });
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  service: RouterApi,
  token: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://router');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  if (path === '/healthz') return send(res, 200, { status: 'ok', ...service.status() });
  if (path === '/readyz')
    return send(res, service.ready ? 200 : 503, { ready: service.ready, ...service.status() });
  if (path === '/metrics') {
    await service.refreshConsumer();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(service.metrics.render());
    return;
  }
  if (!path.startsWith('/api/v1/')) throw new HttpFailure(404, 'VIGIE_ERR_NOT_FOUND', `no route ${path}`);
  authorize(token, req);
  const parts = path.split('/').slice(3).map(decodeSegment);
  const get = method === 'GET' || method === 'HEAD';
  if (get && parts.length === 1 && parts[0] === 'kpis')
    return send(res, 200, { instance: service.cfg.instance, sites: service.kpis.all() });
  if (get && parts.length === 2 && parts[0] === 'kpis') {
    const k = service.kpis.site(parts[1]);
    if (!k) throw new HttpFailure(404, 'VIGIE_ERR_NOT_FOUND', `no events seen for site ${parts[1]}`);
    return send(res, 200, k);
  }
  if (get && parts.length === 1 && parts[0] === 'queues')
    return send(res, 200, {
      instance: service.cfg.instance,
      queues: queueView(service.cfg.queues, service.kpis),
    });
  if (get && parts.length === 1 && parts[0] === 'gateways') {
    const gateways = service.gateways?.();
    if (!gateways) throw new HttpFailure(404, 'VIGIE_ERR_NOT_FOUND', 'the gateway watch is off');
    return send(res, 200, { instance: service.cfg.instance, gateways });
  }
  if (get && parts.length === 2 && parts[0] === 'assignments') {
    const a = service.kpis.assignment(parts[1]);
    if (!a) throw new HttpFailure(404, 'VIGIE_ERR_NOT_FOUND', `assignment ${parts[1]} not found`);
    return send(res, 200, { ...a.data, outcome: a.outcome ?? null, inQueue: a.inQueue });
  }
  if (parts.length === 3 && parts[0] === 'assignments' && parts[2] === 'outcome') {
    if (method !== 'POST') throw new HttpFailure(405, 'VIGIE_ERR_BAD_REQUEST', 'use POST');
    const body = outcomeBody.safeParse(await readJson(req));
    if (!body.success) {
      const i = body.error.issues[0];
      throw new HttpFailure(400, 'VIGIE_ERR_BAD_REQUEST', `${i.path.join('.') || 'body'}: ${i.message}`);
    }
    const r = await service.recordOutcome(parts[1], body.data);
    if (!r.ok) throw new HttpFailure(r.status, codeOf(r.status), r.message);
    return send(
      res,
      202,
      r.assignment ? { outcome: r.outcome, assignment: r.assignment } : { outcome: r.outcome },
    );
  }
  throw new HttpFailure(404, 'VIGIE_ERR_NOT_FOUND', `no route ${method} ${path}`);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpFailure(400, 'VIGIE_ERR_BAD_REQUEST', 'bad percent-encoding in the path');
  }
}

function codeOf(status: number): string {
  if (status === 404) return 'VIGIE_ERR_NOT_FOUND';
  if (status === 409) return 'VIGIE_ERR_ILLEGAL_TRANSITION';
  if (status === 503) return 'VIGIE_ERR_UNAVAILABLE';
  return 'VIGIE_ERR_BAD_REQUEST';
}

function authorize(token: string | undefined, req: IncomingMessage): void {
  if (token === undefined) return;
  const got = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  if (got.length !== want.length || !timingSafeEqual(got, want))
    throw new HttpFailure(401, 'VIGIE_ERR_UNAUTHORIZED', 'a valid bearer token is required');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpFailure(413, 'VIGIE_ERR_PAYLOAD_REJECTED', 'body too large');
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpFailure(400, 'VIGIE_ERR_BAD_REQUEST', 'body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
