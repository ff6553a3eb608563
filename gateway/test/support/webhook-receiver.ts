import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface ReceivedHook {
  at: number;
  idempotencyKey: string;
  signatureValid: boolean;
  body: any;
}

/**
 * A real HTTP server standing in for the ops team's webhook endpoint. It checks the signature the
 * way a receiver would (HMAC-SHA256 over `${timestamp}.${body}`) and records every request, so a
 * test can count duplicates by idempotency key.
 */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  private server: Server | undefined;
  port = 0;
  /** Status to answer with; a test may make the receiver fail for a while. */
  status = 200;
  /** While set, requests are recorded but their answers wait for it (a receiver slow to answer). */
  hold: Promise<void> | undefined;

  constructor(readonly secret: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const ts = String(req.headers['x-vigie-timestamp'] ?? '');
        const sig = String(req.headers['x-vigie-signature'] ?? '');
        const expected = 'sha256=' + createHmac('sha256', this.secret).update(`${ts}.${raw}`).digest('hex');
        const signatureValid =
          sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {
          /* recorded as text */
        }
        this.received.push({
          at: Date.now(),
          idempotencyKey: String(req.headers['idempotency-key'] ?? ''),
          signatureValid,
          body,
        });
        if (this.hold) await this.hold;
        if (!res.destroyed) res.writeHead(this.status, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', () => r()));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  forIncident(id: string): ReceivedHook[] {
    return this.received.filter((h) => h.body?.incident?.id === id || h.body?.incidentId === id);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
