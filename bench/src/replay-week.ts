// Issue 8: "a week of recording for 1,000 devices replays in seconds; measure and report it".
// Generates a site of 1,000 devices of the example site's kinds (doors with and without badge
// readers, service doors on a schedule, temperature sensors, AED cabinets, appliances) and one
// week of their traffic as a recording, then replays it through the example rules, each run in a
// fresh process (its own peak RSS), and writes bench/results/replay.md.
//   node dist/bench/src/run.js --only replay [--replay-devices 1000] [--replay-days 7] [--replay-runs 3]
//     [--replay-seed 8] [--replay-keep DIR] [--no-replay-profile]
// Run as `node replay-week.js --replay-child DIR [--decode-only]` it is one measured replay.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { emptyRead, readRecording } from '../../gateway/src/workbench/recording.js';
import { replayFile } from '../../gateway/src/workbench/replay.js';
import { loadWorkbench } from '../../gateway/src/workbench/setup.js';
import { startChild } from './proc.js';
import { ROOT } from './systems.js';
import {
  DAY,
  FORCED_RATE,
  generateWeek,
  HELD_OPEN_RATE,
  MIN,
  SITE,
  type GeneratedWeek,
  type WeekOptions,
} from './week-traffic.js';

// ---------------------------------------------------------------------------------------------
// Measuring: each replay in a fresh process, so its peak RSS is its own and nothing is warm.

export interface ReplayRun {
  /** Site file read and rules compiled. */
  loadMs: number;
  /** replayFile from call to result (reading, decoding, the rules, escalations, deliveries). */
  replayMs: number;
  /** The replay's own wallMs (ReplayResult). */
  resultWallMs: number;
  events: number;
  actions: number;
  skipped: number;
  problems: string[];
  incidents: number;
  incidentsByRule: Record<string, number>;
  acknowledged: number;
  escalations: number;
  notifications: number;
  byChannel: Record<string, number>;
  byOutcome: Record<string, number>;
  /** Voice notifications sent, and the people they reached. */
  calls: number;
  peopleCalled: string[];
  maxRssMb: number;
  cpuMs: number;
}

const countBy = <T>(xs: readonly T[], key: (x: T) => string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
};

function usage(): { maxRssMb: number; cpuMs: number } {
  const u = process.resourceUsage();
  // maxRSS is in kilobytes.
  return {
    maxRssMb: Math.round(u.maxRSS / 1024),
    cpuMs: Math.round((u.userCPUTime + u.systemCPUTime) / 1000),
  };
}

/** One measured replay of the week in `dir` (this process is fresh: run as --replay-child). */
async function replayOnce(dir: string): Promise<ReplayRun> {
  const t0 = performance.now();
  const { workbench, problems } = await loadWorkbench({
    rulesDir: join(dir, 'rules'),
    siteFile: join(dir, 'site.yaml'),
    // As a gateway with a voice and an SMS provider: people are called and texted.
    channels: ['voice', 'sms'],
  });
  if (!workbench) throw new Error(`the workbench did not load: ${JSON.stringify(problems.slice(0, 5))}`);
  const t1 = performance.now();
  const r = await replayFile(workbench, join(dir, 'week.jsonl'));
  const t2 = performance.now();
  const calls = r.notifications.filter((n) => n.channelType === 'voice' && n.outcome === 'sent');
  return {
    loadMs: t1 - t0,
    replayMs: t2 - t1,
    resultWallMs: r.wallMs,
    events: r.events,
    actions: r.actions,
    skipped: r.skipped,
    problems: [...problems.map((p) => `${p.file}:${p.line}: ${p.message}`), ...r.problems],
    incidents: r.incidents.length,
    incidentsByRule: countBy(r.incidents, (i) => i.ruleId),
    acknowledged: r.incidents.filter((i) => i.acknowledgedAt !== undefined).length,
    escalations: r.incidents.reduce((n, i) => n + i.escalations.length, 0),
    notifications: r.notifications.length,
    byChannel: countBy(r.notifications, (n) => n.channelType),
    byOutcome: countBy(r.notifications, (n) => n.outcome),
    calls: calls.length,
    peopleCalled: [...new Set(calls.map((n) => n.toName))].sort(),
    ...usage(),
  };
}

/** Reading and decoding the file alone: the floor under any replay. */
async function decodeOnce(dir: string): Promise<{ ms: number; items: number; maxRssMb: number }> {
  const t0 = performance.now();
  let items = 0;
  for await (const _ of readRecording(join(dir, 'week.jsonl'), emptyRead())) items++;
  return { ms: performance.now() - t0, items, ...usage() };
}

