import type { KindSpec } from '../../site/kinds.js';
import { compileKind } from '../../listen/validate.js';
import type { Device } from '../../site/model.js';
import type { Workbench } from '../setup.js';
import type { GivenEvent, RuleTest, RuleTestFile } from './spec.js';

// What a test names must exist: a typo in a device or rule id would otherwise make a test pass
// for the wrong reason (`incidents: none` holds for a device nobody has).

type Bad = (line: number, message: string) => void;

/**
 * The workbench a test runs on: the rules it asks for (default all), and the devices it is about:
 * those it names (in given and expect) and those under `devices:` (`all`: the whole site). The
 * others do not exist for it, as in a recording of selected devices, so a device that says
 * nothing elsewhere on the site does not open sensor-offline in every test.
 */
export function scopeOf(wb: Workbench, test: RuleTest, file: RuleTestFile, bad: Bad): Workbench | undefined {
  let ok = true;
  const ruleList = test.rules ?? file.rules;
  let rules = wb.rules;
  if (ruleList) {
    const known = new Set(wb.rules.map((r) => r.id));
    for (const r of ruleList)
      if (!known.has(r.value)) {
        bad(
          r.line,
          `rules: "${r.value}" is not a rule of the rules directory (known: ${[...known].sort().join(', ')})`,
        );
        ok = false;
      }
    const wanted = new Set(ruleList.map((r) => r.value));
    rules = wb.rules.filter((r) => wanted.has(r.id));
  }
  const deviceList = test.devices ?? file.devices;
  const byId = new Map(wb.site.devices.map((d) => [d.id, d]));
  if (deviceList?.some((d) => d.value === 'all')) return ok ? { ...wb, rules } : undefined;
  const named = new Set<string>();
  for (const d of deviceList ?? []) {
    if (!byId.has(d.value)) {
      bad(d.line, `devices: "${d.value}" is not a device of the site`);
      ok = false;
    }
    named.add(d.value);
  }
  for (const g of test.given) named.add(g.device);
  for (const x of test.expect.incidents ?? []) named.add(x.device);
  for (const x of test.expect.notifications ?? []) if (x.device) named.add(x.device);
  if (!ok) return undefined;
  return { ...wb, rules, site: { ...wb.site, devices: wb.site.devices.filter((d) => named.has(d.id)) } };
}

/** Devices, rules, fields, channels and recipients the test names, against its workbench. */
export function checkTest(wb: Workbench, test: RuleTest, bad: Bad): void {
  const devices = new Map(wb.site.devices.map((d) => [d.id, d]));
  const rules = new Set(wb.rules.map((r) => r.id));
  const ruleHint = `(rules in this test: ${[...rules].sort().join(', ') || 'none'})`;
  const device = (id: string, line: number, what: string): Device | undefined => {
    const d = devices.get(id);
    if (!d) bad(line, `${what}: "${id}" is not a device of the site`);
    return d;
  };
  const rule = (id: string, line: number, what: string) => {
    if (!rules.has(id)) bad(line, `${what}: "${id}" is not a rule that runs here ${ruleHint}`);
  };
  for (const g of test.given) {
    const d = device(g.device, g.line, 'device');
    if (g.type === 'action') rule(g.rule, g.line, g.action);
    else if (d) checkValues(g, d, wb.site.kinds[d.kind], bad);
  }
  for (const x of test.expect.incidents ?? []) {
    device(x.device, x.line, 'incident device');
    rule(x.rule, x.line, 'incident rule');
  }
  const people = new Set(wb.site.people.map((p) => p.id));
  const teams = new Set(wb.site.teams.map((t) => t.id));
  for (const x of test.expect.notifications ?? []) {
    if (x.device) device(x.device, x.line, 'notification device');
    if (x.rule) rule(x.rule, x.line, 'notification rule');
    if (x.channel && !wb.channels.has(x.channel))
      bad(
        x.line,
        `channel "${x.channel}" is not one this test has (${[...wb.channels.keys()].join(', ')}): ` +
          `add it to channels: on the file or the test`,
      );
    if (x.to) {
      const [kind, id] = x.to.includes(':') ? x.to.split(':', 2) : ['', x.to];
      const known =
        kind === ''
          ? people.has(id) || teams.has(id)
          : kind === 'person'
            ? people.has(id)
            : kind === 'team'
              ? teams.has(id)
              : true;
      if (!known) bad(x.line, `to: "${x.to}" is not a person or team of the site`);
    }
  }
}

/** As the listen stage would: a value the device's kind refuses never reaches the rules live. */
function checkValues(g: GivenEvent, d: Device, kind: KindSpec | undefined, bad: Bad): void {
  if (!kind) return;
  const fields = Object.keys(kind.fields);
  let named = false;
  for (const key of Object.keys(g.values)) {
    if (kind.fields[key]) continue;
    bad(
      g.valueLines[key] ?? g.line,
      `values.${key}: kind ${d.kind} has no such field (fields: ${fields.join(', ')})`,
    );
    named = true;
  }
  // A status message carries no values; the listen stage reads data messages only.
  if (named || (Object.keys(g.values).length === 0 && g.status !== undefined)) return;
  const verdict = compileKind(kind)(g.values);
  if (typeof verdict !== 'string') return;
  const missing = fields.filter((f) => kind.fields[f].required && g.values[f] === undefined);
  const detail =
    verdict === 'missing_field' && missing.length > 0
      ? `missing ${missing.join(', ')}`
      : verdict === 'wrong_type'
        ? `a value has the wrong type (${fields.map((f) => `${f}: ${kind.fields[f].type}`).join(', ')})`
        : verdict.replace(/_/g, ' ');
  bad(g.line, `values: the listen stage would refuse this ${d.kind} message (${detail})`);
}
