import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileProblem } from '../../../../rules/src/model.js';
import type { Config } from '../../config/schema.js';
import type { RecordedItem, ReplayResult } from '../model.js';
import { replayItems } from '../replay.js';
import { loadWorkbench, type Workbench } from '../setup.js';
import { checkTest, scopeOf } from './check.js';
import { parseRuleTestFile } from './format.js';
import { matchExpectations, notificationLine, type Failure, type MatchClock } from './match.js';
import { DEFAULT_TAIL_MS, type Located, type RuleTest, type RuleTestFile } from './spec.js';
import { formatAt, resolveStart } from './time.js';

// `vigie test-rules`: every `*.test.yaml` of the rules directory, each test replayed through the
// rules on its own virtual clock by the replay core (the code that runs live), then checked.

export interface RuleTestOptions {
  rulesDir: string;
  siteFile: string;
  /** Test files; default every `*.test.yaml` / `*.test.yml` of rulesDir. */
  files?: readonly string[];
  config?: Readonly<Config>;
  /** Node-RED flows.json files whose rules run too. */
  flows?: readonly string[];
}

export interface RuleTestOutcome {
  file: string;
  line: number;
  name: string;
  passed: boolean;
  failures: Failure[];
  /** The test's clock, for the failure output. */
  start: number;
  end: number;
  timeZone: string;
  /** What the replay did, one line each (shown under a failure). */
  timeline: string[];
  wallMs: number;
}

export interface RuleTestReport {
  files: string[];
  /** Tests that ran. */
  tests: RuleTestOutcome[];
  passed: number;
  failed: number;
  /** Tests that could not run (their problem is in `problems`). */
  notRun: number;
  /** Malformed test files, tests naming what does not exist, rules or site that do not load. */
  problems: FileProblem[];
  /** Every test ran and passed, and there was at least one. */
  ok: boolean;
  wallMs: number;
}

export async function runRuleTests(o: RuleTestOptions): Promise<RuleTestReport> {
  const began = performance.now();
  const problems: FileProblem[] = [];
  const files = o.files ? [...o.files] : await testFiles(o.rulesDir, problems);
  const report: RuleTestReport = {
    files,
    tests: [],
    passed: 0,
    failed: 0,
    notRun: 0,
    problems,
    ok: false,
    wallMs: 0,
  };
  const benches = new Benches(o, problems);
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      problems.push({ file, line: 0, message: `cannot read the test file: ${(err as Error).message}` });
      continue;
    }
    const parsed = parseRuleTestFile(file, text);
    problems.push(...parsed.problems);
    if (!parsed.spec) continue;
    for (const test of parsed.spec.tests) {
      const outcome = await runTest(test, parsed.spec, benches, problems);
      if (!outcome) {
        report.notRun++;
        continue;
      }
      report.tests.push(outcome);
      if (outcome.passed) report.passed++;
      else report.failed++;
    }
  }
  if (files.length > 0 && report.tests.length + report.notRun === 0 && problems.length === 0)
    problems.push({ file: o.rulesDir, line: 0, message: 'the test files hold no test' });
  report.ok = report.failed === 0 && problems.length === 0 && report.tests.length > 0;
  report.wallMs = Math.round(performance.now() - began);
  return report;
}

async function testFiles(dir: string, problems: FileProblem[]): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    problems.push({
      file: dir,
      line: 0,
      message: `cannot read the rules directory: ${(err as Error).message}`,
    });
    return [];
  }
  const files = names.filter((n) => /\.test\.ya?ml$/.test(n)).sort();
  if (files.length === 0)
    problems.push({ file: dir, line: 0, message: 'no rule tests here (*.test.yaml beside the rules)' });
  return files.map((n) => join(dir, n));
}

/** One workbench per set of dry-run channels, loaded once; its problems reported once. */
class Benches {
  private readonly loaded = new Map<string, Promise<Workbench | undefined>>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly o: RuleTestOptions,
    private readonly problems: FileProblem[],
  ) {}

  get(channels: readonly Located<string>[], file: string): Promise<Workbench | undefined> {
    const key = channels
      .map((c) => c.value)
      .sort()
      .join(',');
    let p = this.loaded.get(key);
    if (!p) {
      p = this.load(channels, file);
      this.loaded.set(key, p);
    }
    return p;
  }

  private async load(channels: readonly Located<string>[], file: string): Promise<Workbench | undefined> {
    const { workbench, problems } = await loadWorkbench({
      rulesDir: this.o.rulesDir,
      siteFile: this.o.siteFile,
      ...(this.o.config ? { config: this.o.config } : {}),
      ...(this.o.flows ? { flows: this.o.flows } : {}),
      channels: channels.map((c) => c.value),
    });
    for (const p of problems) {
      // A bad channel came from the test file: point at its line there.
      const where =
        p.file === '--channels'
          ? { file, line: channels.find((c) => p.message.includes(`"${c.value}"`))?.line ?? 0 }
          : { file: p.file, line: p.line };
      const id = `${where.file}:${where.line}:${p.message}`;
      if (this.reported.has(id)) continue;
      this.reported.add(id);
      this.problems.push({
        ...where,
        message: p.file === '--channels' ? `channels: ${p.message}` : p.message,
      });
    }
    return problems.length > 0 ? undefined : workbench;
  }
}

