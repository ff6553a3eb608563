import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './child.js';
import { freePort, waitForPort } from './ports.js';

export interface MosquittoOptions {
  /** Fixed port (to restart on the same one); a free port otherwise. */
  port?: number;
  /** Extra mosquitto.conf lines (password_file, acl_file...). Anonymous access is allowed by default. */
  extraConfig?: string[];
}

/** A real Mosquitto on a loopback port, in its own temp dir, stopped by its own pid. */
export class Mosquitto {
  private child: ChildProcess | undefined;
  readonly logs: string[] = [];

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly configFile: string,
  ) {}

  static async start(opts: MosquittoOptions = {}): Promise<Mosquitto> {
    const port = opts.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'vigie-mosquitto-'));
    const configFile = join(dir, 'mosquitto.conf');
    const extra = opts.extraConfig ?? [];
    const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr'];
    if (!extra.some((l) => l.startsWith('allow_anonymous'))) lines.push('allow_anonymous true');
    writeFileSync(configFile, [...lines, ...extra].join('\n') + '\n');
    const m = new Mosquitto(port, dir, configFile);
    await m.launch();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops this Mosquitto (SIGTERM to its pid) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await stopChild(child, 5000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops it and removes its temp dir. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const child = spawn('mosquitto', ['-c', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => this.logs.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.logs.push(d.toString()));
    this.child = child;
    const failed = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${this.logs.join('')}`))),
    );
    failed.catch(() => undefined);
    await Promise.race([waitForPort(this.port), failed]);
  }
}
