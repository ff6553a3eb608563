import type { CompiledRule, RuleEnv } from '../../../rules/src/index.js';
import { loadRuleSet, parseRuleFile, compileRules } from '../../../rules/src/index.js';
import type { Engine } from '../../../rules/src/engine.js';
import type { FileProblem } from '../../../rules/src/model.js';
import type { Logger } from '../core/log.js';
import type { Registry } from '../core/metrics.js';
import type { Site } from '../site/model.js';
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

/**
 * Owns the live rule set: loads it, swaps it into the engine only when every file is valid (an
 * integrator's typo must never silence the rules that were running), and reloads on change.
 */
export class RuleSetManager {
  private rules: CompiledRule[] = [];
  private byId = new Map<string, CompiledRule>();
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
    },
  ) {
    this.env = ruleEnvFor(opts.site, opts.channels);
    this.reloads = opts.metrics.counter('vigie_rule_reloads_total', 'Rule set reloads by result');
    opts.metrics.gauge('vigie_rules_loaded', 'Rules currently running', () => [[{}, this.rules.length]]);
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
    const problems = [...read.problems, ...compiled.problems];
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
      if (saved && fallback && fallback.problems.length === 0) {
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
    this.rules = rules;
    this.byId = new Map(rules.map((r) => [r.id, r]));
    this.opts.engine.setRules(rules);
    this.loadedOnce = true;
    this.loadedListener?.();
  }

  /** Checks a rule file's text against this site without loading it (API: POST /rules/validate). */
  validate(file: string, text: string): { ok: boolean; rules: string[]; problems: FileProblem[] } {
    const parsed = parseRuleFile(file, text);
    if (parsed.problems.length > 0) return { ok: false, rules: [], problems: parsed.problems };
    const compiled = compileRules(parsed.specs, this.env);
    return {
      ok: compiled.problems.length === 0,
      rules: compiled.rules.map((r) => r.id),
      problems: compiled.problems,
    };
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
