import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';
import { parseDuration } from './duration.js';
import type { FileProblem, Scalar } from './model.js';

// Typed access to a YAML node tree that reports every mistake with the line it sits on, so the
// integrator reads `door.yaml:12: listen.for: "30" is not a duration` instead of a stack trace.

export interface Entry {
  key: string;
  keyLine: number;
  value: unknown;
}

export class YamlReader {
  readonly problems: FileProblem[] = [];

  constructor(
    readonly file: string,
    private readonly lc: LineCounter,
  ) {}

  line(node: unknown, fallback = 1): number {
    const range = (node as Node | null)?.range;
    return range ? this.lc.linePos(range[0]).line : fallback;
  }

  problem(line: number, message: string): void {
    this.problems.push({ file: this.file, line, message });
  }

  /** A map's entries by key; unknown keys and non-string keys are reported. */
  map(node: unknown, path: string, allowed: readonly string[], at: number): Map<string, Entry> | undefined {
    if (!isMap(node)) {
      this.problem(this.line(node, at), `${path}: expected a map (key: value), got ${describe(node)}`);
      return undefined;
    }
    const out = new Map<string, Entry>();
    for (const pair of node.items as Pair<unknown, unknown>[]) {
      const keyLine = this.line(pair.key, this.line(node, at));
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      const where = path ? `${path}.` : '';
      if (key === undefined) {
        this.problem(keyLine, `${path}: keys must be plain names`);
      } else if (!allowed.includes(key)) {
        this.problem(keyLine, `${where}${key}: unknown key (expected one of: ${allowed.join(', ')})`);
      } else if (out.has(key)) {
        this.problem(keyLine, `${where}${key}: given twice`);
      } else {
        out.set(key, { key, keyLine, value: pair.value });
      }
    }
    return out;
  }

  scalar(node: unknown): Scalar | undefined {
    if (!isScalar(node)) return undefined;
    const v = node.value;
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null
      ? v
      : undefined;
  }

  str(e: Entry, path: string, pattern?: RegExp, hint?: string): string | undefined {
    const v = this.scalar(e.value);
    if (typeof v !== 'string' || v.trim() === '') {
      this.problem(this.line(e.value, e.keyLine), `${path}: expected a text, got ${describe(e.value)}`);
      return undefined;
    }
    if (pattern && !pattern.test(v)) {
      this.problem(this.line(e.value, e.keyLine), `${path}: "${v}" ${hint ?? 'is not valid'}`);
      return undefined;
    }
    return v;
  }

  bool(e: Entry, path: string): boolean | undefined {
    const v = this.scalar(e.value);
    if (typeof v !== 'boolean') {
      this.problem(
        this.line(e.value, e.keyLine),
        `${path}: expected true or false, got ${describe(e.value)}`,
      );
      return undefined;
    }
    return v;
  }

  num(e: Entry, path: string, opts: { min?: number; integer?: boolean } = {}): number | undefined {
    const v = this.scalar(e.value);
    const line = this.line(e.value, e.keyLine);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.problem(line, `${path}: expected a number, got ${describe(e.value)}`);
      return undefined;
    }
    if (opts.integer && !Number.isInteger(v)) {
      this.problem(line, `${path}: expected a whole number, got ${v}`);
      return undefined;
    }
    if (opts.min !== undefined && v < opts.min) {
      this.problem(line, `${path}: must be at least ${opts.min}, got ${v}`);
      return undefined;
    }
    return v;
  }

  duration(e: Entry, path: string, opts: { allowZero?: boolean } = {}): number | undefined {
    const v = this.scalar(e.value);
    const ms = parseDuration(v);
    const line = this.line(e.value, e.keyLine);
    if (ms === undefined) {
      const shown = typeof v === 'string' ? `"${v}"` : v === undefined ? describe(e.value) : `"${String(v)}"`;
      this.problem(line, `${path}: ${shown} is not a duration (use 500ms, 30s, 5m, 1h)`);
      return undefined;
    }
    if (ms === 0 && !opts.allowZero) {
      this.problem(line, `${path}: must be longer than 0`);
      return undefined;
    }
    return ms;
  }

  /** A list of texts; a single text is accepted as a list of one when `single` is set. */
  strList(e: Entry, path: string, single = false): { value: string; line: number }[] | undefined {
    if (single && isScalar(e.value) && typeof e.value.value === 'string') {
      return [{ value: e.value.value, line: this.line(e.value, e.keyLine) }];
    }
    if (!isSeq(e.value)) {
      this.problem(this.line(e.value, e.keyLine), `${path}: expected a list, got ${describe(e.value)}`);
      return undefined;
    }
    const out: { value: string; line: number }[] = [];
    let ok = true;
    for (const item of e.value.items) {
      const v = this.scalar(item);
      const line = this.line(item, e.keyLine);
      if (typeof v !== 'string' || v === '') {
        this.problem(line, `${path}: list items must be texts, got ${describe(item)}`);
        ok = false;
      } else out.push({ value: v, line });
    }
    if (ok && out.length === 0) {
      this.problem(this.line(e.value, e.keyLine), `${path}: the list is empty`);
      return undefined;
    }
    return ok ? out : undefined;
  }
}

export function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'nothing';
    if (typeof v === 'string') return `"${v}"`;
    return `${typeof v} ${String(v)}`;
  }
  return 'something else';
}
