// Footprint on one core (issue 7), so a Raspberry Pi owner can size the box: the gateway runs under
// `taskset -c <one core>` on a site of 1,000 devices, while this process, the load generator and the
// measuring subscriber (its children, which inherit its mask) are moved to the other cores.
// Measured: start-up (spawn -> /readyz 200 -> first incident published), RSS and CPU at idle, then
// RSS, CPU and latency at 1,000 events/s, a few higher rates for the one-core ceiling, and the
// cost of everyday traffic (events that change no incident).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import type { LoadReport } from '../../firmware-sim/src/load.js';
import { startVigieGateway, type StartedGateway } from './gateway-sut.js';
import { runPhase } from './phase.js';
import { sampleProc, sleep, startChild, type ProcSample } from './proc.js';
import { DIST, PROBE_DEVICE, SITE } from './systems.js';

export interface FootprintOptions {
  devices: number;
  /** Events/s of the main window (every event an incident transition). */
  rate: number;
  idleMs: number;
  windowMs: number;
  /** Higher rates, each on a fresh gateway, until one is not sustained. */
  ceilingRates: number[];
  /** Measured window of the ceiling rates and of everyday traffic. */
  shortMs: number;
  warmupMs: number;
  drainMs: number;
  exampleRules: boolean;
}

export interface RssSummary {
  /** At the start of the window: with max and final, tells a plateau from growth. */
  startMb: number;
  maxMb: number;
  finalMb: number;
  /** Every 10 s of the window. */
  trendMb: number[];
}

export interface FootprintLoad {
  rate: number;
  windowS: number;
  sentPerS: number;
  recvPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuPercent: number;
  cpuMsPer1kEvents: number;
  rss: RssSummary;
  sustained: boolean;
  problems: string[];
}

export interface FootprintResult {
  gatewayCpus: string;
  /** Cores of the load generator, the subscriber and the bench; null when they share the gateway's. */
  loadCpus: string | null;
  devices: number;
  startup: {
    readyMs: number;
    /** Spawn to the first incident out, the event sent as soon as ready (2 MQTT logins in between). */
    firstIncidentMs?: number;
    /** That first event alone: published -> incident out. */
    firstEventMs?: number;
    rssAtReadyMb: number;
  };
  idle: { seconds: number; cpuPercent: number; rss: RssSummary };
  loads: FootprintLoad[];
  /** Events that change no incident (most telemetry), at `rate`, from the gateway's own counter. */
  everyday?: {
    rate: number;
    windowS: number;
    sentPerS: number;
    takenInPerS: number;
    cpuPercent: number;
    cpuMsPer1kEvents: number;
    rss: RssSummary;
    sustained: boolean;
  };
  errors: string[];
}

/** CPU list syntax of taskset and /proc/PID/status (`0-3,6`) -> core numbers. */
export function parseCpuList(text: string): number[] {
  const cores: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`"${text}" is not a CPU list`);
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) cores.push(c);
  }
  return cores;
}

/** CPU time between two samples of one process, in percent of one core over wallMs. */
export function cpuPercent(before: ProcSample, after: ProcSample, wallMs: number): number {
  return wallMs > 0 ? ((after.cpuMs - before.cpuMs) / wallMs) * 100 : NaN;
}

/** At `percent` of one core handling `eventsPerS`: CPU milliseconds spent per 1,000 events. */
export function cpuMsPer1kEvents(percent: number, eventsPerS: number): number {
  // percent of one core = percent * 10 ms of CPU per second of wall time.
  return eventsPerS > 0 ? (percent * 10 * 1000) / eventsPerS : NaN;
}

/** Sum of a Prometheus counter over all its label sets. */
export function counterTotal(metrics: string, name: string): number {
  let n = 0;
  for (const m of metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, 'gm')))
    n += Number(m[1]);
  return n;
}

/** Samples a process's RSS every 250 ms: the first, the largest, the last and one per 10 s. */
class RssWatch {
  private samples = 0;
  private first = 0;
  private max = 0;
  private last = 0;
  private readonly trend: number[] = [];
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }
  private sample(): void {
    const rss = sampleProc(this.pid)?.rssBytes;
    if (rss === undefined) return;
    if (this.samples++ === 0) this.first = rss;
    if (this.samples % 40 === 0) this.trend.push(mb(rss));
    this.last = rss;
    this.max = Math.max(this.max, rss);
  }
  /** Idempotent: the summary as of now. */
  stop(): RssSummary {
    clearInterval(this.timer);
    this.sample();
    return { startMb: mb(this.first), maxMb: mb(this.max), finalMb: mb(this.last), trendMb: [...this.trend] };
  }
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

