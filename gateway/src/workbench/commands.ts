import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDuration } from '../../../rules/src/duration.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { formatProblems } from '../core/errors.js';
import { INSTANT_HINT, parseInstant } from '../core/instant.js';
import { diffReplays, gateFailures } from './diff.js';
import { formatDiff } from './diff-report.js';
import type { RecordingInfo, ReplayResult } from './model.js';
import { formatReplay } from './report.js';
import { replayFile } from './replay.js';
import { formatRuleTestReport } from './rule-tests/output.js';
import { runRuleTests } from './rule-tests/run.js';
import { loadWorkbench, type Workbench } from './setup.js';

// `vigie record | replay | diff | test-rules`: the workbench from a shell. Exit status: 0 fine,
// 1 a finding (a failing rule test, a diff that must not go live), 2 unusable input.

export const WORKBENCH_USAGE = `  vigie record [--url URL] [--token T] [--name N] [--devices a,b] [--kinds k] [--zones z]
               [--duration 10m] [--max-size BYTES] [--out FILE]
                                     record a running gateway's events to FILE (until the duration
                                     ends or Ctrl-C); token from --token or $VIGIE_TOKEN
  vigie replay [--rules DIR] [--site FILE] [--flows FLOWS.json] [--channels voice,sms]
               [--from T] [--to T] [--speed N] [--json] RECORDING
                                     what the rules would do with RECORDING; sends nothing
  vigie diff --base DIR --proposed DIR [--site FILE] [--base-flows F] [--proposed-flows F]
               [--channels ..] [--json] RECORDING
                                     what a rule change would change; exit 1 when it adds a
                                     critical incident or removes any
  vigie test-rules [DIR] [--site FILE] [--flows FLOWS.json]
                                     run the rule tests (*.test.yaml) of DIR; exit 1 on a failure
`;

/** Options as `--name value`; every value option may repeat (`--flows a.json --flows b.json`). */
export class Args {
  readonly positional: string[] = [];
  private readonly values = new Map<string, string[]>();
  private readonly flags = new Set<string>();

