import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { deepFreeze, readYamlConfig, schemaProblems, type LineOf } from './yaml-config.js';
import { configSchema, type Config } from './schema.js';

/** The package root (where package.json is): default site and rules paths are relative to it. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The only place that reads process.env: everything else receives the frozen Config. */
export interface ConfigSources {
  file?: string;
  env: Readonly<Record<string, string | undefined>>;
}

const ENV_OVERRIDES: ReadonlyArray<[string, string[], (v: string) => unknown]> = [
  ['VIGIE_DATA_DIR', ['dataDir'], String],
  ['VIGIE_ADMIN_TOKEN', ['auth', 'adminToken'], String],
  ['VIGIE_HTTP_PORT', ['http', 'port'], Number],
  ['VIGIE_MQTT_PORT', ['mqtt', 'port'], Number],
  ['VIGIE_LOG_LEVEL', ['log', 'level'], String],
  ['VIGIE_SITE', ['site'], String],
  ['VIGIE_RULES', ['rules'], String],
];

export function loadConfig(sources: ConfigSources): Readonly<Config> {
  const file = sources.file ?? sources.env.VIGIE_CONFIG;
  let raw: Record<string, unknown> = {};
  let lineOf: LineOf = () => 0;
  const where = file ?? '(defaults)';
  if (file) ({ raw, lineOf } = readYamlConfig(file));
  for (const [name, path, conv] of ENV_OVERRIDES) {
    const v = sources.env[name];
    if (v !== undefined && v !== '') setIn(raw, path, conv(v));
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = schemaProblems(parsed.error.issues, where, lineOf);
    throw new ConfigError('VIGIE_ERR_CONFIG_INVALID', problems);
  }
  const cfg = parsed.data;
  // Paths written in a file are relative to that file; defaults to the package (examples ship there).
  const base = file ? dirname(resolve(file)) : PACKAGE_ROOT;
  const fromFile = (key: 'site' | 'rules') => (file && raw[key] !== undefined ? base : PACKAGE_ROOT);
  cfg.site = abs(fromFile('site'), cfg.site);
  cfg.rules = abs(fromFile('rules'), cfg.rules);
  cfg.simulator.scenario = abs(PACKAGE_ROOT, cfg.simulator.scenario);
  if (cfg.crm.type === 'directory' && cfg.crm.csv !== undefined) cfg.crm.csv = abs(base, cfg.crm.csv);
  // The example site comes with its example customers, so the demo's appliance fault finds its owner.
  else if (cfg.crm.type === 'directory' && cfg.site === join(PACKAGE_ROOT, 'rules/examples/site.yaml'))
    cfg.crm.csv = join(PACKAGE_ROOT, 'rules/examples/customers.csv');
  cfg.dataDir =
    file && raw.dataDir !== undefined && !sources.env.VIGIE_DATA_DIR
      ? abs(base, cfg.dataDir)
      : resolve(cfg.dataDir);
  return deepFreeze(cfg);
}

function abs(base: string, p: string): string {
  return isAbsolute(p) ? p : join(base, p);
}

function setIn(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}
