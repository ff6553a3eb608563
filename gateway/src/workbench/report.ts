import { localTime } from './wall-clock.js';
import type { ReplayLine, ReplayNotification, ReplayResult } from './model.js';

// The printed replay: what happened, when (offset from the start of the recording), and to whom
// it would have gone. Deterministic but for the wall time: same result, same text.

const KIND_WIDTH = 12;
const SEVERITY_WIDTH = 9;

export function formatReplay(r: ReplayResult, o: { timeZone?: string } = {}): string {
  const zone = o.timeZone ?? 'UTC';
  const out: string[] = [];
  out.push(`Replay of site ${r.site}`);
  out.push(
    `  span:    ${localTime(r.from, zone)} -> ${localTime(r.to, zone)} (${zone}), ${duration(r.to - r.from)}`,
  );
  out.push(
    `  read:    ${r.events} event(s), ${r.actions} action(s), ${r.skipped} skipped`,
    `  rules:   ${r.rules.length} (${r.rules.join(', ') || 'none'})`,
    `  ran in:  ${r.wallMs} ms${r.wallMs > 0 ? ` (${Math.round((r.events / r.wallMs) * 1000)} events/s)` : ''}; nothing was sent`,
  );
  if (r.problems.length > 0) {
    out.push('', 'Problems');
    for (const p of r.problems) out.push(`  ${p}`);
  }
  out.push('', 'Timeline');
  if (r.timeline.length === 0) out.push('  (no incident)');
  else out.push(...timeline(r.timeline, r.from));
  out.push('', 'Summary', ...summary(r));
  return out.join('\n') + '\n';
}

/**
 * One line per incident change; the notifications of a change (those of the same incident that
 * follow it) indented beneath it, with their own offset when they went out later.
 */
function timeline(lines: readonly ReplayLine[], from: number): string[] {
  const out: string[] = [];
  const lastChange = new Map<string, number>();
  for (const l of lines) {
    if (l.kind !== 'notification') {
      lastChange.set(l.incidentKey, l.at);
      out.push(
        `  ${offset(l.at - from)}  ${l.kind.padEnd(KIND_WIDTH)}${l.severity.toUpperCase().padEnd(SEVERITY_WIDTH)}${l.text}`,
      );
      continue;
    }
    const parent = lastChange.get(l.incidentKey);
    const later = parent === undefined || l.at !== parent ? ` (${offset(l.at - from)})` : '';
    const whose = parent === undefined ? `${l.incidentKey}: ` : '';
    out.push(`  ${' '.repeat(11)}  -> ${whose}${l.text}${later}`);
  }
  return out;
}

function summary(r: ReplayResult): string[] {
  const out: string[] = [];
  out.push(`  incidents: ${r.incidents.length}`);
  const byRule = count(r.incidents.map((i) => `${i.ruleId} (${i.severity})`));
  const ruleWidth = Math.max(0, ...byRule.map(([k]) => k.length)) + 2;
  for (const [k, n] of byRule) out.push(`    ${k.padEnd(ruleWidth)}${n}`);
  const outcomes = new Map(count(r.notifications.map((n) => n.outcome)));
  const totals = ['sent', 'suppressed', 'cancelled', 'failed'].map((o) => `${outcomes.get(o) ?? 0} ${o}`);
  out.push(`  notifications: ${r.notifications.length} (${totals.join(', ')})`);
  const people = new Map<string, ReplayNotification[]>();
  for (const n of r.notifications) {
    const who = `${n.toName} (${n.to})`;
    people.set(who, [...(people.get(who) ?? []), n]);
  }
  const whoWidth = Math.max(0, ...[...people.keys()].map((k) => k.length)) + 2;
  for (const who of [...people.keys()].sort()) {
    const sent = people.get(who)!.filter((n) => n.outcome === 'sent');
    const held = people.get(who)!.length - sent.length;
    const perChannel = [...count(sent.map((n) => n.channel))].map(([c, n]) => `${c} ${n}`).join(', ');
    out.push(
      `    ${who.padEnd(whoWidth)}${perChannel || 'nothing sent'}${held > 0 ? `; ${held} not sent` : ''}`,
    );
  }
  return out;
}

function count(keys: readonly string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `+HH:MM:SS` (hours past 99 for a long recording). */
export function offset(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `+${hh}:${mm}:${ss}`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  const parts: string[] = [];
  if (s >= 86_400) parts.push(`${Math.floor(s / 86_400)}d`);
  if (s >= 3600) parts.push(`${Math.floor((s % 86_400) / 3600)}h`);
  if (s >= 60) parts.push(`${Math.floor((s % 3600) / 60)}m`);
  parts.push(`${s % 60}s`);
  return parts.join(' ');
}

export { localTime };
