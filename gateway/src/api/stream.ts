import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../core/log.js';
import { bearerToken, roleAtLeast, type TokenAuth } from './auth.js';
import type { ApiPorts, LiveEvent } from './ports.js';
import { STREAM_PATH } from './routes.js';

// The live console's feed: every LiveEvent as a JSON text frame. Any valid token may watch (viewer).

export interface StreamOptions {
  ports: ApiPorts;
  auth: TokenAuth;
  logger: Logger;
  /** Ping period; a socket that has not answered the previous ping by the next one is dropped. */
  pingIntervalMs?: number;
  /** A client this far behind (unsent bytes) is too slow to be a live view: drop it. */
  maxBufferedBytes?: number;
}

export interface LiveStream {
  /** Hand an HTTP upgrade request over; answers 404/401 itself when it is not for the stream. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  clientCount(): number;
  close(): Promise<void>;
}

export function createLiveStream(opts: StreamOptions): LiveStream {
  const { ports, auth, logger } = opts;
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024, clientTracking: true });
  const alive = new WeakSet<WebSocket>();

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, opts.pingIntervalMs ?? 30_000);
  pinger.unref();

  function accept(ws: WebSocket, who: string, sensor: boolean): void {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    // Clients have nothing to say on this feed; ignore what they send.
    ws.on('error', (err) => logger.debug('stream socket error', { who, error: err.message }));
    const unsubscribe = ports.live.subscribe(
      (e: LiveEvent) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > maxBuffered) {
          logger.warn('stream client too slow, dropped', { who });
          ws.terminate();
          return;
        }
        ws.send(JSON.stringify(e));
      },
      { sensor },
    );
    ws.on('close', () => {
      unsubscribe();
      logger.debug('stream client left', { who });
    });
    logger.debug('stream client joined', { who });
  }

  return {
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname.replace(/\/+$/, '') !== STREAM_PATH) return refuse(socket, 404, 'Not Found');
      // Browsers cannot set headers on a WebSocket, hence the query fallback. It is never logged.
      const token = bearerToken(req.headers.authorization) ?? url.searchParams.get('token') ?? '';
      const principal = auth.verify(token);
      if (!principal) return refuse(socket, 401, 'Unauthorized', 'WWW-Authenticate: Bearer\r\n');
      if (!roleAtLeast(principal.role, 'viewer')) return refuse(socket, 403, 'Forbidden');
      // `?sensor=1`: Node-RED's vigie listen nodes (remote) also want every accepted sensor event.
      const sensor = url.searchParams.get('sensor') === '1';
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, principal.name, sensor));
    },
    clientCount: () => wss.clients.size,
    close() {
      clearInterval(pinger);
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      return new Promise<void>((resolve) => {
        // Peers get a moment to answer the close frame; the rest are cut.
        const cut = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, 1000);
        cut.unref();
        wss.close(() => {
          clearTimeout(cut);
          resolve();
        });
      });
    },
  };
}

const REFUSAL_CODE: Record<number, string> = {
  401: 'VIGIE_ERR_UNAUTHORIZED',
  403: 'VIGIE_ERR_FORBIDDEN',
  404: 'VIGIE_ERR_NOT_FOUND',
};

function refuse(socket: Duplex, status: number, reason: string, extra = ''): void {
  const body = JSON.stringify({
    error: { code: REFUSAL_CODE[status] ?? 'VIGIE_ERR_BAD_REQUEST', message: reason },
  });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
  );
}
