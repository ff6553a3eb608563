import type { CompiledRule, RuleEnv } from '../../../rules/src/index.js';
import { loadRuleSet, parseRuleFile, compileRules } from '../../../rules/src/index.js';
import type { Engine } from '../../../rules/src/engine.js';
import type { FileProblem } from '../../../rules/src/model.js';
import type { Logger } from '../core/log.js';
import type { Registry } from '../core/metrics.js';
import type { RuleSourceInfo } from '../api/ports.js';
import type { FlowRuleDoc, SourceProblem, SourceResult } from '../red/link.js';
import type { Site } from '../site/model.js';
import type { RuleSourceStore } from '../store/rule-sources.js';
import { compileFlowRules, sourceFile } from './flow-rules.js';
import { readRuleFiles, watchRuleDir, type RuleFile } from './rule-files.js';

export function ruleEnvFor(site: Site, channels: ReadonlySet<string>): RuleEnv {
  const targets = new Set<string>();
  for (const p of site.people) targets.add(`person:${p.id}`);
  for (const t of site.teams) targets.add(`team:${t.id}`);
  return {
    context: { badgeLists: site.badgeLists, schedules: site.schedules, timezone: site.timezone },
    kinds: new Set(Object.keys(site.kinds)),
    targets,
    channels,
    policies: new Set(Object.keys(site.policies)),
    templates: new Set(Object.keys(site.templates)),
    dispatch: new Set(Object.keys(site.dispatch)),
  };
}

/** One rule source (a Node-RED instance) and the set it last had accepted. */
interface Source {
  id: string;
  label: string;
  docs: FlowRuleDoc[];
  /** The documents as JSON: Node-RED sends the same set again on every deploy, and that must cost nothing. */
  key: string;
  updatedAt: number;
  /** What runs; empty when the stored set no longer compiles against today's site. */
  rules: CompiledRule[];
  running: boolean;
}

/**
 * Owns the live rule set: loads it, swaps it into the engine only when every file is valid (an
 * integrator's typo must never silence the rules that were running), and reloads on change.
 * The running set is the rule directory's rules plus each rule source's accepted set; a source is
 * replaced all at once, the same way and with the same compiler as the directory.
 */
export class RuleSetManager {
  private rules: CompiledRule[] = [];
  private byId = new Map<string, CompiledRule>();
  private dirRules: CompiledRule[] = [];
  private readonly sourceSets = new Map<string, Source>();
  private readonly sourceUpdates;
  private watcher: { close(): void } | undefined;
  private loading: Promise<boolean> | undefined;
  private readonly env: RuleEnv;
  private readonly reloads;
  private loadedListener: (() => void) | undefined;
  lastProblems: readonly FileProblem[] = [];
  loadedOnce = false;

  constructor(
    private readonly opts: {
      dir: string;
      siteFile: string;
      site: Site;
      channels: ReadonlySet<string>;
      engine: Engine;
      logger: Logger;
      metrics: Registry;
      /** Where the last valid rule set is kept, to run at start if the directory is invalid then. */
      lastGood?: {
        save(files: readonly RuleFile[]): void;
        load(): { savedAt: number; files: RuleFile[] } | undefined;
      };
      /** The accepted sets of rule sources (Node-RED flows), run from the start. */
      sources?: RuleSourceStore;
    },
  ) {
    this.env = ruleEnvFor(opts.site, opts.channels);
    this.reloads = opts.metrics.counter('vigie_rule_reloads_total', 'Rule set reloads by result');
    this.sourceUpdates = opts.metrics.counter(
      'vigie_rule_source_updates_total',
      'Rule sets sent by rule sources (Node-RED), by source and result',
    );
    opts.metrics.gauge('vigie_rules_loaded', 'Rules currently running', () => [[{}, this.rules.length]]);
    this.loadSources();
  }

  get current(): readonly CompiledRule[] {
    return this.rules;
  }

  rule(id: string): CompiledRule | undefined {
    return this.byId.get(id);
  }

  /** Resolves true when the new rule set is running, false when it was rejected (old one kept). */
  reload(): Promise<boolean> {
    // Serialise: a SIGHUP during a file-watch reload must not interleave two loads.
    const next = (this.loading ?? Promise.resolve(true)).then(() => this.doReload());
    this.loading = next;
    return next;
  }

