import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import { roleAtLeast, type TokenAuth } from './auth.js';
import { describeError, HttpError, sendError, sendJson } from './http-io.js';
import type { ApiPorts } from './ports.js';
import { buildRouter } from './routes.js';
import type { Router } from './router.js';
import { createLiveStream, type LiveStream } from './stream.js';

export interface ApiServerOptions {
  ports: ApiPorts;
  auth: TokenAuth;
  logger: Logger;
  clock?: Clock;
  /** WebSocket keepalive period (default 30 s); tests shorten it. */
  pingIntervalMs?: number;
}

export interface ApiServer {
  server: Server;
  router: Router;
  stream: LiveStream;
  /**
   * Hands every request and WebSocket upgrade under `prefix` (e.g. `/red`) to another application
   * (the embedded Node-RED), which answers them itself; the upgrades are left to the 'upgrade'
   * listener it adds to `server`. Returns a function that takes them back and cuts those sockets.
   */
  mount(prefix: string, handler: (req: IncomingMessage, res: ServerResponse) => void): () => void;
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/** Grace given to requests in flight when closing, before their connections are cut. */
const CLOSE_GRACE_MS = 2000;

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const { ports, auth } = opts;
  const logger = opts.logger.child('api');
  const clock = opts.clock ?? systemClock;
  const apiMetrics = new Registry();
  const requests = apiMetrics.counter(
    'vigie_http_requests_total',
    'HTTP requests answered, by route pattern and status.',
  );
  const router = buildRouter(ports, apiMetrics, () => clock.now());
  const stream = createLiveStream({ ports, auth, logger, pingIntervalMs: opts.pingIntervalMs });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = clock.now();
    // The query string is never logged or used as a label: the stream accepts ?token=.
    const url = new URL(req.url ?? '/', 'http://localhost');
    let routeLabel = 'unmatched';
    try {
      const match = router.match(req.method ?? 'GET', url.pathname);
      if (match.kind === 'not-found')
        throw new HttpError(404, 'VIGIE_ERR_NOT_FOUND', `no route for ${url.pathname}`);
      if (match.kind === 'method-not-allowed') {
        throw new HttpError(
          405,
          'VIGIE_ERR_BAD_REQUEST',
          `use ${match.allow.join(' or ')} on ${url.pathname}`,
          {
            Allow: match.allow.join(', '),
          },
        );
      }
      const { route, params } = match;
      routeLabel = route.pattern;
      let principal;
      if (route.minRole !== null) {
        principal = auth.fromHeader(req.headers.authorization);
        if (!principal) {
          throw new HttpError(401, 'VIGIE_ERR_UNAUTHORIZED', 'a valid bearer token is required', {
            'WWW-Authenticate': 'Bearer realm="vigie"',
          });
        }
        if (!roleAtLeast(principal.role, route.minRole)) {
          throw new HttpError(403, 'VIGIE_ERR_FORBIDDEN', `this needs role ${route.minRole} or above`);
        }
      }
      const result = await route.handler({ req, res, params, query: url.searchParams, principal });
      if (result !== undefined) sendJson(res, result.status ?? 200, result.body);
    } catch (err) {
      const answer = describeError(err);
      if (answer.unexpected) {
        logger.error('request failed', {
          method: req.method,
          route: routeLabel,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      }
      if (res.headersSent) res.destroy();
      else sendError(res, answer);
    } finally {
      requests.inc({ route: routeLabel, status: String(res.statusCode) });
      logger.debug('request', {
        method: req.method,
        route: routeLabel,
        status: res.statusCode,
        ms: clock.now() - started,
      });
    }
  }

  const mounts = new Map<
    string,
    { handler: (req: IncomingMessage, res: ServerResponse) => void; sockets: Set<Duplex> }
  >();
  const mountOf = (url: string | undefined) => {
    if (mounts.size === 0) return undefined;
    const path = (url ?? '/').split('?', 1)[0];
    for (const [prefix, m] of mounts) if (path === prefix || path.startsWith(prefix + '/')) return m;
    return undefined;
  };

  const server = createServer((req, res) => {
    const m = mountOf(req.url);
    if (m) m.handler(req, res);
    else void handle(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const m = mountOf(req.url);
    if (!m) return stream.handleUpgrade(req, socket, head);
    // Its owner's own 'upgrade' listener answers; kept here only so unmounting can cut it (an
    // upgraded socket would otherwise hold server.close() open forever).
    m.sockets.add(socket);
    socket.once('close', () => m.sockets.delete(socket));
  });
  // A garbled request line never reaches `handle`; answer it in JSON too rather than dropping the socket.
  server.on('clientError', (err, socket) => {
    if (!socket.writable) return socket.destroy();
    const body = JSON.stringify({
      error: { code: 'VIGIE_ERR_BAD_REQUEST', message: 'malformed HTTP request' },
    });
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    logger.debug('client error', { error: err.message });
  });

  return {
    server,
    router,
    stream,
    mount(prefix, handler) {
      const m = { handler, sockets: new Set<Duplex>() };
      mounts.set(prefix, m);
      return () => {
        if (mounts.get(prefix) === m) mounts.delete(prefix);
        for (const socket of m.sockets) socket.destroy();
      };
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const bound = (server.address() as AddressInfo).port;
          logger.info('HTTP API listening', { host, port: bound });
          resolve(bound);
        });
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      cut.unref();
      await stream.close();
      await closed;
      clearTimeout(cut);
    },
  };
}
