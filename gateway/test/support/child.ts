import type { ChildProcess } from 'node:child_process';

/** Stops a child process by its own pid: `signal`, then SIGKILL if it has not exited in time. */
export async function stopChild(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A `data` listener that appends each complete line of a child's output to `lines`. */
export function lineCollector(lines: string[]): (d: Buffer) => void {
  let buf = '';
  return (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
}
