import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../config/load.js';
import { loadWorkbench } from '../setup.js';
import { parseRuleTestFile } from './format.js';
import { formatRuleTestReport } from './output.js';
import { runRuleTests } from './run.js';

// The runner against the real replay core and the example airport: the shipped tests pass, cover
// every example rule both ways, and a wrong expectation fails with expected vs got.

const examples = join(PACKAGE_ROOT, 'rules/examples');
const site = join(examples, 'site.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'vigie-rule-tests-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function testFile(name: string, text: string): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

describe('rule tests - running test files through the replay', () => {
  it('passes every test shipped with the example rules', async () => {
    const report = await runRuleTests({ rulesDir: examples, siteFile: site });
    const text = formatRuleTestReport(report);
    assert.equal(report.ok, true, text);
    assert.deepEqual(report.problems, []);
    assert.equal(report.failed, 0, text);
    assert.ok(report.passed >= 30, text);
    assert.match(text, new RegExp(`\\n${report.passed} tests, ${report.passed} passed, 0 failed\\n$`));
  });

  it('passes the same tests with the rules authored as Node-RED flows instead of YAML', async () => {
    const flowsDir = join(PACKAGE_ROOT, 'rules/node-red/examples');
    const flows = readdirSync(flowsDir).map((f) => join(flowsDir, f));
    const files = readdirSync(examples)
      .filter((f) => f.endsWith('.test.yaml'))
      .map((f) => join(examples, f));
    const noYaml = mkdtempSync(join(tmp, 'flows-only-'));
    const report = await runRuleTests({ rulesDir: noYaml, siteFile: site, flows, files });
    assert.equal(report.ok, true, formatRuleTestReport(report));
    assert.ok(report.passed >= 30);
  });

  it('covers every example rule with a test that opens it and one that must not', async () => {
    const { workbench } = await loadWorkbench({ rulesDir: examples, siteFile: site });
    assert.ok(workbench);
    const positive = new Set<string>();
    const negative = new Set<string>();
    for (const name of readdirSync(examples).filter((n) => n.endsWith('.test.yaml'))) {
      const { spec } = parseRuleTestFile(name, readFileSync(join(examples, name), 'utf8'));
      assert.ok(spec, name);
      for (const t of spec.tests) {
        const incidents = t.expect.incidents;
        if (!incidents) continue;
        const running = (t.rules ?? spec.rules)?.map((r) => r.value) ?? workbench.rules.map((r) => r.id);
        for (const x of incidents) positive.add(x.rule);
        for (const id of running) if (!incidents.some((x) => x.rule === id)) negative.add(id);
      }
    }
    for (const r of workbench.rules) {
      assert.ok(positive.has(r.id), `no test expects an incident of ${r.id}`);
      assert.ok(negative.has(r.id), `no test proves ${r.id} stays quiet`);
    }
  });

  it('fails a test whose expectation is wrong, with the line, expected vs got and the time', async () => {
    const file = testFile(
      'wrong.test.yaml',
      [
        'start: 2026-11-24T14:00',
        'rules: [door-held-open]',
        'tests:',
        '  - name: a door held open 45 s opens door-held-open after 20 s',
        '    given:',
        '      - { at: 0s, device: door-g12, values: { open: true } }',
        '      - { at: 45s, device: door-g12, values: { open: false } }',
        '    expect:',
        '      incidents:',
        '        - { rule: door-held-open, device: door-g12, opened: 20s, cleared: 45s }',
        '      notifications:',
        '        - { to: sec-lucas, channel: console }',
        '  - name: a door closed at once opens nothing',
        '    given:',
        '      - { at: 0s, device: door-g12, values: { open: true } }',
        '      - { at: 1s, device: door-g12, values: { open: false } }',
        '    expect: { incidents: none, notifications: none }',
        '',
      ].join('\n'),
    );
    const report = await runRuleTests({ rulesDir: examples, siteFile: site, files: [file] });
    assert.equal(report.ok, false);
    assert.equal(report.failed, 1);
    assert.equal(report.passed, 1);
    const text = formatRuleTestReport(report);
    const lines = text.split('\n');
    const at = lines.indexOf(`FAIL ${file}:4  a door held open 45 s opens door-held-open after 20 s`);
    assert.ok(at >= 0, text);
    assert.deepEqual(lines.slice(at + 1, at + 8), [
      `  incident door-held-open on door-g12 (${file}:10)`,
      '    expected: opened at +20s (2026-11-24 14:00:20 +01:00)',
      '    got:      opened at +30s (2026-11-24 14:00:30 +01:00)',
      `  console notification to sec-lucas (${file}:12)`,
      '    expected: at least once',
      '    got:      never',
      '    the replay sent:',
    ]);
    assert.match(
      text,
      /^ {4}\+30s \(2026-11-24 14:00:30 \+01:00\) console to person:sec-amina, door-held-open on door-g12, step 1$/m,
    );
    assert.match(
      text,
      /^ {2}what the rules did:\n {4}\+30s \(2026-11-24 14:00:30 \+01:00\) opened door-held-open on door-g12/m,
    );
    assert.match(text, new RegExp(`^PASS ${file}:13  a door closed at once opens nothing$`, 'm'));
    assert.match(text, /\n2 tests, 1 passed, 1 failed\n$/);
  });

  it('reports a malformed test file with file:line and still runs the other files', async () => {
    const bad = testFile(
      'bad.test.yaml',
      'start: 2026-11-24T14:00\ntests:\n  - name: x\n    given:\n      - { at: soon, device: door-g12, values: { open: true } }\n    expect: { incidents: none }\n',
    );
    const good = testFile(
      'good.test.yaml',
      'start: 2026-11-24T14:00\nrules: [door-held-open]\ntests:\n  - name: quiet\n    given:\n      - { at: 0s, device: door-g12, values: { open: false } }\n    expect: { incidents: none }\n',
    );
    const report = await runRuleTests({ rulesDir: examples, siteFile: site, files: [bad, good] });
    assert.equal(report.ok, false);
    assert.equal(report.passed, 1);
    assert.deepEqual(report.problems, [
      {
        file: bad,
        line: 5,
        message: 'test "x": given[1].at: "soon" is not a time from the start (use 0s, 30s, 2m, 1h30m)',
      },
    ]);
    const text = formatRuleTestReport(report);
    assert.match(text, new RegExp(`\\n${bad}:5: test "x": given\\[1\\]\\.at: "soon" is not a time`));
    assert.match(text, /\n1 test, 1 passed, 0 failed, 1 problem\n$/);
  });

  it('refuses a test naming a device, field, rule, person or channel that does not exist, at its line', async () => {
    const file = testFile(
      'names.test.yaml',
      [
        'channels: [voice, pager:pigeon]',
        'tests:',
        '  - name: typos',
        '    rules: [door-held-open, door-held-opne]',
        '    given:',
        '      - { at: 0s, device: door-g13, values: { open: true } }',
        '      - { at: 1s, device: door-g12, values: { opne: true } }',
        '      - { at: 2s, device: coffee-lounge-1, values: { status: fault } }',
        '      - { at: 3s, acknowledge: door-forced, device: door-g12 }',
        '    expect:',
        '      notifications:',
        '        - { to: sec-amna, channel: sms }',
        '',
      ].join('\n'),
    );
    const report = await runRuleTests({ rulesDir: examples, siteFile: site, files: [file] });
    assert.equal(report.ok, false);
    assert.equal(report.notRun, 1);
    assert.deepEqual(
      report.problems.map((p) => `${p.file === file ? 'F' : p.file}:${p.line}: ${p.message}`),
      [
        'F:1: channels: "pager:pigeon": unknown channel type "pigeon" (known: console, webhook, email, sms, voice, modem, relay)',
      ],
    );
    // The channel fixed, the test's own names are checked.
    writeFileSync(file, readFileSync(file, 'utf8').replace('pager:pigeon', 'pager:sms'));
    const again = await runRuleTests({ rulesDir: examples, siteFile: site, files: [file] });
    assert.deepEqual(
      again.problems.map((p) => `${p.line}: ${p.message}`),
      [
        '3: test "typos": start: missing (on the file or the test, e.g. start: 2026-11-24T14:00)',
        `4: test "typos": rules: "door-held-opne" is not a rule of the rules directory (known: aed-removed, appliance-fault, appliance-repeated-faults, door-forced, door-held-open, door-outside-hours, sensor-offline, server-room-overheat, temperature-out-of-range)`,
      ],
    );
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('door-held-opne', 'door-forced')
        .replace('channels:', 'start: 2026-11-24T14:00\nchannels:'),
    );
    const third = await runRuleTests({ rulesDir: examples, siteFile: site, files: [file] });
    assert.deepEqual(
      third.problems.map((p) => `${p.line}: ${p.message}`),
      [
        '7: test "typos": device: "door-g13" is not a device of the site',
        '8: test "typos": values.opne: kind door has no such field (fields: open, badge)',
        '9: test "typos": values: the listen stage would refuse this appliance message (missing serial)',
        '13: test "typos": channel "sms" is not one this test has (console, voice, pager): add it to channels: on the file or the test',
        '13: test "typos": to: "sec-amna" is not a person or team of the site',
      ],
    );
  });

  it('watches only the devices a test names, unless it asks for all of them', async () => {
    const text = (devices: string) =>
      [
        'start: 2026-11-24T14:00',
        'rules: [sensor-offline]',
        'tests:',
        '  - name: one silent sensor',
        `    devices: ${devices}`,
        '    until: 3m',
        '    expect:',
        '      incidents:',
        '        - { rule: sensor-offline, device: temp-hall-b, opened: 2m }',
        '',
      ].join('\n');
    const scoped = await runRuleTests({
      rulesDir: examples,
      siteFile: site,
      files: [testFile('scope.test.yaml', text('[temp-hall-b]'))],
    });
    assert.equal(scoped.ok, true, formatRuleTestReport(scoped));
    const all = await runRuleTests({
      rulesDir: examples,
      siteFile: site,
      files: [testFile('all.test.yaml', text('all'))],
    });
    assert.equal(all.failed, 1);
    const out = formatRuleTestReport(all);
    // Every other device with a 2-minute heartbeat says nothing either.
    assert.match(out, /unexpected incident sensor-offline on door-g12 \(major\) opened at \+2m /);
    assert.match(out, /unexpected incident sensor-offline on aed-gate-g /);
    assert.doesNotMatch(out, /unexpected incident sensor-offline on door-lobby /);
  });

  it('says so when a rules directory has no tests', async () => {
    const dir = mkdtempSync(join(tmp, 'empty-'));
    const report = await runRuleTests({ rulesDir: dir, siteFile: site });
    assert.equal(report.ok, false);
    assert.deepEqual(report.problems, [
      { file: dir, line: 0, message: 'no rule tests here (*.test.yaml beside the rules)' },
    ]);
  });
});
