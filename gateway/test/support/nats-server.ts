import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './child.js';
import { onFreePorts, waitForHttp } from './ports.js';

/**
 * A real nats-server with JetStream on a loopback port, its store in a temp dir that survives a
 * stop/start (so an outage test finds its streams again), stopped by its own pid.
 */
export class NatsServer {
  private child: ChildProcess | undefined;
  readonly logs: string[] = [];

  private constructor(
    readonly port: number,
    readonly monitorPort: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<NatsServer> {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-nats-'));
    return onFreePorts(
      (a, b) => new NatsServer(a, b, dir),
      (s) => s.launch(),
    );
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** GET on the monitoring port (`/jsz?streams=true&consumers=true`, `/connz`...). */
  async monitor(path: string): Promise<any> {
    const r = await fetch(`http://127.0.0.1:${this.monitorPort}${path}`);
    return r.json();
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
    const args = [
      '-a',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-js',
      '-sd',
      this.dir,
      '-m',
      String(this.monitorPort),
    ];
    const child = spawn('nats-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => this.logs.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.logs.push(d.toString()));
    this.child = child;
    const failed = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${this.logs.join('')}`))),
    );
    failed.catch(() => undefined);
    await Promise.race([this.ready(), failed]);
  }

  /** Ready when JetStream answers on the monitoring port, not merely when the port is open. */
  private ready(): Promise<void> {
    return waitForHttp(
      `http://127.0.0.1:${this.monitorPort}/healthz?js-enabled-only=true`,
      (s) => s >= 200 && s < 300,
      15_000,
      () => this.logs.join('').slice(-2000),
    );
  }
}
