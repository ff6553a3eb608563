import { isScalar } from 'yaml';
import { parseDuration } from '../../../../rules/src/duration.js';
import { describe, type Entry, type YamlReader } from '../../../../rules/src/yaml-reader.js';
import type { Span, When } from './spec.js';

// Times in a test file are offsets from the test's start, written as rule durations are.

const OFFSET_HINT = 'is not a time from the start (use 0s, 30s, 2m, 1h30m)';

export function required<T>(
  r: YamlReader,
  m: Map<string, Entry>,
  key: string,
  path: string,
  line: number,
  read: (e: Entry) => T | undefined,
): T | undefined {
  const e = m.get(key);
  if (!e) {
    r.problem(line, `${path}.${key}: missing`);
    return undefined;
  }
  return read(e);
}

/** `30s`, `2m`, `1h30m`, or 0: a time from the test's start. */
function offsetOf(v: unknown): number | undefined {
  if (v === 0) return 0;
  return parseDuration(v);
}

export function offset(r: YamlReader, e: Entry, path: string): number | undefined {
  const v = r.scalar(e.value);
  const ms = offsetOf(v);
  if (ms === undefined) r.problem(r.line(e.value, e.keyLine), `${path}: ${show(e.value)} ${OFFSET_HINT}`);
  return ms;
}

/** `30s` (exactly) or `30s..35s` (both ends included). */
export function span(r: YamlReader, e: Entry, path: string): Span | undefined {
  const v = r.scalar(e.value);
  const line = r.line(e.value, e.keyLine);
  if (typeof v === 'string' && v.includes('..')) {
    const [a, b] = v.split('..').map((s) => offsetOf(s.trim()));
    if (a === undefined || b === undefined || a > b) {
      r.problem(line, `${path}: "${v}" is not a time range (use 30s..35s, earliest first)`);
      return undefined;
    }
    return { from: a, to: b };
  }
  const ms = offsetOf(v);
  if (ms === undefined) {
    r.problem(line, `${path}: ${show(e.value)} ${OFFSET_HINT}, or a range 30s..35s`);
    return undefined;
  }
  return { from: ms, to: ms };
}

export function when(r: YamlReader, e: Entry, path: string): When | undefined {
  const v = r.scalar(e.value);
  if (v === 'never') return 'never';
  if (v === undefined || (typeof v !== 'string' && v !== 0)) {
    r.problem(
      r.line(e.value, e.keyLine),
      `${path}: ${show(e.value)} ${OFFSET_HINT}, a range 30s..35s, or never`,
    );
    return undefined;
  }
  return span(r, e, path);
}

export function show(node: unknown): string {
  return isScalar(node) && node.value !== null ? `"${String(node.value)}"` : describe(node);
}
