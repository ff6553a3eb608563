import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Incident } from '../route/model.js';
import type { Notification } from './channel.js';

// A real HTTP webhook receiver for tests: records requests, answers with a scripted status.

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status per request in order; the last one repeats. `hang` never answers. */
  script: (number | 'hang')[];
  /** Resolves when `n` requests have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(script: (number | 'hang')[] = [200]): Promise<Receiver> {
  const waiters: { n: number; resolve: () => void }[] = [];
  const r = { received: [] as Received[], script } as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      r.received.push({
        headers: req.headers,
        body,
        json: JSON.parse(body) as Record<string, unknown>,
        at: Date.now(),
      });
      for (const w of [...waiters]) if (r.received.length >= w.n) w.resolve();
      const i = Math.min(r.received.length - 1, r.script.length - 1);
      const status = r.script[i];
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.waitFor = (n, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      if (r.received.length >= n) return resolve(r.received);
      const timer = setTimeout(
        () =>
          reject(new Error(`webhook receiver: ${r.received.length} of ${n} requests after ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve(r.received);
        },
      });
    });
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

/** What a receiver does: recompute the HMAC over timestamp + raw body and compare in constant time. */
export function verifySignature(secret: string, req: Received): boolean {
  const ts = String(req.headers['x-vigie-timestamp'] ?? '');
  const given = Buffer.from(String(req.headers['x-vigie-signature'] ?? ''));
  const want = Buffer.from(
    'sha256=' + createHmac('sha256', secret).update(`${ts}.${req.body}`).digest('hex'),
  );
  return given.length === want.length && timingSafeEqual(given, want);
}

/** An open door incident and a notification of it to Amina, for channel tests; override what matters. */
export function personNotification(
  phone: string | undefined,
  message: string,
  over: { incident?: Partial<Incident>; notification?: Partial<Notification> } = {},
): Notification {
  const incident: Incident = {
    id: 'inc_0000000001test',
    site: 'airport',
    ruleId: 'door-held-open',
    ruleName: 'Door held open',
    deviceId: 'door-g12',
    deviceName: 'Door G12',
    zone: 'gates-g',
    severity: 'major',
    state: 'open',
    reason: 'open = true for 30s',
    message,
    triggerTs: 1000,
    openedAt: 1005,
    escalationStep: 0,
    values: { open: true },
    context: {},
    updatedAt: 1005,
    ...over.incident,
  };
  return {
    deliveryId: 'dlv_test1',
    incident,
    recipient: { kind: 'person', id: 'sec-amina', name: 'Amina Diallo', phone },
    step: 0,
    attempt: 1,
    message,
    language: 'en',
    claimedAt: 0,
    ...over.notification,
  };
}
