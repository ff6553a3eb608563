import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { lineCollector } from './child.js';

export const ROOT = resolve(import.meta.dirname, '../../../..');
export const CLI = join(ROOT, 'dist/gateway/src/cli.js');
export const EXAMPLE_SITE = join(ROOT, 'rules/examples/site.yaml');
export const EXAMPLE_RULES = join(ROOT, 'rules/examples');
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export function tempDir(prefix = 'vigie-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The real gateway as a child process (`vigie start`), on free ports, with its own data directory.
 * The same data directory can be handed to a second start to prove what survives a SIGKILL.
 */
export class GatewayProcess {
  private child: ChildProcess | undefined;
  readonly logs: string[] = [];
  httpPort = 0;
  mqttPort = 0;
  private exitWaiters: Array<() => void> = [];

  constructor(
    readonly dir: string,
    readonly config: Record<string, unknown>,
    /** Extra environment (NOTIFY_SOCKET for the systemd tests). */
    readonly env: Record<string, string> = {},
  ) {}

  get configFile(): string {
    return join(this.dir, 'vigie.yaml');
  }

  get api(): string {
    return `http://127.0.0.1:${this.httpPort}/api/v1`;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    const cfg = {
      site: EXAMPLE_SITE,
      rules: EXAMPLE_RULES,
      dataDir: join(this.dir, 'data'),
      log: { level: 'debug', format: 'pretty' },
      ...this.config,
      http: { host: '127.0.0.1', port: 0, ...(this.config.http as object) },
      mqtt: { host: '127.0.0.1', port: 0, ...(this.config.mqtt as object) },
      auth: { adminToken: ADMIN_TOKEN, ...(this.config.auth as object) },
    };
    writeFileSync(this.configFile, stringify(cfg));
    // A restart of the same process object must read its own "ready" line, not the previous run's.
    const from = this.logs.length;
    const child = spawn(process.execPath, [CLI, 'start', '--config', this.configFile], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIGIE_CONFIG: '', ...this.env },
    });
    this.child = child;
    const onData = lineCollector(this.logs);
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', () => {
      for (const w of this.exitWaiters.splice(0)) w();
    });
    const line = await this.waitForLog(/Vigie ready/, timeoutMs, from);
    const http = /API http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
    const mqtt = /MQTT port (\d+)/.exec(line);
    if (!http) throw new Error(`cannot read the HTTP port from: ${line}`);
    this.httpPort = Number(http[1]);
    this.mqttPort = mqtt ? Number(mqtt[1]) : 0;
  }

  /** Resolves with the first log line (past or future) matching `re`. */
  async waitForLog(re: RegExp, timeoutMs = 10_000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs.slice(from).find((l) => re.test(l));
      if (hit) return hit;
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) {
        throw new Error(
          `gateway exited (${this.child.exitCode}) before ${re}; log:\n${this.logs.slice(-40).join('\n')}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${re}; log tail:\n${this.logs.slice(-40).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    token = ADMIN_TOKEN,
  ): Promise<{ status: number; json: any }> {
    const res = await fetch(this.api + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      /* metrics and other text bodies stay text */
    }
    return { status: res.status, json };
  }

  async get(path: string): Promise<any> {
    const r = await this.request('GET', path);
    if (r.status !== 200) throw new Error(`GET ${path} -> ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }

  async metrics(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/metrics`);
    return res.text();
  }

  /** A power cut, as far as the process can tell: no shutdown code runs. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  signalOnly(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.exitWaiters.push(r));
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** `vigie ARGS` as a user types it (no VIGIE_CONFIG from the test's environment): exit code and output. */
export function runCli(args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, VIGIE_CONFIG: '' } });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
