#!/usr/bin/env node
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig, PACKAGE_ROOT } from './config/load.js';
import type { Config } from './config/schema.js';
import { ConfigError, formatProblems, VigieError } from './core/errors.js';
import { openDatabase } from './store/db.js';
import { importCsvFile } from './route/crm/directory.js';
import { systemClock } from './core/clock.js';
import { createLogger, type Logger } from './core/log.js';
import { generateToken, sha256Hex } from './api/auth.js';
import { hashPassword } from './listen/credentials.js';
import { startGateway } from './gateway.js';
import { validateRuleDir } from './ruleset/validate-dir.js';
import { WORKBENCH_USAGE, workbenchCommand } from './workbench/commands.js';

const USAGE = `Vigie: edge IoT gateway (listen, route, engage)

usage:
  vigie start [--config FILE]        run the gateway (config: FILE or $VIGIE_CONFIG; defaults otherwise)
  vigie demo  [--config FILE]        run the gateway with the airport example and the device simulator
  vigie validate [--rules DIR] [--site FILE]   check rule files; exit 1 with file:line: reason on problems
  vigie hash-password [PASSWORD]     scrypt hash for a device's or client's MQTT password (site file)
  vigie token                        a new random API token and the sha256 to put in the config
  vigie crm import FILE.csv [--config FILE]   import customers into the built-in CRM directory

test your rules before deploying (README "Test your rules before deploying"):
${WORKBENCH_USAGE}`;

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function readSecret(given: string | undefined): Promise<string> {
  if (given) return given;
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) return line.trim();
  return '';
}

async function run(cmd: string, args: string[]): Promise<number> {
  switch (cmd) {
    case 'start':
    case 'demo':
      return serve(cmd === 'demo', args);
    case 'validate': {
      const config = loadConfig({ file: arg(args, '--config'), env: process.env });
      const problems = await validateRuleDir(
        arg(args, '--rules') ?? config.rules,
        arg(args, '--site') ?? config.site,
      );
      for (const p of problems) process.stderr.write(`${p.file}:${p.line}: ${p.message}\n`);
      if (problems.length === 0) process.stdout.write('rules OK\n');
      return problems.length === 0 ? 0 : 1;
    }
    case 'record':
    case 'replay':
    case 'diff':
    case 'test-rules':
      return workbenchCommand(cmd, args);
    case 'hash-password': {
      const pw = await readSecret(args[0]);
      if (pw.length < 8) {
        process.stderr.write('a password needs at least 8 characters\n');
        return 2;
      }
      process.stdout.write((await hashPassword(pw)) + '\n');
      return 0;
    }
    case 'crm': {
      if (args[0] !== 'import' || !args[1]) {
        process.stderr.write('usage: vigie crm import FILE.csv [--config FILE]\n');
        return 2;
      }
      const config = loadConfig({ file: arg(args, '--config'), env: process.env });
      mkdirSync(config.dataDir, { recursive: true });
      const db = openDatabase(config.dataDir);
      try {
        const r = importCsvFile(db, resolve(args[1]), Date.now());
        if (r.problems.length > 0) process.stderr.write(formatProblems(r.problems) + '\n');
        process.stdout.write(`imported ${r.imported} customers, ${r.assets} appliances (${r.moved} moved)\n`);
        // The good rows are in; the exit code still tells a script that some were not.
        return r.problems.length > 0 ? 1 : 0;
      } finally {
        db.close();
      }
    }
    case 'token': {
      const token = generateToken();
      process.stdout.write(`token:  ${token}\nsha256: ${sha256Hex(token)}\n`);
      return 0;
    }
    default:
      process.stdout.write(USAGE);
      return cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}

async function serve(demo: boolean, args: string[]): Promise<number> {
  const config = loadConfig({ file: arg(args, '--config'), env: process.env });
  const logger = createLogger(config.log.level, 'vigie', undefined, config.log.format);
  const adminToken = config.auth.adminToken ?? generateToken();
  const gw = await startGateway({ config, clock: systemClock, logger, adminToken });
  const api = `http://127.0.0.1:${gw.httpPort}/api/v1`;
  logger.info(`Vigie ready: site ${gw.site.id}, MQTT port ${gw.mqttPort ?? config.mqtt.url}, API ${api}`);
  const consoleUrl = config.console.enabled ? `http://127.0.0.1:${gw.httpPort}/console/` : undefined;
  if (!config.auth.adminToken) {
    // Printed once so a first-time user can use the API; set VIGIE_ADMIN_TOKEN to choose it.
    process.stdout.write(
      `\n  Admin token (generated, set VIGIE_ADMIN_TOKEN to fix it): ${adminToken}\n` +
        (consoleUrl ? `  Live console: ${consoleUrl} (log in with the token)\n` : '') +
        `  Try: curl -H "Authorization: Bearer ${adminToken}" ${api}/incidents\n\n`,
    );
  } else if (consoleUrl) logger.info(`live console at ${consoleUrl}`);
  const sim = demo || config.simulator.enabled ? startSimulator(config, gw.mqttPort, logger) : undefined;
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping`);
      // The gateway first: a simulator going away says "offline" for every device, which would
      // otherwise open a sensor-offline incident per device on the way out.
      gw.stop().then(
        () => {
          sim?.kill('SIGTERM');
          resolve(0);
        },
        (err) => {
          sim?.kill('SIGTERM');
          logger.error('error while stopping', { error: String(err) });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

function startSimulator(
  config: Readonly<Config>,
  mqttPort: number | undefined,
  logger: Logger,
): ChildProcess | undefined {
  const cli = join(PACKAGE_ROOT, 'dist/firmware-sim/src/cli.js');
  if (!existsSync(cli) || mqttPort === undefined) {
    logger.warn('device simulator not started (not built, or no embedded broker)');
    return undefined;
  }
  const child = spawn(
    process.execPath,
    [cli, '--url', `mqtt://127.0.0.1:${mqttPort}`, '--scenario', config.simulator.scenario],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const simLog = logger.child('simulator');
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (l) => simLog.info(l));
  }
  child.on('exit', (code) => simLog.info(`simulator exited (${code})`));
  logger.info(`device simulator started: ${config.simulator.scenario}`);
  return child;
}

const [cmd = 'help', ...rest] = process.argv.slice(2);
run(cmd, rest).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration rejected:\n${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof VigieError) process.stderr.write(`${err.code}: ${err.message}\n`);
    else process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
