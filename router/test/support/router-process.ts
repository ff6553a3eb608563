import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { lineCollector } from '../../../gateway/test/support/child.js';
import { freePort } from '../../../gateway/test/support/ports.js';

/** dist/router/test/support -> the repository (or the build dir holding links to router/ and rules/). */
export const ROOT = resolve(import.meta.dirname, '../../../..');
export const MAIN = join(ROOT, 'dist/router/src/main.js');
export const EXAMPLE = join(ROOT, 'router/examples/router.yaml');

/** The airport example with this test's NATS, port and instance name. */
export function exampleConfig(over: Record<string, unknown>): Record<string, unknown> {
  const base = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  return { ...base, ...over };
}

/** A router as its own process (`node main.js --config FILE`), stopped by its own pid. */
export class RouterProcess {
  readonly logs: string[] = [];
  readonly exited: Promise<number | null>;
  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    const onData = lineCollector(this.logs);
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  }

  static async start(dir: string, name: string, config: Record<string, unknown>): Promise<RouterProcess> {
    const port = await freePort();
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify({ ...config, instance: name, http: { host: '127.0.0.1', port } }));
    const child = spawn(process.execPath, [MAIN, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new RouterProcess(name, port, child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited:\n${this.logs.join('\n')}`);
      try {
        if ((await fetch(this.url('/readyz'))).ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready:\n${this.logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async json(path: string): Promise<{ status: number; body: any }> {
    const r = await fetch(this.url(path));
    return { status: r.status, body: await r.json() };
  }

  async post(path: string, body: unknown): Promise<{ status: number; body: any }> {
    const r = await fetch(this.url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  }

  /** Sum of a metric's series whose labels include `labels` (0 when none). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(this.url('/metrics'))).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const set = m[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it does not stop in time. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}
