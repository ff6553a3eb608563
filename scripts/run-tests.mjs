#!/usr/bin/env node
// Finds every compiled test file and hands them to node's own test runner. (Node 20's `--test`
// does not expand globs itself.) Unit tests run in parallel; integration tests, which start real
// brokers and gateway processes and measure time, run one file at a time so they don't starve
// each other on a 2-core machine.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const dist = join(root, 'dist');

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = find(dist).sort();
if (filter.length > 0) files = files.filter((f) => filter.some((s) => f.includes(s)));
const isIntegration = (f) => f.includes(`${sep}test${sep}`) || f.includes(`${sep}bench${sep}`);
const unit = files.filter((f) => !isIntegration(f));
const integration = files.filter(isIntegration);

function run(group, list, concurrency) {
  if (list.length === 0) return 0;
  process.stdout.write(`\n== ${group}: ${list.length} files ==\n`);
  for (const f of list) process.stdout.write(`   ${relative(root, f)}\n`);
  const r = spawnSync(
    process.execPath,
    // A failed test must fail the run, not hang it: every test has a time limit, and a client a
    // failed test left open cannot keep the process alive after the last test.
    [
      '--test',
      `--test-concurrency=${concurrency}`,
      '--test-timeout=180000',
      '--test-force-exit',
      '--test-reporter=spec',
      ...list,
    ],
    { stdio: 'inherit', cwd: root, env: { ...process.env, VIGIE_TEST: '1' } },
  );
  return r.status ?? 1;
}

/** The example rules' own tests (*.test.yaml), run the way an integrator runs them: `vigie test-rules`. */
function ruleTests() {
  if (filter.length > 0) return 0;
  process.stdout.write('\n== rule tests: vigie test-rules rules/examples ==\n');
  const examples = join(root, 'rules/examples');
  const r = spawnSync(
    process.execPath,
    [join(dist, 'gateway/src/cli.js'), 'test-rules', examples, '--site', join(examples, 'site.yaml')],
    { stdio: 'inherit', cwd: root, env: { ...process.env, VIGIE_CONFIG: '' } },
  );
  return r.status ?? 1;
}

const a = run('unit tests', unit, 2);
const c = ruleTests();
const b = run('integration tests', integration, 1);
if (files.length === 0) {
  process.stderr.write('no test files found under dist/: did the build run?\n');
  process.exit(1);
}
process.exit(a !== 0 || b !== 0 || c !== 0 ? 1 : 0);