async function runTest(
  test: RuleTest,
  file: RuleTestFile,
  benches: Benches,
  problems: FileProblem[],
): Promise<RuleTestOutcome | undefined> {
  const began = performance.now();
  const wb = await benches.get(test.channels ?? file.channels ?? [], file.file);
  if (!wb) return undefined;
  const own: FileProblem[] = [];
  const bad = (line: number, message: string) =>
    own.push({ file: file.file, line, message: `test "${test.name}": ${message}` });
  const startL = test.start ?? file.start;
  const start = startL && resolveStart(startL.value, wb.site.timezone);
  if (!startL) bad(test.line, 'start: missing (on the file or the test, e.g. start: 2026-11-24T14:00)');
  else if (start === undefined)
    bad(
      startL.line,
      `start: "${startL.value}" is not a date and time (2026-11-24T14:00 in the site's zone, or with an offset: 2026-11-24T14:00:00+01:00)`,
    );
  const scoped = scopeOf(wb, test, file, bad);
  if (scoped) checkTest(scoped, test, bad);
  if (own.length > 0 || start === undefined || !scoped) {
    problems.push(...own.sort((a, b) => a.line - b.line));
    return undefined;
  }
  const endOffset = clockEnd(test);
  const items = givenItems(test, start, endOffset, bad);
  if (own.length > 0) {
    problems.push(...own);
    return undefined;
  }
  const end = start + endOffset;
  const timeZone = wb.site.timezone;
  let result: ReplayResult;
  try {
    result = await replayItems(scoped, items, { site: wb.site.id, startedAt: start, end });
  } catch (err) {
    return {
      file: file.file,
      line: test.line,
      name: test.name,
      passed: false,
      failures: [
        { title: 'the replay failed', mismatches: [], details: [(err as Error).stack ?? String(err)] },
      ],
      start,
      end,
      timeZone,
      timeline: [],
      wallMs: Math.round(performance.now() - began),
    };
  }
  const failures = matchExpectations(test.expect, result, { start, end, timeZone });
  if (result.problems.length > 0)
    failures.push({ title: 'the replay reported problems', mismatches: [], details: result.problems });
  return {
    file: file.file,
    line: test.line,
    name: test.name,
    passed: failures.length === 0,
    failures,
    start,
    end,
    timeZone,
    timeline: timelineOf(result, { start, end, timeZone }),
    wallMs: Math.round(performance.now() - began),
  };
}

/**
 * What the rules did, in time order: incident changes as the replay words them, notifications as
 * the failures list them (steps counted from 1, as in the rule file).
 */
function timelineOf(result: ReplayResult, clock: MatchClock): string[] {
  const lines: { at: number; rank: number; text: string }[] = [];
  const at = (t: number) => formatAt(t, clock.start, clock.timeZone);
  for (const l of result.timeline)
    if (l.kind !== 'notification' && l.kind !== 'escalated')
      lines.push({ at: l.at, rank: 0, text: `${at(l.at)} ${l.kind} ${l.text}` });
  for (const i of result.incidents)
    for (const e of i.escalations)
      lines.push({
        at: e.at,
        rank: 0,
        text: `${at(e.at)} escalated ${i.ruleId} on ${i.deviceId}: step ${e.step + 1}${e.repeat ? ' again (repeat)' : ''}`,
      });
  for (const n of result.notifications) lines.push({ at: n.at, rank: 1, text: notificationLine(n, clock) });
  return lines.sort((a, b) => a.at - b.at || a.rank - b.rank).map((l) => l.text);
}

/** Where the clock stops: `until`, else the last given time plus ten minutes. */
function clockEnd(test: RuleTest): number {
  if (test.until !== undefined) return test.until;
  let last = 0;
  for (const g of test.given) last = Math.max(last, g.type === 'event' && g.every ? (g.until ?? g.at) : g.at);
  return last + DEFAULT_TAIL_MS;
}

/** Bounds a repeated event: `every: 1ms` over a day is a typo, not a test. */
const MAX_ITEMS = 200_000;

/** The given events and actions as a recording would hold them, in time order. */
function givenItems(
  test: RuleTest,
  start: number,
  endOffset: number,
  bad: (line: number, message: string) => void,
): RecordedItem[] {
  const items: { at: number; order: number; item: RecordedItem }[] = [];
  let order = 0;
  for (const g of test.given) {
    if (g.type === 'action') {
      items.push({
        at: g.at,
        order: order++,
        item: {
          type: 'action',
          at: start + g.at,
          action: g.action,
          ruleId: g.rule,
          deviceId: g.device,
          by: g.by,
        },
      });
      continue;
    }
    const last = g.every ? Math.min(g.until ?? endOffset, endOffset) : g.at;
    const count = g.every ? Math.floor((last - g.at) / g.every) + 1 : 1;
    if (items.length + count > MAX_ITEMS) {
      bad(g.line, `repeats ${count} times: more than ${MAX_ITEMS} events in one test`);
      return [];
    }
    for (let i = 0; i < count; i++) {
      const at = g.at + i * (g.every ?? 0);
      const lag = g.ts === undefined ? 0 : g.ts - g.at;
      const ev: RecordedItem = {
        type: 'event',
        receivedAt: start + at,
        deviceId: g.device,
        ts: start + at + lag,
        values: g.values,
      };
      if (g.status !== undefined) ev.status = g.status;
      if (g.battery !== undefined) ev.battery = g.battery;
      items.push({ at, order: order++, item: ev });
    }
  }
  items.sort((a, b) => a.at - b.at || a.order - b.order);
  return items.map((i) => i.item);
}