  private async doReload(): Promise<boolean> {
    const { logger } = this.opts;
    const read = await readRuleFiles(this.opts.dir, [this.opts.siteFile]);
    const compiled = loadRuleSet(read.files, this.env);
    const problems = [...read.problems, ...compiled.problems, ...this.clashesWithSources(compiled.rules)];
    this.lastProblems = problems;
    if (problems.length > 0) {
      this.reloads.inc({ result: 'rejected' });
      for (const p of problems) logger.error(`rule rejected: ${p.file}:${p.line}: ${p.message}`);
      if (this.loadedOnce) {
        logger.warn(
          `rule set rejected (${problems.length} problem(s)); the previous ${this.rules.length} rule(s) keep running`,
        );
        return false;
      }
      // At start there is no "previous" in memory: fall back to the last set that loaded cleanly.
      const saved = this.opts.lastGood?.load();
      const fallback = saved && loadRuleSet(saved.files, this.env);
      if (
        saved &&
        fallback &&
        fallback.problems.length === 0 &&
        this.clashesWithSources(fallback.rules).length === 0
      ) {
        this.swapIn(fallback.rules);
        this.reloads.inc({ result: 'last_good' });
        logger.error(
          `rule set rejected (${problems.length} problem(s)); running the last valid rule set instead ` +
            `(${fallback.rules.length} rule(s), saved ${new Date(saved.savedAt).toISOString()}) until the files are fixed`,
        );
        return false;
      }
      logger.error(
        `rule set rejected (${problems.length} problem(s)) and no valid earlier rule set is stored`,
      );
      return false;
    }
    this.swapIn(compiled.rules);
    this.reloads.inc({ result: 'loaded' });
    try {
      this.opts.lastGood?.save(read.files);
    } catch (err) {
      logger.warn('could not store the rule set as the last valid one', { error: (err as Error).message });
    }
    logger.info(`rules loaded: ${compiled.rules.length} rule(s) from ${read.files.length} file(s)`, {
      rules: compiled.rules.map((r) => r.id),
    });
    return true;
  }

  private swapIn(rules: CompiledRule[]): void {
    this.dirRules = rules;
    this.loadedOnce = true;
    this.apply();
    this.loadedListener?.();
  }

  /** The engine keeps the state of every rule whose id and hash did not change (Engine.setRules). */
  private apply(): void {
    const rules = [...this.dirRules];
    for (const s of this.sourceSets.values()) rules.push(...s.rules);
    this.rules = rules;
    this.byId = new Map(rules.map((r) => [r.id, r]));
    this.opts.engine.setRules(rules);
  }

  /** Where each running rule is defined, leaving out the directory or one source (the one being replaced). */
  private owners(except: { dir?: boolean; source?: string }): Map<string, string> {
    const out = new Map<string, string>();
    if (!except.dir) for (const r of this.dirRules) out.set(r.id, `${r.file}:${r.line}`);
    for (const s of this.sourceSets.values()) {
      if (s.id !== except.source) for (const r of s.rules) out.set(r.id, sourceFile(s.id));
    }
    return out;
  }

  private clashesWithSources(rules: readonly CompiledRule[]): FileProblem[] {
    const taken = this.owners({ dir: true });
    return rules.flatMap((r) => {
      const where = taken.get(r.id);
      return where
        ? [{ file: r.file, line: r.line, message: `rule "${r.id}" is already defined in ${where}` }]
        : [];
    });
  }

  /** Compiles a source's set and checks its ids against every other rule running. */
  private check(
    id: string,
    docs: readonly FlowRuleDoc[],
  ): { rules: CompiledRule[]; problems: SourceProblem[] } {
    const compiled = compileFlowRules(id, docs, this.env);
    const taken = this.owners({ source: id });
    const problems = [...compiled.problems];
    for (const d of docs) {
      const rule = d.doc?.rule;
      const where = typeof rule === 'string' ? taken.get(rule) : undefined;
      if (where) {
        problems.push({
          nodeId: d.nodes.condition,
          rule: rule as string,
          message: `rule "${rule as string}" is already defined in ${where}`,
        });
      }
    }
    return { rules: compiled.rules, problems };
  }

  private loadSources(): void {
    const stored = this.opts.sources?.load() ?? [];
    for (const s of stored) {
      const { rules, problems } = this.check(s.id, s.rules);
      const running = problems.length === 0;
      this.sourceSets.set(s.id, {
        id: s.id,
        label: s.label,
        docs: s.rules,
        key: JSON.stringify(s.rules),
        updatedAt: s.updatedAt,
        rules: running ? rules : [],
        running,
      });
      if (running) continue;
      // The site changed since the set was accepted (a team renamed...): the source sends its set
      // again when it starts, and sees the problems then.
      for (const p of problems) this.opts.logger.error(`rule source "${s.id}": ${p.message}`);
      this.opts.logger.error(
        `the stored rules of source "${s.id}" no longer load (${problems.length} problem(s)); they do not run`,
      );
    }
    if (stored.length === 0) return;
    this.apply();
    const count = [...this.sourceSets.values()].reduce((n, s) => n + s.rules.length, 0);
    this.opts.logger.info(`rules of ${stored.length} rule source(s) loaded: ${count} rule(s)`);
  }

