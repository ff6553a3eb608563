#!/usr/bin/env node
// vigie-sim: plays a scenario (--scenario) or generates load (--devices N --rate R).
import { parseDuration } from '../../rules/src/duration.js';
import { ConfigError } from '../../gateway/src/core/errors.js';
import { createLogger } from '../../gateway/src/core/log.js';
import { runLoad } from './load.js';
import { startSimulator } from './simulator.js';

const USAGE = `usage:
  scenario: node dist/firmware-sim/src/cli.js --url mqtt://127.0.0.1:1883 --scenario FILE [--site S] [--duration 10m]
  load:     node dist/firmware-sim/src/cli.js --url URL --devices N --rate R [--duration 10s] [--site bench]
            [--username U --password P] [--connections 2] [--json]
`;

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out.set(a.slice(2), 'true');
    else out.set(a.slice(2), argv[++i]);
  }
  return out;
}

function durationArg(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (ms === undefined) throw new Error(`--duration "${v}" is not a duration (use 10s, 5m)`);
  return ms;
}

function intArg(v: string | undefined, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number`);
  return n;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const url = args.get('url') ?? 'mqtt://127.0.0.1:1883';
  if (args.has('help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.has('devices') || args.has('rate')) {
    const report = await runLoad({
      url,
      devices: intArg(args.get('devices'), 'devices'),
      rate: intArg(args.get('rate'), 'rate'),
      durationMs: durationArg(args.get('duration')) ?? 10_000,
      site: args.get('site'),
      username: args.get('username'),
      password: args.get('password'),
      connections: args.has('connections') ? intArg(args.get('connections'), 'connections') : undefined,
    });
    if (args.has('json')) process.stdout.write(JSON.stringify(report) + '\n');
    else {
      process.stdout.write(
        `sent ${report.sent} events in ${(report.elapsedMs / 1000).toFixed(2)} s: ` +
          `${report.achievedRate.toFixed(0)}/s achieved for ${report.targetRate}/s asked\n`,
      );
    }
    return 0;
  }
  const scenario = args.get('scenario');
  if (!scenario) {
    process.stderr.write(USAGE);
    return 2;
  }
  const logger = createLogger('info', 'simulator');
  const durationMs = durationArg(args.get('duration'));
  const sim = startSimulator({ url, scenario, site: args.get('site'), durationMs, logger });
  return new Promise((resolve) => {
    const stop = () => sim.stop().then(() => resolve(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (durationMs !== undefined) setTimeout(stop, durationMs);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`scenario rejected:\n${err.message}\n`);
    else process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  },
);
