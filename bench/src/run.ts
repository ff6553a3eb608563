// npm run bench: the gateway, the same rule as a plain Node-RED flow, and the bare broker forward,
// measured one after the other on this machine, then a ramp to the gateway's highest sustained rate,
// then the gateway's footprint pinned to one core (footprint.ts).
//   node dist/bench/src/run.js [--rates 1000,5000,10000,20000] [--ramp 30000,50000,70000,100000]
//     [--systems bare-broker,node-red,vigie-gateway,vigie-flow-rule] [--seconds 10] [--warmup 2] [--devices 10000]
//     [--no-example-rules] [--steady 20000,50000,70000]
//     [--only footprint | --no-footprint] [--footprint-seconds 60] [--footprint-idle 20]
//     [--footprint-devices 1000] [--footprint-rate 1000] [--footprint-ceiling 2000,5000]
//   node dist/bench/src/run.js --only replay [--replay-devices 1000] [--replay-days 7] [--replay-runs 3]
//     [--replay-seed 8] [--replay-keep DIR] [--no-replay-profile]   (replay-week.ts)
import { fileURLToPath } from 'node:url';
import { measureFootprint, requireTaskset, type FootprintOptions } from './footprint.js';
import { measureReplayWeek, replayWeekOptions } from './replay-week.js';
import { startVigieGateway } from './gateway-sut.js';
import { measureSteady, type SteadyResult } from './steady.js';
import { startNodeRed } from './node-red-sut.js';
import { runPhase, type PhaseOptions, type PhaseResult } from './phase.js';
import {
  evaluateTargets,
  formatTable,
  machine,
  tableRows,
  writeResults,
  type BenchResults,
} from './report.js';
import { liveChildren } from './proc.js';
import { DEVICES, ROOT, startBareBroker, type SystemName, type SystemUnderTest } from './systems.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const list = (v: string | undefined, dflt: number[]) => (v ? v.split(',').map(Number) : dflt);

const only = arg('only');
if (only !== undefined && only !== 'footprint' && only !== 'replay') {
  process.stderr.write(`--only ${only}: the parts that run alone are "footprint" and "replay"\n`);
  process.exit(2);
}
// --only footprint: no comparison phases at all (empty rates, systems and steady rates).
const compare = only === undefined;
const rates = compare ? list(arg('rates'), [1000, 5000, 10_000, 20_000]) : [];
const ramp = list(arg('ramp'), [30_000, 50_000, 70_000, 100_000, 150_000]);
const systems = (
  compare
    ? (arg('systems')?.split(',') ?? ['bare-broker', 'node-red', 'vigie-gateway', 'vigie-flow-rule'])
    : []
) as SystemName[];
const exampleRules = !process.argv.includes('--no-example-rules');
const steadyRates = list(arg('steady'), [20_000, 50_000, 70_000]);
const base: Omit<PhaseOptions, 'rate'> = {
  devices: Number(arg('devices') ?? DEVICES),
  warmupMs: Number(arg('warmup') ?? 2) * 1000,
  measureMs: Number(arg('seconds') ?? 10) * 1000,
  drainMs: 2000,
};
const footprint: FootprintOptions | undefined = process.argv.includes('--no-footprint')
  ? undefined
  : {
      devices: Number(arg('footprint-devices') ?? 1000),
      rate: Number(arg('footprint-rate') ?? 1000),
      idleMs: Number(arg('footprint-idle') ?? 20) * 1000,
      windowMs: Number(arg('footprint-seconds') ?? 60) * 1000,
      // --footprint-ceiling 0: no rate above the main one.
      ceilingRates: list(arg('footprint-ceiling'), [2000, 5000]).filter((r) => r > 0),
      shortMs: base.measureMs,
      warmupMs: base.warmupMs,
      drainMs: base.drainMs,
      exampleRules,
    };
if (only === 'footprint' && !footprint) {
  process.stderr.write('--only footprint and --no-footprint: nothing to run\n');
  process.exit(2);
}

const starters: Record<SystemName, () => Promise<SystemUnderTest>> = {
  'bare-broker': startBareBroker,
  'node-red': startNodeRed,
  // To bench the gateway with its own config instead, change this one line.
  'vigie-gateway': () => startVigieGateway({ exampleRules }),
  'vigie-flow-rule': () => startVigieGateway({ exampleRules, flowRule: true }),
};

const phases: PhaseResult[] = [];
const errors: BenchResults['errors'] = [];

