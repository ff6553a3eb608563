import { resolve } from 'node:path';
import type { CrmConfig } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Database } from '../../store/db.js';
import type { Crm } from './crm.js';
import { DirectoryCrm } from './directory.js';
import { RestCrm } from './rest.js';

export interface CrmDeps {
  db: Database;
  logger: Logger;
  clock: Clock;
}

/** Problems logged one by one at start; past this, a count (a wrong file would flood the log). */
const MAX_LOGGED_PROBLEMS = 50;

/**
 * The CRM the configuration names. A directory with `csv` imports it now: its problems are logged
 * with file:line and never stop the gateway (the customers already in the directory still answer).
 * A REST configuration that cannot work (unknown field, bad URL template) throws VIGIE_ERR_CONFIG_INVALID.
 */
export function createCrm(cfg: CrmConfig, deps: CrmDeps): Crm {
  if (cfg.type === 'rest') return new RestCrm(cfg);
  const crm = new DirectoryCrm(deps.db);
  if (cfg.csv) importAtStart(crm, resolve(cfg.csv), deps);
  return crm;
}

function importAtStart(crm: DirectoryCrm, file: string, deps: CrmDeps): void {
  const log = deps.logger;
  try {
    const r = crm.importCsvFile(file, deps.clock.now());
    for (const p of r.problems.slice(0, MAX_LOGGED_PROBLEMS)) log.warn(`${p.file}:${p.line}: ${p.message}`);
    if (r.problems.length > MAX_LOGGED_PROBLEMS) {
      log.warn(`${file}: ${r.problems.length - MAX_LOGGED_PROBLEMS} more problems not shown`);
    }
    log.info('CRM directory imported', {
      file,
      customers: r.imported,
      assets: r.assets,
      moved: r.moved,
      problems: r.problems.length,
    });
  } catch (err) {
    log.error('CRM directory not imported', { file, error: (err as Error).message });
  }
}
