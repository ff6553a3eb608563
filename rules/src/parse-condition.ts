import { isMap, isScalar, isSeq } from 'yaml';
import type { Scalar, ScheduleWindow } from './model.js';
import type { ConditionSpec } from './spec.js';
import { describe, type YamlReader } from './yaml-reader.js';

// listen.when: a map with exactly one key naming the condition (README "Rules" "Conditions").

const TYPES = [
  'state',
  'threshold',
  'absent',
  'status',
  'schedule',
  'badge',
  'count',
  'all',
  'any',
  'not',
] as const;
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

export function parseCondition(
  r: YamlReader,
  node: unknown,
  path: string,
  at: number,
  inCount = false,
): ConditionSpec | undefined {
  const line = r.line(node, at);
  if (!isMap(node) || node.items.length !== 1) {
    r.problem(line, `${path}: a condition is a map with exactly one of: ${TYPES.join(', ')}`);
    return undefined;
  }
  const m = r.map(node, path, TYPES, at);
  const e = m?.values().next().value;
  if (!e) return undefined;
  const p = `${path}.${e.key}`;
  const v = e.value;
  const vl = r.line(v, e.keyLine);
  if (inCount && !['state', 'threshold', 'all', 'any', 'not'].includes(e.key)) {
    r.problem(e.keyLine, `${p}: count.where may only use state, threshold, all, any and not`);
    return undefined;
  }
  switch (e.key) {
    case 'state': {
      const fm = r.map(v, p, mapKeys(v), e.keyLine);
      if (!fm) return undefined;
      if (fm.size === 0) return void r.problem(vl, `${p}: list at least one field`);
      const fields: Record<string, Scalar[]> = {};
      for (const f of fm.values()) {
        const list = isSeq(f.value) ? f.value.items : [f.value];
        const vals: Scalar[] = [];
        for (const item of list) {
          const s = r.scalar(item);
          if (s === undefined || !isScalar(item)) {
            r.problem(
              r.line(item, f.keyLine),
              `${p}.${f.key}: expected a value or a list of values, got ${describe(item)}`,
            );
            return undefined;
          }
          vals.push(s);
        }
        if (vals.length === 0) return void r.problem(f.keyLine, `${p}.${f.key}: the list is empty`);
        fields[f.key] = vals;
      }
      return { type: 'state', line: e.keyLine, fields };
    }
    case 'threshold': {
      const tm = r.map(v, p, ['field', 'above', 'below', 'hysteresis'], e.keyLine);
      if (!tm) return undefined;
      const fe = tm.get('field');
      if (!fe) return void r.problem(vl, `${p}.field: missing (which value to compare)`);
      const field = r.str(fe, `${p}.field`);
      const above = tm.has('above') ? r.num(tm.get('above')!, `${p}.above`) : undefined;
      const below = tm.has('below') ? r.num(tm.get('below')!, `${p}.below`) : undefined;
      const he = tm.get('hysteresis');
      const hysteresis = he ? r.num(he, `${p}.hysteresis`, { min: 0 }) : 0;
      if (!tm.has('above') && !tm.has('below')) return void r.problem(vl, `${p}: give above, below or both`);
      if (he && inCount) return void r.problem(he.keyLine, `${p}.hysteresis: not allowed inside count.where`);
      if (above !== undefined && below !== undefined && below >= above) {
        return void r.problem(vl, `${p}: below (${below}) must be less than above (${above})`);
      }
      if (field === undefined || hysteresis === undefined) return undefined;
      if (tm.has('above') && above === undefined) return undefined;
      if (tm.has('below') && below === undefined) return undefined;
      return { type: 'threshold', line: e.keyLine, field, above, below, hysteresis };
    }
    case 'absent': {
      if (r.scalar(v) === 'heartbeat') return { type: 'absent', line: e.keyLine, heartbeat: true };
      const ms = r.duration(e, p);
      return ms === undefined ? undefined : { type: 'absent', line: e.keyLine, ms, heartbeat: false };
    }
    case 'status': {
      const s = r.scalar(v);
      if (s !== 'online' && s !== 'offline') {
        return void r.problem(vl, `${p}: ${describe(v)} is not a status (use online or offline)`);
      }
      return { type: 'status', line: e.keyLine, status: s };
    }
    case 'schedule': {
      if (isScalar(v)) {
        const name = r.str(e, p);
        return name === undefined ? undefined : { type: 'schedule', line: e.keyLine, name };
      }
      const sm = r.map(v, p, ['timezone', 'windows'], e.keyLine);
      if (!sm) return undefined;
      const tz = sm.get('timezone');
      const timezone = tz ? r.str(tz, `${p}.timezone`) : undefined;
      const we = sm.get('windows');
      if (!we) return void r.problem(vl, `${p}.windows: missing`);
      const windows = parseWindows(r, we.value, `${p}.windows`, we.keyLine);
      if (!windows || (tz && timezone === undefined)) return undefined;
      return { type: 'schedule', line: e.keyLine, spec: timezone ? { timezone, windows } : { windows } };
    }
    case 'badge': {
      const bm = r.map(v, p, ['before', 'within', 'allow'], e.keyLine);
      if (!bm) return undefined;
      const before = bm.has('before') ? r.str(bm.get('before')!, `${p}.before`) : 'open';
      const we = bm.get('within');
      if (!we) return void r.problem(vl, `${p}.within: missing (how long before, e.g. 10s)`);
      const withinMs = r.duration(we, `${p}.within`);
      const ae = bm.get('allow');
      if (!ae) return void r.problem(vl, `${p}.allow: missing (a badge list name or a list of badge ids)`);
      if (before === undefined || withinMs === undefined) return undefined;
      if (isScalar(ae.value)) {
        const allowList = r.str(ae, `${p}.allow`);
        return allowList === undefined
          ? undefined
          : { type: 'badge', line: e.keyLine, before, withinMs, allowList };
      }
      const ids = r.strList(ae, `${p}.allow`);
      return ids && { type: 'badge', line: e.keyLine, before, withinMs, allowIds: ids.map((x) => x.value) };
    }
    case 'count': {
      const cm = r.map(v, p, ['where', 'atLeast', 'within'], e.keyLine);
      if (!cm) return undefined;
      const missing = ['where', 'atLeast', 'within'].filter((k) => !cm.has(k));
      if (missing.length > 0) return void r.problem(vl, `${p}: missing ${missing.join(', ')}`);
      const w = cm.get('where')!;
      const where = parseCondition(r, w.value, `${p}.where`, w.keyLine, true);
      const atLeast = r.num(cm.get('atLeast')!, `${p}.atLeast`, { min: 1, integer: true });
      const withinMs = r.duration(cm.get('within')!, `${p}.within`);
      if (!where || atLeast === undefined || withinMs === undefined) return undefined;
      return { type: 'count', line: e.keyLine, where, atLeast, withinMs };
    }
    case 'all':
    case 'any': {
      if (!isSeq(v) || v.items.length === 0) {
        return void r.problem(vl, `${p}: expected a non-empty list of conditions, got ${describe(v)}`);
      }
      const children: ConditionSpec[] = [];
      v.items.forEach((item, i) => {
        const c = parseCondition(r, item, `${p}[${i + 1}]`, vl, inCount);
        if (c) children.push(c);
      });
      return children.length === v.items.length ? { type: e.key, line: e.keyLine, children } : undefined;
    }
    case 'not': {
      const child = parseCondition(r, v, p, e.keyLine, inCount);
      return child && { type: 'not', line: e.keyLine, child };
    }
  }
  return undefined;
}