  constructor(args: readonly string[], flags: readonly string[] = []) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!a.startsWith('--')) this.positional.push(a);
      else if (flags.includes(a)) this.flags.add(a);
      else {
        const v = args[i + 1];
        if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
        this.values.set(a, [...(this.values.get(a) ?? []), v]);
        i++;
      }
    }
  }

  one(name: string): string | undefined {
    return this.values.get(name)?.at(-1);
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  /** `--channels voice,sms --channels email` -> [voice, sms, email] */
  list(name: string): string[] {
    return this.all(name)
      .flatMap((v) => v.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  has(flag: string): boolean {
    return this.flags.has(flag);
  }
}

export class UsageError extends Error {}

/** A time on the command line, written as the API takes it. */
export function parseTime(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const t = parseInstant(text);
  if (t === undefined) throw new UsageError(`${name}: "${text}" is not ${INSTANT_HINT}`);
  return t;
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

const stdio: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  env: process.env,
};

export async function workbenchCommand(
  cmd: string,
  argv: readonly string[],
  io: Io = stdio,
): Promise<number> {
  try {
    switch (cmd) {
      case 'replay':
        return await replayCommand(new Args(argv, ['--json']), io);
      case 'diff':
        return await diffCommand(new Args(argv, ['--json']), io);
      case 'test-rules':
        return await testRulesCommand(new Args(argv), io);
      case 'record':
        return await recordCommand(new Args(argv), io);
      default:
        throw new UsageError(`unknown command ${cmd}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\nusage:\n${WORKBENCH_USAGE}`);
      return 2;
    }
    throw err;
  }
}

function baseConfig(a: Args, io: Io): Readonly<Config> {
  return loadConfig({ file: a.one('--config'), env: io.env });
}

async function workbench(
  io: Io,
  o: { rulesDir: string; siteFile: string; config: Readonly<Config>; flows: string[]; channels: string[] },
): Promise<Workbench | undefined> {
  const loaded = await loadWorkbench(o);
  if (!loaded.workbench || loaded.problems.length > 0) {
    io.err(`rules not loaded (nothing replayed):\n${formatProblems(loaded.problems)}\n`);
    return undefined;
  }
  return loaded.workbench;
}

function recordingArg(a: Args): string {
  const [file, ...extra] = a.positional;
  if (!file) throw new UsageError('which recording? (a .jsonl file from `vigie record`)');
  if (extra.length > 0) throw new UsageError(`one recording at a time (got ${a.positional.join(', ')})`);
  return file;
}

function replayOptions(a: Args): { from?: number; to?: number; speed?: number } {
  const o: { from?: number; to?: number; speed?: number } = {};
  const from = parseTime(a.one('--from'), '--from');
  const to = parseTime(a.one('--to'), '--to');
  if (from !== undefined) o.from = from;
  if (to !== undefined) o.to = to;
  const speed = a.one('--speed');
  if (speed !== undefined) {
    const n = Number(speed.replace(/x$/i, ''));
    if (!(n > 0))
      throw new UsageError(`--speed: "${speed}" is not a positive number (10 = ten times real time)`);
    o.speed = n;
  }
  return o;
}

async function replayCommand(a: Args, io: Io): Promise<number> {
  const file = recordingArg(a);
  const config = baseConfig(a, io);
  const wb = await workbench(io, {
    rulesDir: a.one('--rules') ?? config.rules,
    siteFile: a.one('--site') ?? config.site,
    config,
    flows: a.all('--flows'),
    channels: a.list('--channels'),
  });
  if (!wb) return 2;
  const opts = replayOptions(a);
  const json = a.has('--json');
  // At N x real time people watch it happen: each change is printed as it comes.
  const live = opts.speed !== undefined && !json;
  const result = await replayFile(wb, file, {
    ...opts,
    ...(live ? { onChange: (l) => io.out(`${new Date(l.at).toISOString()}  ${l.kind}  ${l.text}\n`) } : {}),
  });
  io.out(
    json ? JSON.stringify(result, null, 2) + '\n' : formatReplay(result, { timeZone: wb.site.timezone }),
  );
  return unusable(result, io) ? 2 : 0;
}

/** A recording nothing could be read from is an error, not an empty (reassuring) report. */
function unusable(r: ReplayResult, io: Io): boolean {
  if (r.events > 0 || r.actions > 0) return false;
  io.err(
    `nothing replayed: the recording has no usable event${r.problems.length ? `\n${r.problems.join('\n')}` : ''}\n`,
  );
  return true;
}

async function diffCommand(a: Args, io: Io): Promise<number> {
  const file = recordingArg(a);
  const config = baseConfig(a, io);
  const base = a.one('--base') ?? a.one('--rules') ?? config.rules;
  const proposed = a.one('--proposed');
  if (!proposed) throw new UsageError('--proposed DIR: the rule set to compare with today’s');
  const siteFile = a.one('--site') ?? config.site;
  const channels = a.list('--channels');
  const opts = replayOptions(a);
  if (opts.speed !== undefined) throw new UsageError('--speed: a diff runs as fast as it can');
  const results: ReplayResult[] = [];
  let timeZone: string | undefined;
  for (const [rulesDir, flows] of [
    [base, a.all('--base-flows')],
    [proposed, a.all('--proposed-flows')],
  ] as const) {
    const wb = await workbench(io, { rulesDir, siteFile, config, flows, channels });
    if (!wb) return 2;
    timeZone = wb.site.timezone;
    results.push(await replayFile(wb, file, opts));
  }
  const [before, after] = results;
  if (unusable(before, io)) return 2;
  const d = diffReplays(before, after);
  const failures = gateFailures(d, timeZone ? { timeZone } : {});
  if (a.has('--json')) io.out(JSON.stringify({ diff: d, failures }, null, 2) + '\n');
  else io.out(formatDiff(d, { from: before.from, ...(timeZone ? { timeZone } : {}) }));
  if (failures.length > 0) {
    io.err(`\nthis change must not go live as is:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

async function testRulesCommand(a: Args, io: Io): Promise<number> {
  const config = baseConfig(a, io);
  const rulesDir = a.positional[0] ?? a.one('--rules') ?? config.rules;
  const report = await runRuleTests({
    rulesDir,
    siteFile: a.one('--site') ?? config.site,
    config,
    flows: a.all('--flows'),
  });
  io.out(formatRuleTestReport(report));
  return report.ok ? 0 : 1;
}

async function recordCommand(a: Args, io: Io): Promise<number> {
  const config = baseConfig(a, io);
  const url = (a.one('--url') ?? `http://127.0.0.1:${config.http.port}`).replace(/\/$/, '');
  const token = a.one('--token') ?? io.env.VIGIE_TOKEN ?? io.env.VIGIE_ADMIN_TOKEN;
  if (!token) throw new UsageError('an API token with the integrator role: --token T or $VIGIE_TOKEN');
  const body: Record<string, unknown> = {};
  const name = a.one('--name');
  if (name) body.name = name;
  for (const key of ['devices', 'kinds', 'zones']) {
    const v = a.list(`--${key}`);
    if (v.length > 0) body[key] = v;
  }
  const duration = a.one('--duration');
  if (duration !== undefined) {
    if (parseDuration(duration) === undefined)
      throw new UsageError(`--duration: "${duration}" is not a duration (30s, 10m, 2h, 7d)`);
    body.duration = duration;
  }
  const maxSize = a.one('--max-size');
  if (maxSize !== undefined) body.maxBytes = Number(maxSize);
  const api = new GatewayApi(url, token);
  const started = await api.json<RecordingInfo>('POST', '/api/v1/recordings', body);
  io.err(
    `recording ${started.id} on ${url} (site ${started.site})` +
      (started.endsAt ? ` until ${new Date(started.endsAt).toISOString()}` : '; Ctrl-C to stop') +
      '\n',
  );
  const info = await untilStopped(api, started.id);
  const out = a.one('--out') ?? `${info.id}.jsonl`;
  const res = await api.raw('GET', `/api/v1/recordings/${info.id}/events`);
  await pipeline(
    Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
    createWriteStream(out),
  );
  io.err(
    `${info.events} events, ${info.actions} actions` +
      (info.droppedEvents > 0 ? ` (${info.droppedEvents} oldest dropped at the size bound)` : '') +
      ` -> ${out}\n`,
  );
  return 0;
}

/** Waits for the recording's own end (duration, size bound) or Ctrl-C, which stops it. */
async function untilStopped(api: GatewayApi, id: string): Promise<RecordingInfo> {
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (;;) {
      if (interrupted) return await api.json<RecordingInfo>('POST', `/api/v1/recordings/${id}/stop`);
      const info = await api.json<RecordingInfo>('GET', `/api/v1/recordings/${id}`);
      if (info.state !== 'recording') return info;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

class GatewayApi {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  async raw(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new UsageError(`cannot reach the gateway at ${this.base}: ${(err as Error).message}`);
    }
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
      } catch {
        // not JSON: the text as it came
      }
      throw new UsageError(`${method} ${path}: ${res.status} ${message}`);
    }
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.raw(method, path, body)).json()) as T;
  }
}
