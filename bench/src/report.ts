// Turns phase results into the printed table, the targets of DESIGN.md (PASS / MISS, never
// rounded in the system's favour) and the files under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { footprintMarkdown, type FootprintResult } from './footprint.js';
import type { PhaseResult } from './phase.js';

export interface Target {
  name: string;
  verdict: 'PASS' | 'MISS' | 'NOT MEASURED';
  detail: string;
}

export interface BenchResults {
  date: string;
  machine: { cpus: number; model: string; node: string; platform: string };
  settings: Record<string, unknown>;
  phases: PhaseResult[];
  /** Systems that could not be started, with the reason. */
  errors: Array<{ system: string; rate: number; error: string }>;
  gatewayMaxSustained?: number;
  /** Steady traffic (events that change no incident), from the gateway's own counters. */
  steady?: ReadonlyArray<{
    rate: number;
    acceptedRate: number;
    cpuPercent: number;
    rssMb: number;
    sustained: boolean;
  }>;
  targets: Target[];
  /** The gateway alone on one core, 1,000 devices (issue 7): start-up, idle, 1k events/s. */
  footprint?: FootprintResult;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-');
const mb = (b: number) => (b / 1024 / 1024).toFixed(0);

export function evaluateTargets(phases: readonly PhaseResult[], gatewayMax: number | undefined): Target[] {
  const gw = phases.filter((p) => p.system === 'vigie-gateway');
  const bare = new Map(phases.filter((p) => p.system === 'bare-broker').map((p) => [p.rate, p]));
  const targets: Target[] = [];
  for (const g of gw) {
    const b = bare.get(g.rate);
    if (!b) continue;
    const ok50 = g.subscriber.measured.p50 <= 1.25 * b.subscriber.measured.p50;
    const ok99 = g.subscriber.measured.p99 <= 1.25 * b.subscriber.measured.p99;
    targets.push({
      name: `p50/p99 within 1.25x of the bare broker at ${g.rate}/s`,
      verdict: ok50 && ok99 ? 'PASS' : 'MISS',
      detail:
        `p50 ${ms(g.subscriber.measured.p50)} vs ${ms(b.subscriber.measured.p50)} ms ` +
        `(${(g.subscriber.measured.p50 / b.subscriber.measured.p50).toFixed(2)}x), ` +
        `p99 ${ms(g.subscriber.measured.p99)} vs ${ms(b.subscriber.measured.p99)} ms ` +
        `(${(g.subscriber.measured.p99 / b.subscriber.measured.p99).toFixed(2)}x)`,
    });
  }
  if (targets.length === 0) {
    targets.push({
      name: 'p50/p99 within 1.25x of the bare broker',
      verdict: 'NOT MEASURED',
      detail: 'no rate measured for both the gateway and the bare broker',
    });
  }
  // Issue 5: a rule authored in Node-RED runs in the same engine; it must cost what the YAML one does.
  const flow = phases.filter((p) => p.system === 'vigie-flow-rule');
  for (const f of flow) {
    const y = gw.find((g) => g.rate === f.rate);
    if (!y) continue;
    const fm = f.subscriber.measured;
    const ym = y.subscriber.measured;
    targets.push({
      name: `Node-RED-authored rule p50/p99 within 1.25x of the YAML rule at ${f.rate}/s`,
      verdict: f.sustained && fm.p50 <= 1.25 * ym.p50 && fm.p99 <= 1.25 * ym.p99 ? 'PASS' : 'MISS',
      detail: `p50 ${ms(fm.p50)} vs ${ms(ym.p50)} ms, p99 ${ms(fm.p99)} vs ${ms(ym.p99)} ms${f.sustained ? '' : ' (flow rule not sustained)'}`,
    });
  }
  const at1k = gw.find((p) => p.rate === 1000);
  targets.push(
    at1k
      ? {
          name: 'p99 <= 5 ms at 1k events/s',
          verdict: at1k.subscriber.measured.p99 <= 5 ? 'PASS' : 'MISS',
          detail: `p99 ${ms(at1k.subscriber.measured.p99)} ms`,
        }
      : { name: 'p99 <= 5 ms at 1k events/s', verdict: 'NOT MEASURED', detail: 'no gateway phase at 1k/s' },
  );
  targets.push(
    gw.length > 0
      ? {
          name: '>= 50k events/s sustained',
          verdict: (gatewayMax ?? 0) >= 50_000 ? 'PASS' : 'MISS',
          detail: gatewayMax ? `highest rate sustained: ${gatewayMax}/s` : 'no rate sustained',
        }
      : { name: '>= 50k events/s sustained', verdict: 'NOT MEASURED', detail: 'the gateway did not run' },
  );
  const peak = Math.max(0, ...gw.map((p) => p.peakRssBytes));
  targets.push(
    gw.length > 0
      ? {
          name: 'RSS <= 150 MB',
          verdict: peak <= 150 * 1024 * 1024 ? 'PASS' : 'MISS',
          detail: `peak ${mb(peak)} MB`,
        }
      : { name: 'RSS <= 150 MB', verdict: 'NOT MEASURED', detail: 'the gateway did not run' },
  );
  return targets;
}

export function tableRows(phases: readonly PhaseResult[]): string[][] {
  const head = [
    'system',
    'rate/s',
    'sent/s',
    'recv/s',
    'count',
    'p50 ms',
    'p99 ms',
    'max ms',
    'CPU %',
    'RSS MB',
    'sustained',
  ];
  const rows = phases.map((p) => [
    p.system,
    String(p.rate),
    p.load.achievedRate.toFixed(0),
    p.deliveredRate.toFixed(0),
    String(p.subscriber.measured.count),
    ms(p.subscriber.measured.p50),
    ms(p.subscriber.measured.p99),
    ms(p.subscriber.measured.max),
    p.cpuPercent.toFixed(0),
    mb(p.peakRssBytes),
    p.sustained ? 'yes' : `NO: ${p.problems.join('; ')}`,
  ]);
  return [head, ...rows];
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n');
}

export function markdown(r: BenchResults): string {
  const md = [
    `# Vigie benchmark, ${r.date}`,
    '',
    `Machine: ${r.machine.cpus} x ${r.machine.model}, Node ${r.machine.node}, ${r.machine.platform}.`,
    `Settings: ${JSON.stringify(r.settings)}`,
  ];
  // A footprint-only run (--only footprint) has no comparison to show.
  if (r.phases.length > 0 || r.targets.length > 0) md.push('', ...comparison(r));
  if (r.footprint) md.push('', ...footprintMarkdown(r.footprint));
  if (r.errors.length > 0) {
    md.push('', '## Errors', '', ...r.errors.map((e) => `- ${e.system} at ${e.rate}/s: ${e.error}`));
  }
  md.push('', 'How to read this: bench/README.md.', '');
  return md.join('\n');
}

function comparison(r: BenchResults): string[] {
  const rows = tableRows(r.phases);
  return [
    `| ${rows[0].join(' | ')} |`,
    `|${rows[0].map(() => ' --- ').join('|')}|`,
    ...rows.slice(1).map((row) => `| ${row.join(' | ')} |`),
    '',
    `Gateway: highest rate sustained ${r.gatewayMaxSustained ?? 'none'}${r.gatewayMaxSustained ? ' events/s' : ''} when every event is an incident transition.`,
    '',
    ...(r.steady && r.steady.length > 0
      ? [
          'Steady traffic (every event evaluated, none changes an incident; from `vigie_events_in_total`):',
          '',
          '| rate/s | taken in/s | CPU % | RSS MB | sustained |',
          '| --- | --- | --- | --- | --- |',
          ...r.steady.map(
            (x) =>
              `| ${x.rate} | ${x.acceptedRate.toFixed(0)} | ${x.cpuPercent.toFixed(0)} | ${x.rssMb.toFixed(0)} | ${x.sustained ? 'yes' : 'no'} |`,
          ),
          '',
        ]
      : []),
    '## Targets (DESIGN.md)',
    '',
    ...r.targets.map((t) => `- **${t.verdict}** ${t.name}: ${t.detail}`),
  ];
}

export function machine(): BenchResults['machine'] {
  const c = cpus();
  return {
    cpus: c.length,
    model: c[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** `mdName`: latest.md for a full run; a partial run writes elsewhere so the full report stays. */
export function writeResults(
  dir: string,
  r: BenchResults,
  mdName = 'latest.md',
): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = `${dir}/${r.date.replace(/:/g, '-')}.json`;
  const md = `${dir}/${mdName}`;
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(md, markdown(r));
  return { json, md };
}