export function parseWindows(
  r: YamlReader,
  node: unknown,
  path: string,
  at: number,
): ScheduleWindow[] | undefined {
  if (!isSeq(node) || node.items.length === 0) {
    return void r.problem(r.line(node, at), `${path}: expected a non-empty list of { days, from, to }`);
  }
  const out: ScheduleWindow[] = [];
  let ok = true;
  node.items.forEach((item, i) => {
    const p = `${path}[${i + 1}]`;
    const wm = r.map(item, p, ['days', 'from', 'to'], r.line(node, at));
    if (!wm) return void (ok = false);
    const missing = ['days', 'from', 'to'].filter((k) => !wm.has(k));
    if (missing.length > 0) {
      ok = false;
      return r.problem(r.line(item, at), `${p}: missing ${missing.join(', ')}`);
    }
    const days = r.strList(wm.get('days')!, `${p}.days`);
    const bad = days?.find((d) => !(DAYS as readonly string[]).includes(d.value));
    if (bad) r.problem(bad.line, `${p}.days: "${bad.value}" is not a day (use ${DAYS.join(', ')})`);
    const hint = 'is not a time of day (use HH:MM, e.g. "07:30")';
    const from = r.str(wm.get('from')!, `${p}.from`, HHMM, hint);
    const to = r.str(wm.get('to')!, `${p}.to`, HHMM, hint);
    if (!days || bad || from === undefined || to === undefined) return void (ok = false);
    out.push({ days: days.map((d) => d.value), from, to });
  });
  return ok ? out : undefined;
}

function mapKeys(node: unknown): string[] {
  if (!isMap(node)) return [];
  return node.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
}