export interface ReplayWeekOptions extends WeekOptions {
  runs: number;
  /** One more run under `node --cpu-prof`, summarised in the report. */
  profile: boolean;
  /** Keep the generated files there (else a temp dir, removed at the end). */
  keep?: string;
}

/** The --replay-* options of run.ts. */
export function replayWeekOptions(argv: readonly string[]): ReplayWeekOptions {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const o: ReplayWeekOptions = {
    devices: Number(arg('replay-devices') ?? 1000),
    days: Number(arg('replay-days') ?? 7),
    seed: Number(arg('replay-seed') ?? 8),
    runs: Number(arg('replay-runs') ?? 3),
    profile: !argv.includes('--no-replay-profile'),
  };
  const keep = arg('replay-keep');
  if (keep !== undefined) o.keep = keep;
  return o;
}

export interface ReplayWeekResult {
  date: string;
  machine: { cpu: string; cores: number; node: string; platform: string };
  options: ReplayWeekOptions;
  generated: GeneratedWeek;
  decode: { ms: number; items: number; maxRssMb: number };
  runs: ReplayRun[];
  /** 1-minute load average of the machine before each run: other work skews the timings. */
  loadAvg: number[];
  profile?: ProfileSummary;
}

async function child(dir: string, mode: string[], nodeFlags: string[] = []): Promise<string> {
  const script = fileURLToPath(import.meta.url);
  const c = startChild(process.execPath, [...nodeFlags, script, '--replay-child', dir, ...mode]);
  try {
    const line = await c.waitLine((l) => l.startsWith('{'), 30 * MIN, 'the replay');
    // It exits by itself once the line is out (a CPU profile is written at exit: no SIGTERM then).
    await Promise.race([c.exited, new Promise((r) => setTimeout(r, 30_000))]);
    return line;
  } catch (err) {
    throw new Error(`${(err as Error).message}; stderr: ${c.stderr.slice(-10).join(' | ')}`, { cause: err });
  } finally {
    await c.stop();
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a file's self time belongs, read with the replay's own structure in mind. */
const AREAS: [RegExp, string][] = [
  [
    /workbench\/recording\.js|readline|internal\/streams|internal\/fs|^node:fs|string_decoder|^\(native\) read$/,
    'reading the file: fs, line splitting (readline), JSON.parse and checks (`decodeLine`)',
  ],
  [
    /(^|\/)rules\/src\//,
    'rules engine (`rules/src`: ingest, conditions, `for` windows, heartbeats, schedules)',
  ],
  [
    /(^|\/)gateway\/src\/(route|engage)\/|better-sqlite3/,
    'route and engage: incidents, escalation, deliveries, rate limits, templates, SQLite in memory',
  ],
  [
    /workbench\/(replay|simulation|dry-run-channel)\.js|runMicrotasks|node:events|task_queues|abort_controller|promises/,
    'the replay loop and its async iteration (readline iterator -> `readRecording` -> `replayFile` -> `for await`)',
  ],
  [/garbage collector/, 'garbage collector'],
];

export interface ProfileSummary {
  totalMs: number;
  areas: { area: string; ms: number }[];
  functions: { name: string; ms: number }[];
}

/** Self time of a V8 CPU profile, by area and by function. */
export function summarizeProfile(p: CpuProfile, root: string): ProfileSummary {
  const byNode = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const f = byNode.get(id)!;
    if (f.functionName === '(idle)') continue;
    total += us;
    const file = f.url.replace(root, '') || '(native)';
    const where = `${file} ${f.functionName}`;
    const area =
      AREAS.find(([re]) => re.test(file) || re.test(where))?.[1] ?? 'other (start-up, module loading, ...)';
    areas.set(area, (areas.get(area) ?? 0) + us);
    const fn = `\`${f.functionName || '(anonymous)'}\` ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return {
    totalMs: total / 1000,
    areas: top(areas, 10).map(([area, us]) => ({ area, ms: us / 1000 })),
    functions: top(fns, 12).map(([name, us]) => ({ name, ms: us / 1000 })),
  };
}

/** One more replay under `node --cpu-prof`, not counted in the timings. */
async function profileOnce(dir: string): Promise<ProfileSummary> {
  const profDir = mkdtempSync(join(tmpdir(), 'vigie-bench-prof-'));
  try {
    await child(dir, [], ['--cpu-prof', '--cpu-prof-dir', profDir]);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('node --cpu-prof wrote no profile');
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile;
    return summarizeProfile(profile, new URL('../../', import.meta.url).href);
  } finally {
    rmSync(profDir, { recursive: true, force: true });
  }
}

export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** Generates the week, replays it `runs` times, writes bench/results/replay.md; returns its path. */
export async function measureReplayWeek(o: ReplayWeekOptions, say: (text: string) => void): Promise<string> {
  const dir = o.keep ?? mkdtempSync(join(tmpdir(), 'vigie-bench-replay-'));
  try {
    say(`- replay: generating ${o.days} days of ${o.devices} devices in ${dir} ... `);
    const generated = generateWeek(o, dir);
    say(
      `${generated.totalEvents.toLocaleString('en')} events, ${generated.actions} actions, ` +
        `${(generated.bytes / 2 ** 20).toFixed(0)} MB in ${(generated.ms / 1000).toFixed(1)} s\n`,
    );
    say('- replay: reading and decoding the file alone ... ');
    const decode = JSON.parse(await child(dir, ['--decode-only'])) as ReplayWeekResult['decode'];
    say(`${(decode.ms / 1000).toFixed(2)} s\n`);
    const runs: ReplayRun[] = [];
    const loadAvg: number[] = [];
    for (let i = 1; i <= o.runs; i++) {
      say(`- replay: run ${i}/${o.runs} ... `);
      loadAvg.push(loadavg()[0]);
      const r = JSON.parse(await child(dir, [])) as ReplayRun;
      runs.push(r);
      say(
        `${(r.replayMs / 1000).toFixed(2)} s, ${Math.round(r.events / (r.replayMs / 1000)).toLocaleString('en')} events/s, ` +
          `peak RSS ${r.maxRssMb} MB, ${r.incidents} incidents, ${r.notifications} notifications\n`,
      );
    }
    const result: ReplayWeekResult = {
      date: new Date().toISOString(),
      machine: {
        cpu: cpuModel(),
        cores: cpus().length,
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      options: o,
      generated,
      decode,
      runs,
      loadAvg,
    };
    if (o.profile) {
      say('- replay: one more run under node --cpu-prof ... ');
      result.profile = await profileOnce(dir);
      say(`${(result.profile.totalMs / 1000).toFixed(2)} s of CPU samples\n`);
    }
    const file = fileURLToPath(new URL('bench/results/replay.md', ROOT));
    writeFileSync(file, replayMarkdown(result));
    return file;
  } finally {
    if (o.keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const int = (n: number) => Math.round(n).toLocaleString('en');
const list = (r: Record<string, number>) =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${int(v)}`)
    .join(', ');

export function replayMarkdown(r: ReplayWeekResult): string {
  const g = r.generated;
  const runs = r.runs;
  const mid = (f: (x: ReplayRun) => number) => median(runs.map(f));
  const all = (f: (x: ReplayRun) => number, fmt: (n: number) => string) =>
    runs.map((x) => fmt(f(x))).join(' / ');
  const rate = (x: ReplayRun) => x.events / (x.replayMs / 1000);
  const first = runs[0];
  const same = runs.every(
    (x) =>
      x.incidents === first.incidents && x.notifications === first.notifications && x.events === first.events,
  );
  return [
    `# Replay: ${g.to - g.from === 7 * DAY ? 'a week' : `${(g.to - g.from) / DAY} days`} of a ${int(r.options.devices)}-device site`,
    '',
    `Measured ${r.date} on ${r.machine.cores} cores of ${r.machine.cpu}, Node ${r.machine.node}, ${r.machine.platform}; ` +
      `1-minute load average before each run ${r.loadAvg.map((l) => l.toFixed(1)).join(' / ')} ` +
      '(about 1 is the bench itself, its previous step; more is other work sharing the machine).',
    `Run it: \`npm run bench -- --only replay\` (\`--replay-devices N --replay-days N --replay-runs N --replay-seed N\`, ` +
      '`--replay-keep DIR` keeps the generated site, rules and recording). Source: `bench/src/replay-week.ts`.',
    '',
    '## What was replayed',
    '',
    `A generated site (\`${SITE}\`, the example site's people, teams, on-call rotation, policies, templates, ` +
      `schedules and badge lists) of ${list(g.devices)} devices over 10 zones, through the example rules ` +
      '(`rules/examples/*.yaml`: door held open, door forced, door outside hours, temperature out of range, ' +
      'server room overheating, AED removed, appliance fault and repeated faults, sensor offline), with the ' +
      'channels `voice` and `sms` given (dry run), so people are called and texted as their channel lists say.',
    '',
    `The recording: ${new Date(g.from).toISOString()} to ${new Date(g.to).toISOString()} (Monday to Sunday, Paris), ` +
      `${int(g.totalEvents)} events (${list(g.events)}) and ${g.actions} operator acknowledgements, ` +
      `${(g.bytes / 2 ** 20).toFixed(0)} MB of JSON lines (${(g.bytes / g.totalEvents).toFixed(0)} bytes an event), ` +
      `generated in ${sec(g.ms)} (seeded, the same file every time).`,
    '',
    '- Temperatures every 5 min (a daily swing of about ±1.4 °C), doors report their state every 5 min, ' +
      'AED cabinets every 15 min, appliances every 10 min; heartbeats 10, 15, 40 and 30 min.',
    `- Doors: 20 to 80 passages a day in terminal hours (badge, open a second later, closed 2.5 to 15 s later); ` +
      `service doors 8 to 18 on weekdays in service hours; ${HELD_OPEN_RATE * 100} % of passages held open 35 s to 4 min, ` +
      `${FORCED_RATE * 100} % of badge-reader passages without a badge (forced).`,
    '- Scripted episodes:',
    ...g.notes.map((n) => `  - ${n}`),
    '',
    `## Results (median of ${runs.length} runs, each in a fresh \`node\` process)`,
    '',
    '| measure | median | runs |',
    '| --- | --- | --- |',
    `| load: site file read, rules compiled | ${sec(mid((x) => x.loadMs))} | ${all((x) => x.loadMs, sec)} |`,
    `| **replay wall time** (as fast as possible) | **${sec(mid((x) => x.replayMs))}** | ${all((x) => x.replayMs, sec)} |`,
    `| events replayed per second | ${int(mid(rate))} | ${all(rate, int)} |`,
    `| peak RSS of the process (\`process.resourceUsage().maxRSS\`) | ${mid((x) => x.maxRssMb)} MB | ${all(
      (x) => x.maxRssMb,
      (n) => `${n} MB`,
    )} |`,
    `| CPU time (user + system) | ${sec(mid((x) => x.cpuMs))} | ${all((x) => x.cpuMs, sec)} |`,
    `| reading and decoding the file alone (\`readRecording\`, no rules) | ${sec(r.decode.ms)} | one run, peak RSS ${r.decode.maxRssMb} MB |`,
    '',
    `What the rules would have done (${same ? 'identical in every run' : '**NOT identical across runs**'}):`,
    '',
    `- events replayed ${int(first.events)}, actions ${first.actions}, skipped ${first.skipped}`,
    `- incidents opened: ${int(first.incidents)} (${list(first.incidentsByRule)}); ${first.acknowledged} acknowledged; ` +
      `${int(first.escalations)} escalations`,
    `- notifications planned: ${int(first.notifications)} (by channel: ${list(first.byChannel)}; by outcome: ${list(first.byOutcome)})`,
    `- calls (voice, sent): ${int(first.calls)}, to ${first.peopleCalled.join(', ') || 'nobody'}`,
    ...(first.problems.length > 0
      ? ['', 'Problems reported:', '', ...first.problems.slice(0, 20).map((p) => `- ${p}`)]
      : []),
    ...(r.profile ? profileMarkdown(r.profile) : []),
    '',
  ].join('\n');
}

function profileMarkdown(p: ProfileSummary): string[] {
  const pct = (ms: number) => `${((ms / p.totalMs) * 100).toFixed(0)} %`;
  return [
    '',
    '## Where the time goes',
    '',
    `One more run under \`node --cpu-prof\` (not in the timings above): ${sec(p.totalMs)} of samples, ` +
      "self time (a function's own, without what it calls; a built-in such as `JSON.parse` counts in its caller).",
    '',
    '| area | ms | share |',
    '| --- | --- | --- |',
    ...p.areas.map((a) => `| ${a.area} | ${int(a.ms)} | ${pct(a.ms)} |`),
    '',
    '| function (self time) | ms | share |',
    '| --- | --- | --- |',
    ...p.functions.map((f) => `| ${f.name} | ${int(f.ms)} | ${pct(f.ms)} |`),
  ];
}

// Run as a child by measureReplayWeek: one measurement, one JSON line on stdout.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--replay-child');
  const dir = i >= 0 ? process.argv[i + 1] : undefined;
  if (dir === undefined) {
    process.stderr.write('usage: replay-week.js --replay-child DIR [--decode-only]\n');
    process.exit(2);
  }
  const work = process.argv.includes('--decode-only') ? decodeOnce(dir) : replayOnce(dir);
  work.then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