export function requireTaskset(): void {
  const r = spawnSync('taskset', ['--version']);
  if (r.error) {
    throw new Error(
      'taskset not found: the footprint pins the gateway to one core with it. Install util-linux ' +
        '(apt-get install util-linux) or run the bench with --no-footprint.',
      { cause: r.error },
    );
  }
}

/** Moves every thread of this process (and so its future children) onto `cpus`. */
function pinSelf(cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

function allowedCpus(): string {
  const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no Cpus_allowed_list in /proc/self/status (the footprint needs Linux)');
  return m[1];
}

/** One hot event for the probe device once the gateway is ready: when does its incident come out? */
async function firstIncident(
  gw: StartedGateway,
  timeoutMs = 10_000,
): Promise<{ firstIncidentMs?: number; firstEventMs?: number }> {
  const sub = await mqtt.connectAsync(gw.url, { ...gw.measure, clientId: `footprint-sub-${process.pid}` });
  const pub = await mqtt.connectAsync(gw.url, { ...gw.load, clientId: `footprint-pub-${process.pid}` });
  try {
    const out = new Promise<number>((resolve) =>
      sub.on('message', (_t, _p, pk) => !pk.retain && resolve(performance.now())),
    );
    await sub.subscribeAsync(gw.measure.topic);
    const payload = JSON.stringify({ celsius: 35, ts: Date.now() });
    const sent = performance.now();
    await pub.publishAsync(`vigie/${SITE}/temperature/${PROBE_DEVICE}`, payload, { qos: 0 });
    const at = await Promise.race([out, sleep(timeoutMs).then(() => undefined)]);
    return at === undefined ? {} : { firstIncidentMs: at - gw.spawnedAt, firstEventMs: at - sent };
  } finally {
    await Promise.all([sub.endAsync(true), pub.endAsync(true)]);
  }
}

function procSample(pid: number): ProcSample {
  const s = sampleProc(pid);
  if (!s) throw new Error('the gateway process is gone');
  return s;
}

async function loadWindow(
  gw: StartedGateway,
  o: FootprintOptions,
  rate: number,
  measureMs: number,
): Promise<FootprintLoad> {
  const rss = new RssWatch(gw.pids[0]);
  try {
    const r = await runPhase(gw, {
      rate,
      devices: o.devices,
      warmupMs: o.warmupMs,
      measureMs,
      drainMs: o.drainMs,
    });
    const m = r.subscriber.measured;
    return {
      rate,
      windowS: measureMs / 1000,
      sentPerS: r.load.achievedRate,
      recvPerS: r.deliveredRate,
      p50Ms: m.p50,
      p99Ms: m.p99,
      maxMs: m.max,
      cpuPercent: r.cpuPercent,
      cpuMsPer1kEvents: cpuMsPer1kEvents(r.cpuPercent, r.load.achievedRate),
      rss: rss.stop(),
      sustained: r.sustained,
      problems: r.problems,
    };
  } finally {
    rss.stop();
  }
}

async function eventsIn(gw: StartedGateway): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`);
  return counterTotal(await res.text(), 'vigie_events_in_total');
}

/** Everyday traffic: every event validated and evaluated, none crosses the rule (no output to time). */
async function everyday(o: FootprintOptions, pinCpus: string): Promise<FootprintResult['everyday']> {
  const gw = await startVigieGateway({
    exampleRules: o.exampleRules,
    devices: o.devices,
    pinCpus,
    steady: true,
  });
  const pid = gw.pids[0];
  const rss = new RssWatch(pid);
  try {
    const before = await eventsIn(gw);
    const totalMs = o.warmupMs + o.shortMs;
    const load = startChild(process.execPath, [
      new URL('firmware-sim/src/cli.js', DIST).pathname,
      ...['--url', gw.url, '--devices', String(o.devices), '--rate', String(o.rate)],
      ...['--duration', `${totalMs}ms`, '--site', SITE, '--json'],
      ...['--username', gw.load.username ?? '', '--password', gw.load.password ?? ''],
    ]);
    await sleep(o.warmupMs);
    const cpu0 = procSample(pid);
    const t0 = performance.now();
    const line = await load.waitLine((l) => l.startsWith('{"sent"'), totalMs + 30_000, 'the load generator');
    const percent = cpuPercent(cpu0, procSample(pid), performance.now() - t0);
    await load.stop();
    await sleep(1000); // events still in flight
    const taken = (await eventsIn(gw)) - before;
    const report = JSON.parse(line) as LoadReport;
    return {
      rate: o.rate,
      windowS: o.shortMs / 1000,
      sentPerS: report.achievedRate,
      takenInPerS: (taken * 1000) / report.elapsedMs,
      cpuPercent: percent,
      cpuMsPer1kEvents: cpuMsPer1kEvents(percent, report.achievedRate),
      rss: rss.stop(),
      sustained: report.achievedRate >= 0.95 * o.rate && taken >= 0.99 * report.sent,
    };
  } finally {
    rss.stop();
    await gw.stop();
  }
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const pct = (p: number) => `${p.toFixed(p < 10 ? 1 : 0)} %`;
const firstText = (f: { firstIncidentMs?: number; firstEventMs?: number }) =>
  f.firstIncidentMs === undefined || f.firstEventMs === undefined
    ? 'none within 10 s'
    : `${sec(f.firstIncidentMs)} (${f.firstEventMs.toFixed(0)} ms after its event)`;
const rssMb = (r: RssSummary) => [r.startMb, r.maxMb, r.finalMb].map((v) => v.toFixed(0)).join(' / ');

export async function measureFootprint(
  o: FootprintOptions,
  say: (text: string) => void,
): Promise<FootprintResult> {
  requireTaskset();
  const original = allowedCpus();
  const cores = parseCpuList(original);
  const gatewayCpus = String(cores[0]);
  const loadCpus = cores.length > 1 ? cores.slice(1).join(',') : null;
  // The bench's own processes on the other cores: the gateway's core measures the gateway alone.
  if (loadCpus !== null) pinSelf(loadCpus);
  const errors: string[] = [];
  const attempt = async <T>(what: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      errors.push(`${what}: ${message}`);
      say(`FAILED: ${message}\n`);
      return undefined;
    }
  };
  const gatewayOptions = { exampleRules: o.exampleRules, devices: o.devices, pinCpus: gatewayCpus };
  try {
    say(`- footprint (gateway on CPU ${gatewayCpus}, ${o.devices} devices): start-up ... `);
    const gw = await startVigieGateway(gatewayOptions);
    const pid = gw.pids[0];
    let result: FootprintResult;
    try {
      const rssAtReadyMb = mb(procSample(pid).rssBytes);
      const first = await firstIncident(gw);
      say(`ready ${sec(gw.readyMs)}, first incident ${firstText(first)}\n`);
      say(`- footprint: idle ${o.idleMs / 1000} s ... `);
      const idleRss = new RssWatch(pid);
      const c0 = procSample(pid);
      const t0 = performance.now();
      await sleep(o.idleMs);
      const idle = {
        seconds: o.idleMs / 1000,
        cpuPercent: cpuPercent(c0, procSample(pid), performance.now() - t0),
        rss: idleRss.stop(),
      };
      say(`RSS start / max / final ${rssMb(idle.rss)} MB, CPU ${pct(idle.cpuPercent)}\n`);
      result = {
        gatewayCpus,
        loadCpus,
        devices: o.devices,
        startup: { readyMs: gw.readyMs, ...first, rssAtReadyMb },
        idle,
        loads: [],
        errors,
      };
      const main = await attempt(`${o.rate}/s`, () => {
        say(`- footprint: ${o.rate}/s for ${o.windowMs / 1000} s ... `);
        return loadWindow(gw, o, o.rate, o.windowMs);
      });
      if (main) {
        sayLoad(main, say);
        result.loads.push(main);
      }
    } finally {
      await gw.stop();
    }
    // Per-device state must start clean for every event to be a transition: a fresh gateway per rate.
    if (result.loads[0]?.sustained) {
      for (const rate of o.ceilingRates.filter((r) => r > o.rate)) {
        say(`- footprint: ${rate}/s on one core ... `);
        const r = await attempt(`${rate}/s`, async () => {
          const fresh = await startVigieGateway(gatewayOptions);
          try {
            return await loadWindow(fresh, o, rate, o.shortMs);
          } finally {
            await fresh.stop();
          }
        });
        if (!r) break;
        sayLoad(r, say);
        result.loads.push(r);
        if (!r.sustained) break;
      }
    }
    say(`- footprint: everyday traffic (no event changes an incident) at ${o.rate}/s ... `);
    result.everyday = await attempt(`everyday ${o.rate}/s`, () => everyday(o, gatewayCpus));
    if (result.everyday) {
      const e = result.everyday;
      say(
        `${e.takenInPerS.toFixed(0)}/s taken in, CPU ${pct(e.cpuPercent)}, RSS start / max / final ${rssMb(e.rss)} MB\n`,
      );
    }
    return result;
  } finally {
    if (loadCpus !== null) pinSelf(original);
  }
}

function sayLoad(r: FootprintLoad, say: (text: string) => void): void {
  say(
    `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, CPU ${pct(r.cpuPercent)} ` +
      `(${r.cpuMsPer1kEvents.toFixed(0)} ms per 1,000 events), RSS start / max / final ${rssMb(r.rss)} MB` +
      `${r.sustained ? '' : ` (NOT sustained: ${r.problems.join('; ')})`}\n`,
  );
}

const lat = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-');

/** The "Footprint (one core)" section of bench/results/*.md. */
export function footprintMarkdown(f: FootprintResult): string[] {
  const where =
    f.loadCpus === null
      ? 'the load generator and the subscriber share that core (only one core allowed)'
      : `the load generator, the subscriber and the bench on CPU ${f.loadCpus}`;
  return [
    '## Footprint (one core)',
    '',
    `The gateway pinned to CPU ${f.gatewayCpus} (\`taskset -c ${f.gatewayCpus}\`), ${where}; ` +
      `a site of ${f.devices} devices. RSS is the gateway process's resident memory, CPU its ` +
      'user + system time from /proc (100 % = one core busy).',
    '',
    '| measure | value |',
    '| --- | --- |',
    `| start-up: spawn to \`/readyz\` 200 | ${sec(f.startup.readyMs)} |`,
    `| start-up: spawn to first incident published (event sent when ready) | ${firstText(f.startup)} |`,
    `| RSS when ready | ${f.startup.rssAtReadyMb.toFixed(0)} MB |`,
    `| idle ${f.idle.seconds} s after start: RSS start / max / final | ${rssMb(f.idle.rss)} MB |`,
    `| idle: CPU | ${pct(f.idle.cpuPercent)} |`,
    ...(f.everyday
      ? [
          `| everyday traffic ${f.everyday.rate}/s (no event changes an incident), ${f.everyday.windowS} s: taken in | ` +
            `${f.everyday.takenInPerS.toFixed(0)}/s${f.everyday.sustained ? '' : ' (NOT sustained)'} |`,
          `| everyday traffic: CPU, per 1,000 events | ${pct(f.everyday.cpuPercent)}, ${f.everyday.cpuMsPer1kEvents.toFixed(0)} ms |`,
          `| everyday traffic: RSS start / max / final | ${rssMb(f.everyday.rss)} MB |`,
        ]
      : []),
    '',
    'Every event an incident transition (the worst case: each one opens or clears an incident, ' +
      'committed to SQLite and published), latency from the sensor event to the incident out:',
    '',
    '| rate/s | window s | sent/s | recv/s | p50 ms | p99 ms | max ms | CPU % | CPU ms per 1,000 events | RSS start / max / final MB | sustained |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...f.loads.map((r) =>
      [
        '',
        r.rate,
        r.windowS,
        r.sentPerS.toFixed(0),
        r.recvPerS.toFixed(0),
        lat(r.p50Ms),
        lat(r.p99Ms),
        lat(r.maxMs),
        r.cpuPercent.toFixed(0),
        r.cpuMsPer1kEvents.toFixed(0),
        rssMb(r.rss),
        r.sustained ? 'yes' : `NO: ${r.problems.join('; ')}`,
        '',
      ]
        .join(' | ')
        .trim(),
    ),
    ...(f.errors.length > 0 ? ['', ...f.errors.map((e) => `- failed: ${e}`)] : []),
  ];
}
