import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXAMPLE_RULES, EXAMPLE_SITE, runCli, tempDir } from './support/gateway-process.js';

// The workbench from a shell, as an integrator (or a deployment pipeline) uses it on the example
// hour of the airport: the exit status is the contract a CI job gates on.

const RECORDING = join(EXAMPLE_RULES, 'recordings/airport-hour.jsonl');

/** A copy of the example rules with one edit, as a proposed change would be. */
function proposed(file: string, from: string | RegExp, to: string): string {
  const dir = join(tempDir(), 'rules');
  // The rule files only: the site stays where --site says (a site.yaml among the rules is a rule file).
  cpSync(EXAMPLE_RULES, dir, { recursive: true, filter: (src) => !src.endsWith('site.yaml') });
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const edited = text.replace(from, to);
  assert.notEqual(edited, text, `the edit applies to ${file}`);
  writeFileSync(path, edited);
  return dir;
}

const diff = (dir: string) =>
  runCli([
    'diff',
    '--base',
    EXAMPLE_RULES,
    '--proposed',
    dir,
    '--site',
    EXAMPLE_SITE,
    '--channels',
    'voice,sms',
    RECORDING,
  ]);

test('vigie replay prints what the example hour would open and who would be called, sending nothing', async () => {
  const r = await runCli([
    'replay',
    '--site',
    EXAMPLE_SITE,
    '--rules',
    EXAMPLE_RULES,
    '--channels',
    'voice,sms',
    RECORDING,
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /span: {4}2026-01-05 18:30:00 -> 2026-01-05 19:30:00 \(Europe\/Paris\)/);
  assert.match(r.out, /\+00:02:35 {2}opened {6}MAJOR {4}door-held-open on door-g12/);
  assert.match(r.out, /\+00:30:05 {2}opened {6}CRITICAL aed-removed on aed-hall-b/);
  assert.match(r.out, /-> voice to Amina Diallo \(person:sec-amina\), step 1/);
  assert.match(r.out, /nothing was sent/);
});

test('vigie diff: the same rules change nothing and pass the gate', async () => {
  const r = await diff(EXAMPLE_RULES);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /no difference/);
});

test('vigie diff: a longer window opens later (passes); one that hides an incident fails the gate', async () => {
  // The hall got warm at +00:06:00 and stayed so for 7 minutes: 45 s instead of 30 s opens 15 s later.
  const later = await diff(proposed('temperature.yaml', 'for: 30s', 'for: 45s'));
  assert.equal(later.code, 0, later.err);
  assert.match(later.out, /temperature-out-of-range on temp-hall-b/);
  assert.match(later.out, /opened 15 s later/);
  // The door held open at +00:02:05 closed 45 s later: a 1-minute window never opens it.
  const hidden = await diff(proposed('door.yaml', 'for: 30s', 'for: 1m'));
  assert.equal(hidden.code, 1, hidden.out);
  assert.match(hidden.out, /removed/i);
  assert.match(hidden.err, /must not go live/);
  assert.match(hidden.err, /removes major incident door-held-open on door-g12 at \+00:02:35/);
  // And people are called less: Amina's voice call for it is gone.
  assert.match(hidden.out, /Amina Diallo \(person:sec-amina\) voice \d+ -> \d+ \(-1\)/);
});

test('vigie diff: a change that makes an incident critical fails the gate', async () => {
  const r = await diff(
    proposed(
      'door.yaml',
      /rule: door-forced\nname: Door forced\nseverity: major/,
      'rule: door-forced\nname: Door forced\nseverity: critical',
    ),
  );
  assert.equal(r.code, 1, r.out);
  assert.match(r.err, /makes door-forced on door-staff-b critical \(was major\)/);
});

test('vigie replay and diff refuse what they cannot use: a broken rule (file:line), a file that is no recording', async () => {
  const broken = await runCli([
    'replay',
    '--site',
    EXAMPLE_SITE,
    '--rules',
    proposed('door.yaml', 'for: 30s', 'for: soon'),
    RECORDING,
  ]);
  assert.equal(broken.code, 2);
  assert.match(broken.err, /door\.yaml:10: .*soon/);
  const dir = tempDir();
  const notRecording = join(dir, 'notes.jsonl');
  writeFileSync(notRecording, 'hello\n{"x":1}\n');
  const r = await runCli(['replay', '--site', EXAMPLE_SITE, '--rules', EXAMPLE_RULES, notRecording]);
  assert.equal(r.code, 2);
  assert.match(r.err, /nothing replayed/);
  assert.match(r.err, /line 1: not JSON/);
});

test('vigie test-rules fails, with expected and got, when a rule no longer does what its tests say', async () => {
  const ok = await runCli(['test-rules', EXAMPLE_RULES, '--site', EXAMPLE_SITE]);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /\d+ tests, (\d+) passed, 0 failed/);
  const r = await runCli([
    'test-rules',
    proposed('door.yaml', 'for: 30s', 'for: 20s'),
    '--site',
    EXAMPLE_SITE,
  ]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /FAIL .*door\.test\.yaml:\d+/);
  assert.match(r.out, /expected: +opened at \+30s/);
  assert.match(r.out, /got: +opened at \+20s/);
});