async function measure(system: SystemName, rate: number): Promise<PhaseResult | undefined> {
  process.stdout.write(`- ${system} at ${rate}/s ... `);
  let sut: SystemUnderTest | undefined;
  try {
    sut = await starters[system]();
    const r = await runPhase(sut, { ...base, rate });
    phases.push(r);
    const m = r.subscriber.measured;
    process.stdout.write(
      `p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ${r.deliveredRate.toFixed(0)}/s delivered` +
        `${r.sustained ? '' : ` (NOT sustained: ${r.problems.join('; ')})`}\n`,
    );
    return r;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    errors.push({ system, rate, error });
    process.stdout.write(`FAILED: ${error}\n`);
    return undefined;
  } finally {
    await sut?.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  // A week of a 1,000-device site through the example rules (issue 8): bench/results/replay.md only.
  if (only === 'replay') {
    const file = await measureReplayWeek(replayWeekOptions(process.argv), (text) =>
      process.stdout.write(text),
    );
    process.stdout.write(`\nWritten ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    return;
  }
  // Before minutes of comparison phases, not after.
  if (footprint) requireTaskset();
  if (compare) {
    process.stdout.write(
      `Vigie bench: ${base.devices} devices, ${base.warmupMs / 1000} s warm-up + ${base.measureMs / 1000} s per phase\n`,
    );
  }
  let gatewayMax: number | undefined;
  let gatewayStopped = false;
  // Past the first rate it does not sustain, a gateway variant only builds a backlog: skip it.
  let flowRuleStopped = false;
  for (const rate of rates) {
    for (const system of systems) {
      if (system === 'vigie-gateway' && gatewayStopped) continue;
      if (system === 'vigie-flow-rule' && flowRuleStopped) continue;
      const r = await measure(system, rate);
      if (system === 'vigie-gateway') {
        if (r?.sustained) gatewayMax = rate;
        else gatewayStopped = true;
      }
      if (system === 'vigie-flow-rule' && !r?.sustained) flowRuleStopped = true;
    }
  }
  if (systems.includes('vigie-gateway') && !gatewayStopped) {
    for (const rate of ramp.filter((r) => r > Math.max(...rates))) {
      const r = await measure('vigie-gateway', rate);
      if (!r?.sustained) break;
      gatewayMax = rate;
    }
  }
  const steady: SteadyResult[] = [];
  if (systems.includes('vigie-gateway')) {
    for (const rate of steadyRates) {
      process.stdout.write(`- vigie-gateway steady traffic (no event changes an incident) at ${rate}/s ... `);
      try {
        const r = await measureSteady(rate, base.measureMs / 1000, base.devices, exampleRules);
        steady.push(r);
        process.stdout.write(
          `${r.acceptedRate.toFixed(0)}/s taken in, CPU ${r.cpuPercent.toFixed(0)} %, RSS ${r.rssMb.toFixed(0)} MB${r.sustained ? '' : ' (NOT sustained)'}\n`,
        );
        if (!r.sustained) break;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        errors.push({ system: 'vigie-gateway', rate, error: `steady: ${error}` });
        process.stdout.write(`FAILED: ${error}\n`);
        break;
      }
    }
  }
  let footprintResult: BenchResults['footprint'];
  if (footprint) {
    try {
      footprintResult = await measureFootprint(footprint, (text) => process.stdout.write(text));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      errors.push({ system: 'footprint', rate: footprint.rate, error });
      process.stdout.write(`FAILED: ${error}\n`);
    }
  }
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: machine(),
    settings: compare
      ? { ...base, rates, ramp, systems, exampleRules, footprint: footprint ?? false }
      : { footprint },
    phases,
    errors,
    gatewayMaxSustained: gatewayMax,
    steady,
    targets: compare ? evaluateTargets(phases, gatewayMax) : [],
    footprint: footprintResult,
  };
  const steadyBest = steady.filter((r) => r.sustained).at(-1);
  if (steady.length > 0) {
    results.targets.push({
      name: '>= 50k events/s sustained, steady traffic (no event changes an incident)',
      verdict: (steadyBest?.rate ?? 0) >= 50_000 ? 'PASS' : 'MISS',
      detail: steadyBest
        ? `${steadyBest.acceptedRate.toFixed(0)}/s taken in at ${steadyBest.rate}/s, CPU ${steadyBest.cpuPercent.toFixed(0)} %, RSS ${steadyBest.rssMb.toFixed(0)} MB`
        : 'no rate sustained',
    });
  }
  if (compare) {
    process.stdout.write('\n' + formatTable(tableRows(phases)) + '\n\n');
    process.stdout.write(
      `Gateway: highest rate sustained ${gatewayMax ?? 'none'} when every event is an incident transition; ` +
        `${steadyBest?.rate ?? 'none'} events/s of steady traffic (no transition)\n\nTargets (DESIGN.md):\n`,
    );
    for (const t of results.targets)
      process.stdout.write(`  ${t.verdict.padEnd(12)} ${t.name}: ${t.detail}\n`);
  }
  // A footprint-only run leaves latest.md (the full report) as it is.
  const files = writeResults(
    fileURLToPath(new URL('bench/results', ROOT)),
    results,
    compare ? 'latest.md' : 'footprint.md',
  );
  process.stdout.write(
    `\nWritten ${files.json} and ${files.md} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the processes of the bench\n`);
    void Promise.all([...liveChildren].map((c) => c.stop(2000))).then(() => process.exit(130));
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
