import { isMap, isScalar, LineCounter, parseDocument, stringify, type Node, type Pair } from 'yaml';
import type { CompiledRule, RuleEnv } from '../../../rules/src/index.js';
import { compileRules, parseRuleFile } from '../../../rules/src/index.js';
import type { FileProblem } from '../../../rules/src/model.js';
import type { FlowRuleDoc, SourceProblem } from '../red/link.js';

// Rules authored in Node-RED reach the engine through the very parser and compiler of rule files:
// each document is written out as YAML and read back, so a flow rule means exactly what the same
// YAML rule means. What differs is only where a problem is shown: on the node that set that key.

/** The `file` of every rule of a source, as rule lists and messages show it. */
export const sourceFile = (sourceId: string): string => `node-red:${sourceId}`;

const TOP = ['rule', 'name', 'severity', 'description', 'listen', 'route', 'engage'];

export function compileFlowRules(
  sourceId: string,
  docs: readonly FlowRuleDoc[],
  env: RuleEnv,
): { rules: CompiledRule[]; problems: SourceProblem[] } {
  const file = sourceFile(sourceId);
  const rules: CompiledRule[] = [];
  const problems: SourceProblem[] = [];
  const duplicated = duplicates(docs, problems);
  for (const d of docs) {
    const ruleId = typeof d.doc?.rule === 'string' ? d.doc.rule : undefined;
    const text = stringify(ordered(d.doc), { lineWidth: 0 });
    const parsed = parseRuleFile(file, text);
    const compiled = parsed.problems.length > 0 ? undefined : compileRules(parsed.specs, env);
    const found = compiled ? compiled.problems : parsed.problems;
    if (found.length > 0) {
      const where = keyLines(text);
      for (const p of found) problems.push(toSourceProblem(p, d, ruleId, where));
      continue;
    }
    // A flow rule has no line of its own: line 1 of its source, like a one-rule file.
    for (const r of compiled!.rules) if (!duplicated.has(r.id)) rules.push({ ...r, file, line: 1 });
  }
  return { rules, problems };
}

/** The same id on two condition nodes: a problem on both, since either may be the one to rename. */
function duplicates(docs: readonly FlowRuleDoc[], problems: SourceProblem[]): Set<string> {
  const byId = new Map<string, FlowRuleDoc[]>();
  for (const d of docs) {
    if (typeof d.doc?.rule !== 'string') continue;
    byId.set(d.doc.rule, [...(byId.get(d.doc.rule) ?? []), d]);
  }
  const out = new Set<string>();
  for (const [id, same] of byId) {
    if (same.length < 2) continue;
    out.add(id);
    for (const d of same) {
      const others = same.filter((o) => o !== d).map(describeNode);
      problems.push({
        nodeId: d.nodes.condition,
        rule: id,
        message: `rule: "${id}" is also the rule id of ${others.join(', ')} (rule ids must be unique)`,
      });
    }
  }
  return out;
}

function describeNode(d: FlowRuleDoc): string {
  const flow = d.flow ? ` in flow "${d.flow.label ?? d.flow.id}"` : '';
  return `condition node ${d.nodes.condition}${flow}`;
}

/** The keys in the order a person writes them, so the generated text (and its lines) read naturally. */
function ordered(doc: unknown): unknown {
  // Anything but a map is left for the parser to refuse ("a rule must be a map").
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return doc;
  const out: Record<string, unknown> = {};
  const map = doc as Record<string, unknown>;
  for (const k of TOP) if (k in map) out[k] = map[k];
  for (const k of Object.keys(map)) if (!(k in out)) out[k] = map[k];
  return out;
}

interface Span {
  path: string;
  from: number;
  to: number;
}

/** Top-level keys and the keys one level below them, with the lines each one spans. */
function keyLines(text: string): Span[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false });
  const spans: Span[] = [];
  const walk = (node: unknown, prefix: string, depth: number) => {
    if (!isMap(node)) return;
    for (const pair of node.items as Pair<unknown, unknown>[]) {
      if (!isScalar(pair.key) || !pair.key.range) continue;
      const path = prefix + String(pair.key.value);
      const from = lc.linePos(pair.key.range[0]).line;
      const range = (pair.value as Node | null)?.range;
      const to = range ? lc.linePos(Math.max(range[0], range[1] - 1)).line : from;
      spans.push({ path, from, to });
      if (depth < 2) walk(pair.value, `${path}.`, depth + 1);
    }
  };
  walk(doc.contents, '', 1);
  return spans;
}

function toSourceProblem(
  p: FileProblem,
  d: FlowRuleDoc,
  rule: string | undefined,
  spans: readonly Span[],
): SourceProblem {
  const nodeId = nodeFor(pathAt(p, spans), d.nodes);
  return { ...(nodeId ? { nodeId } : {}), ...(rule ? { rule } : {}), message: p.message };
}

/** The deepest key whose lines hold the problem; a problem on a section's own line is refined by its message. */
function pathAt(p: FileProblem, spans: readonly Span[]): string {
  let path = '';
  for (const s of spans) {
    if (p.line >= s.from && p.line <= s.to && s.path.length > path.length) path = s.path;
  }
  // "listen.devices: missing" sits on the `listen:` line; its message names the key it is about.
  const named = /^([a-zA-Z]+(?:\.[a-zA-Z]+)?)/.exec(p.message)?.[1];
  if (named && (path === '' || (!path.includes('.') && named.startsWith(`${path}.`)))) path = named;
  return path;
}

function nodeFor(path: string, nodes: FlowRuleDoc['nodes']): string | undefined {
  const top = path.split('.')[0];
  if (path === 'listen.devices') return nodes.listen ?? nodes.condition;
  if (top === 'route' || path === 'engage.policy') return nodes.route ?? nodes.condition;
  if (top === 'engage') return nodes.engage ?? nodes.condition;
  return nodes.condition;
}
