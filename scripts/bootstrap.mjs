#!/usr/bin/env node
// Runs before `npm test` (and, with --runtime, before `npm start`) so a fresh clone needs no other
// step: installs node_modules when missing or stale, and the Debian packages the tests talk to.
// Plain Node on purpose: it must run before any dependency exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runtimeOnly = process.argv.includes('--runtime');

// Debian packages the test suite starts as real services (command -> package).
const DEBIAN = [
  ['mosquitto', 'mosquitto'],
  ['mosquitto_pub', 'mosquitto-clients'],
  // Voice prompts are spoken by espeak-ng; the GSM modem is tested through a socat pty pair.
  ['espeak-ng', 'espeak-ng'],
  ['socat', 'socat'],
  // The contact-center uplink and the router are tested against a real JetStream server.
  ['nats-server', 'nats-server'],
  // The Node-RED editor (validation, the README's screenshot) is tested in a real headless browser.
  ['chromium', 'chromium'],
  // Telemetry (batches, the disk buffer through an outage, the Grafana queries) against a real InfluxDB 1.x.
  ['influxd', 'influxdb'],
  // The deployment files are checked, not run (no Docker engine): the systemd unit with
  // systemd-analyze, the Raspberry Pi install script with shellcheck.
  ['systemd-analyze', 'systemd'],
  ['shellcheck', 'shellcheck'],
];

function log(msg) {
  process.stdout.write(`[bootstrap] ${msg}\n`);
}

function run(cmd, args) {
  log(`${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`[bootstrap] "${cmd} ${args.join(' ')}" failed (exit ${r.status})\n`);
    process.exit(r.status ?? 1);
  }
}

function lockHash() {
  const lock = join(root, 'package-lock.json');
  return existsSync(lock) ? createHash('sha256').update(readFileSync(lock)).digest('hex') : 'none';
}

function nativeModulesLoad() {
  // A node_modules built for another Node ABI (20 vs 22) installs fine and fails at require time.
  const r = spawnSync(process.execPath, ['-e', "require('better-sqlite3')(':memory:').close()"], {
    cwd: root,
    stdio: 'ignore',
  });
  return r.status === 0;
}

function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.vigie-install');
  const want = `${lockHash()} ${process.version}`;
  const have = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : '';
  if (have === want && nativeModulesLoad()) return;
  if (existsSync(join(root, 'node_modules')) && have === '' && nativeModulesLoad() && !process.env.CI) {
    // Installed by hand with `npm install`: trust it, remember it.
    writeFileSync(marker, want);
    return;
  }
  run('npm', ['ci', '--no-audit', '--no-fund']);
  if (!nativeModulesLoad()) run('npm', ['rebuild', 'better-sqlite3']);
  writeFileSync(marker, want);
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureDebianPackages() {
  const missing = [...new Set(DEBIAN.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    process.stderr.write(
      `[bootstrap] the tests need these Debian packages: ${missing.join(' ')}\n` +
        `[bootstrap] install them with: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}\n`,
    );
    process.exit(1);
  }
  run('apt-get', ['update', '-qq']);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`apt-get install -y ${missing.join(' ')}`);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
}

ensureNodeModules();
if (!runtimeOnly) ensureDebianPackages();
