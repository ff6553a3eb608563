// Child processes for the bench: spawn with line-based stdout, wait for a line, stop by pid, and
// read a process's CPU time and memory from /proc (Linux).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Every stdout line so far (the last 2,000). */
  lines: string[];
  stderr: string[];
  waitLine(pred: (line: string) => boolean, timeoutMs: number, what: string): Promise<string>;
  send(line: string): void;
  stop(timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Every child still running, so an interrupted bench can stop them all by pid. */
export const liveChildren = new Set<Child>();

export function startChild(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Child {
  const proc = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${command}`);
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<(l: string) => void>();
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(l);
    if (lines.length > 2000) lines.shift();
    for (const w of waiters) w(l);
  });
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    stderr.push(l);
    if (stderr.length > 200) stderr.shift();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  void exited.then(() => liveChildren.delete(child));
  const child: Child = {
    proc,
    pid: proc.pid,
    lines,
    stderr,
    exited,
    waitLine(pred, timeoutMs, what) {
      const found = lines.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const done = (err: Error | undefined, line?: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(line!);
        };
        const check = (l: string) => pred(l) && done(undefined, l);
        const timer = setTimeout(
          () =>
            done(
              new Error(
                `timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${stderr.slice(-5).join(' | ')}`,
              ),
            ),
          timeoutMs,
        );
        waiters.add(check);
        void exited.then((code) =>
          done(new Error(`${what}: the process exited (${code}); stderr: ${stderr.slice(-10).join(' | ')}`)),
        );
      });
    },
    send(line) {
      proc.stdin!.write(line + '\n');
    },
    async stop(timeoutMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
    },
  };
  liveChildren.add(child);
  return child;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface ProcSample {
  /** user + system CPU time, ms. */
  cpuMs: number;
  rssBytes: number;
  /** Peak resident set since the process started (VmHWM). */
  hwmBytes: number;
}

// /proc/PID/stat fields 14 and 15 (utime, stime) are in clock ticks; USER_HZ is 100 on Linux.
const TICK_MS = 10;

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { cpuMs, rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
