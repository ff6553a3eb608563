import type { Failure } from './match.js';
import type { RuleTestOutcome, RuleTestReport } from './run.js';

// What `vigie test-rules` prints: a line per test, under a failing one what was expected and what
// happened (offset and wall-clock time), then the problems that kept tests from running, then
// the count.

/** Replay lines shown under a failure: enough to see what the rules did, not a week of it. */
const MAX_TIMELINE = 25;

export function formatRuleTestReport(r: RuleTestReport, o: { timeline?: boolean } = {}): string {
  const out: string[] = [];
  for (const t of r.tests) {
    if (t.passed) out.push(`PASS ${t.file}:${t.line}  ${t.name}`);
    else out.push(...formatFailedTest(t, o.timeline ?? true));
  }
  if (r.problems.length > 0) {
    if (out.length > 0) out.push('');
    for (const p of r.problems) out.push(`${p.file}:${p.line}: ${p.message}`);
  }
  out.push('', summary(r));
  return out.join('\n') + '\n';
}

export function formatFailedTest(t: RuleTestOutcome, timeline = true): string[] {
  const out = [`FAIL ${t.file}:${t.line}  ${t.name}`];
  for (const f of t.failures) out.push(...formatFailure(f, t.file));
  if (timeline) {
    out.push('  what the rules did:');
    if (t.timeline.length === 0) out.push('    nothing');
    for (const line of t.timeline.slice(0, MAX_TIMELINE)) out.push(`    ${line}`);
    if (t.timeline.length > MAX_TIMELINE) out.push(`    ... and ${t.timeline.length - MAX_TIMELINE} more`);
  }
  return out;
}

export function formatFailure(f: Failure, file: string): string[] {
  const out = [`  ${f.title}${f.line !== undefined ? ` (${file}:${f.line})` : ''}`];
  for (const m of f.mismatches) out.push(`    expected: ${m.expected}`, `    got:      ${m.got}`);
  for (const d of f.details ?? []) out.push(`    ${d}`);
  return out;
}

function summary(r: RuleTestReport): string {
  const n = r.tests.length + r.notRun;
  const parts = [`${n} test${n === 1 ? '' : 's'}`, `${r.passed} passed`, `${r.failed} failed`];
  if (r.notRun > 0) parts.push(`${r.notRun} not run`);
  if (r.problems.length > 0) parts.push(`${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`);
  return parts.join(', ');
}