  /** Dry run of putSource: would this set be accepted? */
  validateSource(id: string, docs: readonly FlowRuleDoc[]): SourceResult {
    const { problems } = this.check(id, docs);
    return { ok: problems.length === 0, rules: ruleIds(docs), problems };
  }

  /**
   * Replaces every rule of source `id` with `docs`, all or nothing: with any problem the source's
   * previous rules keep running. Accepted sets are stored and run again after a restart.
   */
  putSource(id: string, label: string, docs: readonly FlowRuleDoc[]): SourceResult {
    const { logger, sources } = this.opts;
    const key = JSON.stringify(docs);
    const known = this.sourceSets.get(id);
    if (known?.running && known.key === key) {
      if (known.label !== label) {
        sources?.save(id, label, known.docs, known.updatedAt);
        known.label = label;
      }
      this.sourceUpdates.inc({ source: id, result: 'unchanged' });
      return { ok: true, rules: known.rules.map((r) => r.id), problems: [] };
    }
    const { rules, problems } = this.check(id, docs);
    if (problems.length > 0) {
      this.sourceUpdates.inc({ source: id, result: 'rejected' });
      for (const p of problems)
        logger.warn(`rule source "${id}": ${p.nodeId ? `node ${p.nodeId}: ` : ''}${p.message}`);
      logger.warn(
        `rule set of source "${id}" rejected (${problems.length} problem(s)); its previous ${known?.rules.length ?? 0} rule(s) keep running`,
      );
      return { ok: false, rules: ruleIds(docs), problems };
    }
    const updatedAt = Date.now();
    const copy = structuredClone([...docs]);
    // Stored before it runs: a set that runs must also be the one that runs after a restart.
    sources?.save(id, label, copy, updatedAt);
    this.sourceSets.set(id, { id, label, docs: copy, key, updatedAt, rules, running: true });
    this.apply();
    this.sourceUpdates.inc({ source: id, result: 'loaded' });
    logger.info(`rule source "${id}" (${label}): ${rules.length} rule(s) loaded`, {
      rules: rules.map((r) => r.id),
    });
    this.loadedListener?.();
    return { ok: true, rules: rules.map((r) => r.id), problems: [] };
  }

  /** Stops and forgets the rules of source `id`; false when there was no such source. */
  removeSource(id: string): boolean {
    const known = this.sourceSets.get(id);
    if (!known) return false;
    this.opts.sources?.remove(id);
    this.sourceSets.delete(id);
    this.apply();
    this.sourceUpdates.inc({ source: id, result: 'removed' });
    this.opts.logger.info(`rule source "${id}" removed: ${known.rules.length} rule(s) stopped`);
    this.loadedListener?.();
    return true;
  }

  sources(): RuleSourceInfo[] {
    return [...this.sourceSets.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((s) => ({ id: s.id, label: s.label, rules: s.rules.map((r) => r.id), updatedAt: s.updatedAt }));
  }

  /** Where a running rule comes from: its rule file, or `node-red:SOURCE`. */
  sourceOf(ruleId: string): string | undefined {
    return this.byId.get(ruleId)?.file;
  }

  /** Checks a rule file's text against this site without loading it (API: POST /rules/validate). */
  validate(file: string, text: string): { ok: boolean; rules: string[]; problems: FileProblem[] } {
    const parsed = parseRuleFile(file, text);
    if (parsed.problems.length > 0) return { ok: false, rules: [], problems: parsed.problems };
    const compiled = compileRules(parsed.specs, this.env);
    const problems = [...compiled.problems, ...this.clashesWithSources(compiled.rules)];
    return { ok: problems.length === 0, rules: compiled.rules.map((r) => r.id), problems };
  }

  /** Called after a new rule set is running (the pipeline re-evaluates what the change touched). */
  onLoaded(listener: () => void): void {
    this.loadedListener = listener;
  }

  watch(): void {
    this.watcher = watchRuleDir(this.opts.dir, () => void this.reload());
  }

  close(): void {
    this.watcher?.close();
  }
}

function ruleIds(docs: readonly FlowRuleDoc[]): string[] {
  return docs.flatMap((d) => (typeof d.doc?.rule === 'string' ? [d.doc.rule] : []));
}
