import type { FileProblem } from '../../../rules/src/model.js';
import { loadRuleSet } from '../../../rules/src/index.js';
import { ConfigError } from '../core/errors.js';
import { loadSite } from '../site/load.js';
import { ruleEnvFor } from './manager.js';
import { readRuleFiles } from './rule-files.js';

/** Every problem of a rules directory against a site, as `vigie validate` prints them. */
export async function validateRuleDir(
  dir: string,
  siteFile: string,
  channels: ReadonlySet<string> = new Set(['console']),
): Promise<FileProblem[]> {
  let site;
  try {
    site = loadSite(siteFile);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  const read = await readRuleFiles(dir, [siteFile]);
  const compiled = loadRuleSet(read.files, ruleEnvFor(site, channels));
  return [...read.problems, ...compiled.problems];
}
