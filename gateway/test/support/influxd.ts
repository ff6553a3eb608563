import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './child.js';
import { onFreePorts, waitForHttp } from './ports.js';

/**
 * A real InfluxDB 1.x (`influxd`, Debian package `influxdb`) on loopback ports, its data in a temp
 * dir that survives a stop/start (an outage test finds its database again), stopped by its own pid.
 */
export class Influxd {
  private child: ChildProcess | undefined;
  readonly logs: string[] = [];

  private constructor(
    readonly httpPort: number,
    readonly rpcPort: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<Influxd> {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-influx-'));
    return onFreePorts(
      (a, b) => new Influxd(a, b, dir),
      (s) => s.launch(),
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** An InfluxQL query over HTTP, as a client written by others would send it; throws on an error answer. */
  async query(db: string, q: string): Promise<InfluxResult[]> {
    const url = `${this.url}/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(q)}`;
    const r = await fetch(url);
    const body = (await r.json()) as { results?: InfluxResult[]; error?: string };
    if (!r.ok || body.error) throw new Error(`influx ${r.status}: ${body.error ?? JSON.stringify(body)}`);
    for (const res of body.results ?? []) if (res.error) throw new Error(`influx: ${res.error} in ${q}`);
    return body.results ?? [];
  }

  /** The rows of a one-statement query as objects keyed by column (tags of GROUP BY merged in). */
  async rows(db: string, q: string): Promise<Record<string, unknown>[]> {
    const [res] = await this.query(db, q);
    const out: Record<string, unknown>[] = [];
    for (const s of res?.series ?? []) {
      for (const v of s.values) {
        const row: Record<string, unknown> = { ...(s.tags ?? {}) };
        s.columns.forEach((c, i) => (row[c] = v[i]));
        out.push(row);
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await stopChild(child, 10_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const d = this.dir;
    const conf = join(d, 'influxdb.conf');
    writeFileSync(
      conf,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${this.rpcPort}"`,
        '[meta]',
        `  dir = "${d}/meta"`,
        '[data]',
        `  dir = "${d}/data"`,
        `  wal-dir = "${d}/wal"`,
        '  query-log-enabled = false',
        '[http]',
        `  bind-address = "127.0.0.1:${this.httpPort}"`,
        '  log-enabled = false',
        '[monitor]',
        '  store-enabled = false',
        '',
      ].join('\n'),
    );
    const child = spawn('influxd', ['-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (b: Buffer) => this.logs.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => this.logs.push(b.toString()));
    this.child = child;
    const failed = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`influxd exited (${code}): ${this.logs.join('')}`))),
    );
    failed.catch(() => undefined);
    await Promise.race([this.ready(), failed]);
  }

  /** Ready when `/ping` answers 204, not merely when the port is open. */
  private ready(): Promise<void> {
    return waitForHttp(
      `${this.url}/ping`,
      (s) => s === 204,
      20_000,
      () => this.logs.join('').slice(-2000),
    );
  }
}

export interface InfluxResult {
  statement_id: number;
  error?: string;
  series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
}
