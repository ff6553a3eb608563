// The measuring subscriber, in its own process. Latency = its receive time minus the triggering
// event's ts, on one clock shared by the processes of the machine (performance.timeOrigin + now).
// Incident mode reads `triggerTs` from incident payloads; raw mode reads `ts` from sensor payloads.
// Prints {"ready":true} once subscribed; on a "stop" line on stdin prints its report and exits.
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { numberField, Samples } from './stats.js';

export interface SubscriberReport {
  received: number;
  /** Messages that were retained (old state) or carried no usable timestamp: not measured. */
  ignored: number;
  /** Messages whose event time fell in the warm-up (not measured). */
  warmup: number;
  measured: ReturnType<Samples['summary']>;
  /** Median latency per second of event time in the measured window, to see a backlog build up. */
  perSecondP50: number[];
  /** Events of the measured window delivered, per second of that window (lost ones lower it). */
  rate: number;
}

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const url = arg('url')!;
const topic = arg('topic')!;
const field = arg('mode') === 'raw' ? 'ts' : 'triggerTs';
const warmupMs = Number(arg('warmup', '2000'));
/** Incident mode: only this rule's transitions are measured (the example rules may add others). */
const rule = arg('rule');

const now = () => performance.timeOrigin + performance.now();
const samples = new Samples();
const buckets: Samples[] = [];
let received = 0;
let warmup = 0;
let ignored = 0;
let firstTs = 0;
let lastTs = 0;

const client = await mqtt.connectAsync(url, {
  clientId: `measure-${process.pid}`,
  username: arg('username'),
  password: arg('password'),
  reconnectPeriod: 0,
});
client.on('message', (_topic, payload, packet) => {
  const t = now();
  received++;
  if (packet.retain) return void ignored++;
  // Fast path (no JSON.parse per message at 100k/s): the subscriber must not be the bottleneck.
  const text = payload.toString();
  if (rule !== undefined && /"rule(Id)?"/.test(text) && !text.includes(`"${rule}"`)) return void ignored++;
  const ts = numberField(text, field);
  if (ts === undefined) return void ignored++;
  // The warm-up (JIT, connections, first allocations) is cut by event time, not receipt time, so
  // a backlog built during the warm-up cannot leak into the measured window.
  if (firstTs === 0) firstTs = ts;
  const sinceStart = ts - firstTs - warmupMs;
  if (sinceStart < 0) return void warmup++;
  samples.add(t - ts);
  lastTs = Math.max(lastTs, ts);
  const sec = Math.floor(sinceStart / 1000);
  while (buckets.length <= sec) buckets.push(new Samples());
  buckets[sec].add(t - ts);
});
await client.subscribeAsync(topic, { qos: 0 });
process.stdout.write(JSON.stringify({ ready: true }) + '\n');

const finish = async () => {
  const windowMs = lastTs - (firstTs + warmupMs);
  const report: SubscriberReport = {
    received,
    ignored,
    warmup,
    measured: samples.summary(),
    perSecondP50: buckets.map((b) => b.summary().p50),
    rate: windowMs > 0 ? (samples.length * 1000) / windowMs : 0,
  };
  process.stdout.write(JSON.stringify({ report }) + '\n');
  await client.endAsync(true);
  process.exit(0);
};
createInterface({ input: process.stdin }).on('line', (l) => l.trim() === 'stop' && void finish());
process.on('SIGTERM', () => void finish());
