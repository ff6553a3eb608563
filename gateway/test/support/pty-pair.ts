import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Two pseudo-terminals joined by socat: what one side writes, the other reads, as over a serial
 * cable. `<dir>/modem` is the gateway's end, `<dir>/emulator` the fake modem's. Killing socat is a
 * modem unplugged: both ends see the link drop and the two links disappear.
 */
export class PtyPair {
  readonly logs: string[] = [];

  private constructor(
    readonly dir: string,
    private child: ChildProcess | undefined,
  ) {}

  get modemPath(): string {
    return join(this.dir, 'modem');
  }

  get emulatorPath(): string {
    return join(this.dir, 'emulator');
  }

  /** Starts socat with its links in `dir` (a new temp dir when absent); resolves once both exist. */
  static async start(dir = mkdtempSync(join(tmpdir(), 'vigie-pty-'))): Promise<PtyPair> {
    const child = spawn(
      'socat',
      [
        '-d',
        '-d',
        `pty,raw,echo=0,link=${join(dir, 'modem')}`,
        `pty,raw,echo=0,link=${join(dir, 'emulator')}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const pair = new PtyPair(dir, child);
    child.stderr?.on('data', (d: Buffer) => pair.logs.push(d.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    const until = Date.now() + 5000;
    while (!existsSync(pair.modemPath) || !existsSync(pair.emulatorPath)) {
      if (exited || Date.now() > until) {
        await pair.stop();
        throw new Error(`socat did not make its ptys: ${pair.logs.join('')}`);
      }
      await sleep(10);
    }
    return pair;
  }

  /** Kills socat (SIGTERM to its pid) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops socat and removes the directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
