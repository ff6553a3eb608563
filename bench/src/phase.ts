// One phase: one system under test, one rate. Probe the pipeline end to end, start the measuring
// subscriber, run the load generator (each in its own process), collect latency, CPU and memory.
import mqtt from 'mqtt';
import type { LoadReport } from '../../firmware-sim/src/load.js';
import { sampleProc, sleep, startChild, type Child } from './proc.js';
import { BACKLOG_P99_MS, backlogGrowing } from './stats.js';
import type { SubscriberReport } from './subscriber.js';
import { DIST, PROBE_DEVICE, SITE, type SystemUnderTest } from './systems.js';

export const BENCH_RULE = 'bench-temperature-immediate';

export interface PhaseOptions {
  rate: number;
  devices: number;
  warmupMs: number;
  measureMs: number;
  /** Time left after the load ends for messages still in flight. */
  drainMs: number;
}

export interface PhaseResult {
  system: string;
  rate: number;
  load: LoadReport;
  subscriber: SubscriberReport;
  /** Outputs received for events of the measured window, per second of the window. */
  deliveredRate: number;
  /** CPU of the system's processes over the measured window, percent of one core. */
  cpuPercent: number;
  /** Peak resident memory (sum of the system's processes). */
  peakRssBytes: number;
  sustained: boolean;
  /** Why the phase is not sustained (empty when it is). */
  problems: string[];
}

/** Publishes probe events until the system answers on the measured topic: the pipeline is live. */
async function probe(sut: SystemUnderTest, timeoutMs = 30_000): Promise<void> {
  const sub = await mqtt.connectAsync(sut.url, {
    ...sut.measure,
    clientId: `probe-sub-${process.pid}`,
    reconnectPeriod: 0,
  });
  const pub = await mqtt.connectAsync(sut.url, {
    ...sut.load,
    clientId: `probe-pub-${process.pid}`,
    reconnectPeriod: 0,
  });
  try {
    const answered = new Promise<void>((resolve) =>
      sub.on('message', (_t, _p, pk) => !pk.retain && resolve()),
    );
    await sub.subscribeAsync(sut.measure.topic);
    const end = Date.now() + timeoutMs;
    let hot = true;
    let done = false;
    void answered.then(() => (done = true));
    while (!done) {
      if (Date.now() > end) throw new Error(`${sut.name} did not answer the probe within ${timeoutMs} ms`);
      const payload = JSON.stringify({ celsius: hot ? 35 : 15, ts: Date.now() });
      await pub.publishAsync(`vigie/${SITE}/temperature/${PROBE_DEVICE}`, payload, { qos: 0 });
      hot = !hot;
      await Promise.race([answered, sleep(250)]);
    }
  } finally {
    await Promise.all([sub.endAsync(true), pub.endAsync(true)]);
  }
}

function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (sampleProc(pid)?.cpuMs ?? 0), 0);
}

export async function runPhase(sut: SystemUnderTest, o: PhaseOptions): Promise<PhaseResult> {
  await probe(sut);
  const cred = (c: { username?: string; password?: string }) =>
    c.username === undefined ? [] : ['--username', c.username, '--password', c.password ?? ''];
  const subscriber = startChild(process.execPath, [
    new URL('bench/src/subscriber.js', DIST).pathname,
    ...['--url', sut.url, '--topic', sut.measure.topic, '--mode', sut.measure.mode],
    ...['--warmup', String(o.warmupMs), '--rule', BENCH_RULE, ...cred(sut.measure)],
  ]);
  const totalMs = o.warmupMs + o.measureMs;
  let loadgen: Child | undefined;
  // Memory is sampled through the run; CPU is taken over the measured window only.
  let peakRss = 0;
  const sampler = setInterval(() => {
    const rss = sut.pids.reduce((s, pid) => s + (sampleProc(pid)?.rssBytes ?? 0), 0);
    peakRss = Math.max(peakRss, rss);
  }, 200);
  let loadLine: string;
  let subLine: string;
  let cpu: number;
  try {
    await subscriber.waitLine((l) => l.includes('"ready"'), 10_000, 'the measuring subscriber');
    loadgen = startChild(process.execPath, [
      new URL('firmware-sim/src/cli.js', DIST).pathname,
      ...['--url', sut.url, '--devices', String(o.devices), '--rate', String(o.rate)],
      ...['--duration', `${totalMs}ms`, '--site', SITE, '--connections', String(o.rate >= 20_000 ? 4 : 2)],
      ...['--json', ...cred(sut.load)],
    ]);
    await sleep(o.warmupMs);
    const cpu0 = cpuMs(sut.pids);
    const t0 = performance.now();
    loadLine = await loadgen.waitLine((l) => l.startsWith('{"sent"'), totalMs + 30_000, 'the load generator');
    cpu = ((cpuMs(sut.pids) - cpu0) / (performance.now() - t0)) * 100;
    await sleep(o.drainMs);
    subscriber.send('stop');
    subLine = await subscriber.waitLine((l) => l.startsWith('{"report"'), 15_000, 'the subscriber report');
  } finally {
    clearInterval(sampler);
    await Promise.all([subscriber.stop(), loadgen?.stop()]);
  }

  const load = JSON.parse(loadLine) as LoadReport;
  const report = (JSON.parse(subLine) as { report: SubscriberReport }).report;
  const problems: string[] = [];
  if (load.achievedRate < 0.95 * o.rate)
    problems.push(`sent ${load.achievedRate.toFixed(0)}/s of ${o.rate}/s`);
  // Outputs of events sent in the measured window, per second of that window: late or lost ones
  // lower it (the subscriber's own rate would not see events that never came out).
  const deliveredRate = (report.measured.count * 1000) / o.measureMs;
  if (deliveredRate < 0.95 * o.rate) problems.push(`delivered ${deliveredRate.toFixed(0)}/s of ${o.rate}/s`);
  // More warm-up outputs than warm-up events: outputs arrived late carrying an old event's ts
  // (e.g. a clear stamped with the ts of the event that opened the incident).
  const warmupEvents = (load.achievedRate * o.warmupMs) / 1000;
  if (report.warmup > 1.05 * warmupEvents + 10) {
    problems.push(`${report.warmup - Math.round(warmupEvents)} outputs carried the ts of an earlier event`);
  }
  if (backlogGrowing(report.perSecondP50)) problems.push('latency kept growing (backlog)');
  if (report.measured.p99 > BACKLOG_P99_MS) problems.push(`p99 above ${BACKLOG_P99_MS} ms (backlog)`);
  const hwm = sut.pids.reduce((s, pid) => s + (sampleProc(pid)?.hwmBytes ?? 0), 0);
  return {
    system: sut.name,
    rate: o.rate,
    load,
    subscriber: report,
    deliveredRate,
    cpuPercent: cpu,
    peakRssBytes: Math.max(peakRss, hwm),
    sustained: problems.length === 0,
    problems,
  };
}
