// Steady-state throughput: how many events per second the gateway takes in and evaluates when the
// events change no incident (most telemetry on a real site). No output per event exists to time,
// so this is read from the gateway's own counter (vigie_events_in_total) and its process stats,
// and latency is not reported here: the latency phases are the ones where every event transitions.
import { readFileSync } from 'node:fs';
import { startVigieGateway } from './gateway-sut.js';
import { startChild } from './proc.js';
import { DIST, SITE } from './systems.js';

export interface SteadyResult {
  rate: number;
  sent: number;
  accepted: number;
  /** Events taken in per second over the load (counted up to 1 s after it ends). */
  acceptedRate: number;
  cpuPercent: number;
  rssMb: number;
  sustained: boolean;
}

async function eventsIn(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^vigie_events_in_total(?:\{[^}]*\})? (\d+)/gm)) n += Number(m[1]);
  return n;
}

function cpuTicks(pid: number): number {
  // utime + stime, fields 14 and 15 of /proc/PID/stat (after the parenthesised command name).
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

export async function measureSteady(
  rate: number,
  seconds: number,
  devices: number,
  exampleRules: boolean,
): Promise<SteadyResult> {
  const gw = await startVigieGateway({ exampleRules, steady: true });
  try {
    const pid = gw.pids[0];
    const before = await eventsIn(gw.httpPort);
    const ticks0 = cpuTicks(pid);
    const t0 = Date.now();
    const load = startChild(process.execPath, [
      new URL('firmware-sim/src/cli.js', DIST).pathname,
      '--url',
      gw.url,
      '--devices',
      String(devices),
      '--rate',
      String(rate),
      '--duration',
      `${seconds}s`,
      '--site',
      SITE,
      '--username',
      gw.load.username ?? '',
      '--password',
      gw.load.password ?? '',
      '--json',
    ]);
    const line = await load.waitLine((l) => l.startsWith('{"sent"'), seconds * 1000 + 30_000, 'the load');
    await load.stop();
    await new Promise((r) => setTimeout(r, 1000));
    const accepted = (await eventsIn(gw.httpPort)) - before;
    const elapsedS = (Date.now() - t0) / 1000;
    const cpuPercent = ((cpuTicks(pid) - ticks0) / 100 / elapsedS) * 100;
    const sent = (JSON.parse(line) as { sent: number }).sent;
    return {
      rate,
      sent,
      accepted,
      acceptedRate: accepted / seconds,
      cpuPercent,
      rssMb: peakRssMb(pid),
      sustained: sent >= rate * seconds * 0.95 && accepted >= sent * 0.99,
    };
  } finally {
    await gw.stop();
  }
}
