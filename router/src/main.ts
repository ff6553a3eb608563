#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { systemClock } from '../../gateway/src/core/clock.js';
import { ConfigError } from '../../gateway/src/core/errors.js';
import { createLogger } from '../../gateway/src/core/log.js';
import { loadRouterConfig } from './config.js';
import { createRouterHttp } from './http.js';
import { RouterService } from './service.js';

// node dist/router/src/main.js --config router.yaml
// Runs until SIGTERM or SIGINT: then it finishes the work items it holds, leaves the queue group and exits 0.

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  if (!values.config) {
    process.stderr.write('usage: router --config FILE\n');
    return 2;
  }
  let cfg;
  try {
    cfg = loadRouterConfig(values.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`invalid configuration:\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(cfg.log.level, 'router', undefined, 'json');
  const service = new RouterService(cfg, { log, clock: systemClock });
  const http = createRouterHttp(service, log.child('router-http'));
  const port = await http.listen();
  log.info('http listening', { host: cfg.http.host, port, instance: cfg.instance });

  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string, code: number) => {
      if (stopping) return resolve(1);
      stopping = true;
      log.info('stopping', { why });
      void Promise.allSettled([http.close(), service.stop()]).then(() => resolve(code));
    };
    process.on('SIGTERM', () => stop('SIGTERM', 0));
    process.on('SIGINT', () => stop('SIGINT', 0));
    // A router that cannot start (bad credentials, no JetStream) exits for its supervisor to see.
    service.start().catch((err: unknown) => {
      log.error('router failed to start', { error: (err as Error).message });
      stop('start failed', 1);
    });
  });
  const code = await stopped;
  log.info('stopped', { code });
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`router: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
