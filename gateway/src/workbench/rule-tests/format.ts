import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { FileProblem, Scalar } from '../../../../rules/src/model.js';
import { describe, YamlReader, type Entry } from '../../../../rules/src/yaml-reader.js';
import { parseExpect } from './format-expect.js';
import type { Given, GivenEvent, RuleTest, RuleTestFile } from './spec.js';
import { offset, required, show } from './yaml-values.js';

// The rule test file (`*.test.yaml` beside the rules): shape and types only. Whether a device, a
// rule or a channel exists is checked by the runner, which has the site and the rules.

const FILE_KEYS = ['start', 'channels', 'rules', 'devices', 'tests'];
const TEST_KEYS = ['name', 'start', 'channels', 'rules', 'devices', 'given', 'until', 'expect'];
const EVENT_KEYS = ['at', 'device', 'values', 'status', 'battery', 'ts', 'every', 'until'];
const ACTION_KEYS = ['at', 'acknowledge', 'resolve', 'device', 'by'];
const CHANNEL_SPEC = /^[a-z0-9][a-z0-9-]*(?::[a-z]+)?$/;

export function parseRuleTestFile(
  file: string,
  text: string,
): { spec?: RuleTestFile; problems: FileProblem[] } {
  const lc = new LineCounter();
  const r = new YamlReader(file, lc);
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const line = err.linePos?.[0]?.line ?? lc.linePos(err.pos[0]).line;
      r.problem(
        line,
        `YAML syntax: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
      );
    }
    return { problems: r.problems };
  }
  const m = r.map(doc.contents, '', FILE_KEYS, 1);
  if (!m) return { problems: r.problems };
  const spec: RuleTestFile = { file, tests: [] };
  readShared(r, m, '', spec);
  const testsE = m.get('tests');
  if (!testsE || !isSeq(testsE.value) || testsE.value.items.length === 0) {
    r.problem(testsE ? r.line(testsE.value, testsE.keyLine) : 1, 'tests: expected a list of tests');
    return { problems: r.problems };
  }
  const names = new Map<string, number>();
  testsE.value.items.forEach((node, i) => {
    const name = isMap(node) ? node.get('name') : undefined;
    if (typeof name === 'string') {
      const line = r.line(node, testsE.keyLine);
      const first = names.get(name);
      if (first !== undefined) r.problem(line, `test "${name}" is already named at line ${first}`);
      else names.set(name, line);
    }
    const t = parseTest(r, node, `tests[${i + 1}]`, testsE.keyLine);
    if (t) spec.tests.push(t);
  });
  return r.problems.length > 0 ? { problems: r.problems } : { spec, problems: [] };
}

/** start, channels, rules, devices: on the file, or on a test to override the file's. */
function readShared(
  r: YamlReader,
  m: Map<string, Entry>,
  path: string,
  into: Pick<RuleTest, 'start' | 'channels' | 'rules' | 'devices'>,
): void {
  const startE = m.get('start');
  if (startE) {
    const v = r.scalar(startE.value);
    const line = r.line(startE.value, startE.keyLine);
    if (typeof v === 'string' && v.trim() !== '') into.start = { value: v.trim(), line };
    else r.problem(line, `${path}start: expected a date and time, got ${describe(startE.value)}`);
  }
  const list = (key: 'channels' | 'rules' | 'devices', check?: (v: string, line: number) => boolean) => {
    const e = m.get(key);
    if (!e) return;
    const items = r.strList(e, `${path}${key}`, true);
    if (items && (!check || items.every((i) => check(i.value, i.line))))
      into[key] = items.map(({ value, line }) => ({ value, line }));
  };
  list('channels', (v, line) => {
    if (CHANNEL_SPEC.test(v)) return true;
    r.problem(
      line,
      `${path}channels: "${v}" is not a channel (write NAME or NAME:TYPE, e.g. sms, duty-phone:voice)`,
    );
    return false;
  });
  list('rules');
  list('devices');
}

function parseTest(r: YamlReader, node: unknown, path: string, fallback: number): RuleTest | undefined {
  const line = r.line(node, fallback);
  const m = r.map(node, path, TEST_KEYS, line);
  if (!m) return undefined;
  const before = r.problems.length;
  const nameE = m.get('name');
  const name = nameE ? r.str(nameE, `${path}.name`) : undefined;
  if (!nameE) r.problem(line, `${path}.name: missing (say what the test proves)`);
  const where = name ? `test "${name}": ` : `${path}.`;
  const test: RuleTest = { file: r.file, line, name: name ?? '', given: [], expect: { line } };
  readShared(r, m, where, test);
  const givenE = m.get('given');
  if (givenE && !(isScalar(givenE.value) && givenE.value.value === null)) {
    if (!isSeq(givenE.value)) {
      r.problem(r.line(givenE.value, givenE.keyLine), `${where}given: expected a list of events and actions`);
    } else {
      givenE.value.items.forEach((item, i) => {
        const g = parseGiven(r, item, `${where}given[${i + 1}]`, givenE.keyLine);
        if (g) test.given.push(g);
      });
    }
  }
  const untilE = m.get('until');
  if (untilE) {
    test.until = offset(r, untilE, `${where}until`);
    const last = Math.max(0, ...test.given.map((g) => g.at));
    if (test.until !== undefined && test.until < last)
      r.problem(untilE.keyLine, `${where}until: ${show(untilE.value)} is before the last given time`);
  }
  const expectE = m.get('expect');
  if (!expectE) r.problem(line, `${where}expect: missing (incidents and/or notifications)`);
  else {
    const e = parseExpect(r, expectE, `${where}expect`);
    if (e) test.expect = e;
  }
  return r.problems.length > before ? undefined : test;
}

function parseGiven(r: YamlReader, node: unknown, path: string, fallback: number): Given | undefined {
  const line = r.line(node, fallback);
  if (!isMap(node)) {
    r.problem(
      line,
      `${path}: expected { at, device, values | status } or { at, acknowledge | resolve, device }`,
    );
    return undefined;
  }
  const isAction = node.items.some(
    (p) => isScalar(p.key) && (p.key.value === 'acknowledge' || p.key.value === 'resolve'),
  );
  const m = r.map(node, path, isAction ? ACTION_KEYS : EVENT_KEYS, line);
  if (!m) return undefined;
  const before = r.problems.length;
  const at = required(r, m, 'at', path, line, (e) => offset(r, e, `${path}.at`));
  const device = required(r, m, 'device', path, line, (e) => r.str(e, `${path}.device`));
  if (isAction) {
    const ack = m.get('acknowledge');
    const res = m.get('resolve');
    if (ack && res) r.problem(line, `${path}: acknowledge or resolve, not both`);
    const e = (ack ?? res)!;
    const rule = r.str(e, `${path}.${e.key}`);
    const by = m.has('by') ? r.str(m.get('by')!, `${path}.by`) : 'test';
    if (r.problems.length > before || at === undefined || !device || !rule || !by) return undefined;
    return { type: 'action', line, at, action: ack ? 'acknowledge' : 'resolve', rule, device, by };
  }
  const ev: GivenEvent = {
    type: 'event',
    line,
    at: at ?? 0,
    device: device ?? '',
    values: {},
    valueLines: {},
  };
  const valuesE = m.get('values');
  if (valuesE) readValues(r, valuesE, `${path}.values`, ev);
  const statusE = m.get('status');
  if (statusE) {
    const s = r.scalar(statusE.value);
    if (s === 'online' || s === 'offline') ev.status = s;
    else
      r.problem(statusE.keyLine, `${path}.status: must be online or offline, got ${describe(statusE.value)}`);
  }
  if (!valuesE && !statusE) r.problem(line, `${path}: an event needs values or a status`);
  const batteryE = m.get('battery');
  if (batteryE) {
    ev.battery = r.num(batteryE, `${path}.battery`, { min: 0 });
    if (ev.battery !== undefined && ev.battery > 100)
      r.problem(batteryE.keyLine, `${path}.battery: a percentage, at most 100, got ${ev.battery}`);
  }
  const tsE = m.get('ts');
  if (tsE) ev.ts = offset(r, tsE, `${path}.ts`);
  const everyE = m.get('every');
  if (everyE) ev.every = r.duration(everyE, `${path}.every`);
  const untilE = m.get('until');
  if (untilE) {
    if (!everyE) r.problem(untilE.keyLine, `${path}.until: only with every (a repeated event)`);
    ev.until = offset(r, untilE, `${path}.until`);
    if (ev.until !== undefined && ev.until < ev.at)
      r.problem(untilE.keyLine, `${path}.until: ${show(untilE.value)} is before at`);
  }
  return r.problems.length > before || at === undefined || !device ? undefined : ev;
}

function readValues(r: YamlReader, e: Entry, path: string, ev: GivenEvent): void {
  if (!isMap(e.value)) {
    r.problem(r.line(e.value, e.keyLine), `${path}: expected a map of fields, got ${describe(e.value)}`);
    return;
  }
  const values: Record<string, Scalar> = {};
  const lines: Record<string, number> = {};
  for (const pair of e.value.items) {
    const line = r.line(pair.key, e.keyLine);
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const v = r.scalar(pair.value);
    if (key === undefined) r.problem(line, `${path}: keys must be field names`);
    else if (v === undefined || (isScalar(pair.value) && v === null))
      r.problem(line, `${path}.${key}: expected a number, true/false or a text, got ${describe(pair.value)}`);
    else {
      values[key] = v;
      lines[key] = line;
    }
  }
  ev.values = values;
  ev.valueLines = lines;
}
