import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, extname, join } from 'node:path';
import type { CompiledRule } from '../../../rules/src/index.js';
import { loadRuleSet } from '../../../rules/src/index.js';
import type { FileProblem } from '../../../rules/src/model.js';
import { loadConfig, PACKAGE_ROOT } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import type { FlowRuleDoc } from '../red/link.js';
import { compileFlowRules } from '../ruleset/flow-rules.js';
import { ruleEnvFor } from '../ruleset/manager.js';
import { readRuleFiles } from '../ruleset/rule-files.js';
import { loadSite } from '../site/load.js';
import type { Site } from '../site/model.js';

// What a replay runs: a site, a rule set compiled against it exactly as RuleSetManager does, and
// the channels it pretends to have. Channels are only names and types here: the simulation gives
// each one a dry-run twin, so naming `sms` costs no provider account and sends nothing.

export interface Workbench {
  site: Site;
  config: Readonly<Config>;
  rules: readonly CompiledRule[];
  /** Dry-run channel name -> type. */
  channels: ReadonlyMap<string, string>;
}

export interface WorkbenchInputs {
  rulesDir: string;
  siteFile: string;
  config?: Readonly<Config>;
  /** Node-RED flows.json files. */
  flows?: readonly string[];
  /** 'name' (a channel type used as its own name) or 'name:type'. */
  channels?: readonly string[];
}

/** Channel types a replay can pretend to have (engage/registry.ts builds the real ones). */
export const DRY_RUN_TYPES: readonly string[] = [
  'console',
  'webhook',
  'email',
  'sms',
  'voice',
  'modem',
  'relay',
];

export function workbenchFrom(parts: Workbench): Workbench {
  return { ...parts, channels: new Map(parts.channels) };
}

export async function loadWorkbench(
  inputs: WorkbenchInputs,
): Promise<{ workbench?: Workbench; problems: FileProblem[] }> {
  const config = inputs.config ?? loadConfig({ env: {} });
  const problems: FileProblem[] = [];
  const channels = dryRunChannels(config, inputs.channels ?? [], problems);
  let site: Site;
  try {
    site = loadSite(inputs.siteFile, { channels: [...channels.keys()] });
  } catch (err) {
    if (err instanceof ConfigError) return { problems: [...problems, ...err.problems] };
    throw err;
  }
  const env = ruleEnvFor(site, new Set(channels.keys()));
  // As RuleSetManager.doReload: the site file may sit among the rules (the examples folder does).
  const read = await readRuleFiles(inputs.rulesDir, [inputs.siteFile]);
  const compiled = loadRuleSet(read.files, env);
  problems.push(...read.problems, ...compiled.problems);
  const rules: CompiledRule[] = [...compiled.rules];
  const where = new Map(rules.map((r) => [r.id, `${r.file}:${r.line}`]));
  const flowFiles = inputs.flows ?? [];
  for (const file of flowFiles) {
    const sourceId = flowFiles.length === 1 ? 'node-red' : basename(file, extname(file));
    const docs = await flowDocs(file, problems);
    if (!docs) continue;
    const flow = compileFlowRules(sourceId, docs, env);
    for (const p of flow.problems)
      problems.push({ file, line: 0, message: p.nodeId ? `node ${p.nodeId}: ${p.message}` : p.message });
    for (const r of flow.rules) {
      const before = where.get(r.id);
      if (before) {
        const node = docs.find((d) => d.doc.rule === r.id)?.nodes.condition;
        problems.push({
          file,
          line: 0,
          message: `${node ? `node ${node}: ` : ''}rule "${r.id}" is already defined in ${before}`,
        });
        continue;
      }
      where.set(r.id, file);
      rules.push(r);
    }
  }
  return { workbench: { site, config, rules, channels }, problems };
}

/** The configured channels, `console` (always there, as in the gateway), and the ones asked for. */
function dryRunChannels(
  config: Readonly<Config>,
  asked: readonly string[],
  problems: FileProblem[],
): Map<string, string> {
  const out = new Map<string, string>(Object.entries(config.channels).map(([n, c]) => [n, c.type]));
  if (!out.has('console')) out.set('console', 'console');
  for (const spec of asked) {
    const [name, type = name, extra] = spec.split(':');
    const bad = (message: string) => problems.push({ file: '--channels', line: 0, message });
    if (extra !== undefined || !/^[a-z0-9][a-z0-9-]*$/.test(name))
      bad(`"${spec}": write a channel as NAME or NAME:TYPE (lower-case name)`);
    else if (!DRY_RUN_TYPES.includes(type))
      bad(`"${spec}": unknown channel type "${type}" (known: ${DRY_RUN_TYPES.join(', ')})`);
    else if (out.has(name) && out.get(name) !== type)
      bad(`"${spec}": channel "${name}" is already a ${out.get(name)} channel`);
    else out.set(name, type);
  }
  return out;
}

interface FlowNode {
  id: string;
  type: string;
  [field: string]: unknown;
}
type Assemble = (nodes: readonly FlowNode[]) => {
  rules: { gateway: string; rule: FlowRuleDoc }[];
  problems: { nodeId: string; message: string }[];
};

let assembleFn: Assemble | undefined;
/** The Node-RED nodes' own reader of flows (CommonJS, shared with the editor and the runtime). */
function assemble(nodes: readonly FlowNode[]): ReturnType<Assemble> {
  assembleFn ??= (
    createRequire(join(PACKAGE_ROOT, 'rules/node-red/lib/assemble.js'))(
      join(PACKAGE_ROOT, 'rules/node-red/lib/assemble.js'),
    ) as { assemble: Assemble }
  ).assemble;
  return assembleFn(nodes);
}

/** The rule documents a flows file declares, or undefined (with problems) when it cannot be read. */
async function flowDocs(file: string, problems: FileProblem[]): Promise<FlowRuleDoc[] | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    problems.push({ file, line: 0, message: `cannot read the flows file: ${(err as Error).message}` });
    return undefined;
  }
  // Node-RED's admin API (flows v2) wraps the node list: { rev, flows: [...] }.
  const nodes = Array.isArray(parsed)
    ? parsed
    : parsed && typeof parsed === 'object' && Array.isArray((parsed as { flows?: unknown }).flows)
      ? (parsed as { flows: unknown[] }).flows
      : undefined;
  if (!nodes) {
    problems.push({ file, line: 0, message: 'a flows file is a JSON array of nodes' });
    return undefined;
  }
  const assembled = assemble(nodes.filter((n): n is FlowNode => typeof n === 'object' && n !== null));
  for (const p of assembled.problems)
    problems.push({ file, line: 0, message: `node ${p.nodeId}: ${p.message}` });
  return assembled.rules.map((r) => r.rule);
}
